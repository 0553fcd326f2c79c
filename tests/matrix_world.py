"""
The world of the cross-app isolation matrix (tests/test_isolation_matrix.py): 3 states,
8 organizations, 4 people in each, and shared objects of every type over every TLP
label and three audiences, assistance requests and evidence, each carrying a canary
string; and the oracle, written from DESIGN.md ("TLP 2.0: who may see what"), the
routing rule, docs/assistance.md and docs/evidence.md ("Who sees what"), never from
the code.

Every object is recorded twice: in the database through the platform's own services
(or the reports factories for events), and here as a `Shared` built from the inputs
alone. The oracle reads only the `Shared` records.
"""

from __future__ import annotations

import io
import itertools
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model

from csirtnet.accounts.models import Membership
from csirtnet.directory.models import (
    MemberState,
    Organization,
    OrganizationKind,
    PointOfContact,
)

LABELS = ["clear", "green", "amber", "amber+strict", "red"]
CANARY = re.compile(r"CANARY-[0-9a-f]{12}")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
REFERENCE = re.compile(r"(?:INC-\d{4}-\d{6}|AR-\d{4}-\d{5,})")
SECRETARIAT = "CICTE"
NATIONAL_CSIRT = {"UY": "CERTuy", "AR": "CERT.ar", "MX": "CERT-MX"}
# short name -> (state, kind, is_member); None: the loaded directory's entry as it is.
ORGANIZATIONS: dict[str, tuple[str, str, bool] | None] = {
    "CERTuy": None,
    "CERT.ar": None,
    "CERT-MX": None,
    "CSIRT-ENERGIA-UY": ("UY", OrganizationKind.SECTORAL_CSIRT, True),
    "DCIC-AR": ("AR", OrganizationKind.LAW_ENFORCEMENT, True),
    "POLCIB-MX": ("MX", OrganizationKind.LAW_ENFORCEMENT, True),
    "OBSERVER-MX": ("MX", OrganizationKind.OTHER, False),
    SECRETARIAT: None,
}
PEOPLE_PER_ORGANIZATION = 4
STAFF = ["cicte-4", "certuy-4"]  # the first a superuser too
# Three audiences: nobody else; Argentina (its national CSIRT, by affected state, and
# its law-enforcement unit); Mexico with its law-enforcement unit and a non-member. A
# TLP:RED object also names people (a secretariat member among them) and still
# addresses the organizations, whose other members must see nothing.
AUDIENCES: list[dict[str, list[str]]] = [
    {"states": [], "invited": [], "named": []},
    {"states": ["AR"], "invited": ["DCIC-AR"], "named": ["cert.ar-1", "dcic-ar-2"]},
    {
        "states": ["MX"],
        "invited": ["POLCIB-MX", "OBSERVER-MX"],
        "named": ["observer-mx-2", "cicte-1"],
    },
]
# Values shared by incidents' observables and indicators' patterns, for correlation.
VALUES = ["203.0.113.10", "203.0.113.11", "198.51.100.7", "198.51.100.8"]
LAW_ENFORCEMENT = {"DCIC-AR", "POLCIB-MX"}
INCIDENT_OWNERS = ["CERTuy", "CERT.ar"]
INDICATOR_OWNERS = ["CSIRT-ENERGIA-UY", "CERT-MX"]
EVENT_ORGANIZATIONS = ["CERTuy", "CERT.ar", "CERT-MX", "CSIRT-ENERGIA-UY", "OBSERVER-MX"]
# The people the TLP:RED report names: in three of the organizations it has events for
# (the authors of the incidents its events are escalated into among them: a RED event
# goes only to an incident addressed within its report's names), one of the secretariat
# (sees all of them), one whose organization has none.
EVENT_NAMED = {"certuy-1", "certuy-2", "cert.ar-1", "observer-mx-2", "cicte-1", "dcic-ar-2"}


@dataclass
class Shared:
    """
    One object as the oracle knows it, from the inputs: its kind ("incident",
    "indicator", "sighting", "event", "assistance", "evidence"), label, owner (for an
    event: the organization the routing rule chose; for a request: the requester; for
    evidence: the collecting organization), author (username), addressed organizations
    (for a request: the requested one) and named people, and the strings that identify
    it in an answer (its canary, uuids, STIX id, reference).
    """

    kind: str
    canary: str
    tlp: str
    owner: str
    author: str = ""
    organizations: set[str] = field(default_factory=set)
    named: set[str] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)
    values: set[str] = field(default_factory=set)
    stix_id: str = ""
    uuid: str = ""
    sighted: Shared | None = None
    report: str = ""
    # assistance requests: sent (else a draft), of a law-enforcement type
    sent: bool = False
    law_enforcement: bool = False
    # evidence: the parent (incident or assistance request), the custodian organization
    # and the receiver of a pending transfer
    parent: Shared | None = None
    custodian: str = ""
    pending: str = ""


@dataclass
class World:
    """Organizations (membership), people (username -> organization) and objects."""

    members: dict[str, bool]
    users: dict[str, str]
    memberships: dict[str, Membership] = field(default_factory=dict)
    objects: list[Shared] = field(default_factory=list)

    def of_kind(self, *kinds: str) -> list[Shared]:
        """Return the objects of these kinds."""
        return [o for o in self.objects if o.kind in kinds]

    def by_key(self) -> dict[str, str]:
        """Map every identifying string to its object's canary."""
        return {key: o.canary for o in self.objects for key in (*o.keys, o.canary)}


# --- the oracle ----------------------------------------------------------------------


def may_see(world: World, username: str | None, obj: Shared) -> bool:
    """
    DESIGN.md, "TLP 2.0: who may see what", read literally. `username` None is an
    anonymous visitor: only TLP:CLEAR, and only where a surface is public at all.
    """
    if obj.kind == "event":
        return _may_see_event(world, username, obj)
    if obj.kind == "assistance":
        return _may_see_request(world, username, obj)
    if obj.kind == "evidence":
        return _may_see_evidence(world, username, obj)
    if obj.tlp == "clear":
        return True
    if username is None:
        return False
    organization = world.users[username]
    addressed = organization == obj.owner or organization in obj.organizations
    if obj.tlp == "green":  # every member; a looser label never shows less than AMBER
        return world.members[organization] or addressed
    if obj.tlp in ("amber", "amber+strict"):
        return addressed
    return username == obj.author or username in obj.named  # red


def _may_see_event(world: World, username: str | None, event: Shared) -> bool:
    """
    An event is addressed by the routing rule to one organization (its `owner` here),
    the responsible CSIRT, and to nobody else; its label narrows that audience.
    """
    if username is None:
        return False
    organization = world.users[username]
    # Documented exception (issue 2, docs/events.md "Who can see it"): the network
    # secretariat sees every event, since it keeps the unrouted queue and the network
    # overview. DESIGN.md's table gives the secretariat nothing extra elsewhere.
    in_audience = organization in (SECRETARIAT, event.owner)
    # TLP:RED: "the author and the people addressed by name ... never colleagues not
    # named, org-wide feeds". The report names its people; each sees, of its events,
    # those their organization would (an inbox is an org-wide feed: no one else).
    if event.tlp == "red":
        return in_audience and username in event.named
    return in_audience


def _may_see_request(world: World, username: str | None, request: Shared) -> bool:
    """
    docs/assistance.md, "Who sees what": the requester's organization from the draft on;
    once sent, the requested organization and the secretariat; a law-enforcement type
    only to law-enforcement units (and the secretariat). The TLP label never widens
    this (not even TLP:CLEAR), and staff status adds nothing.
    """
    if username is None:
        return False
    organization = world.users[username]
    if organization == request.owner:
        party = True
    elif not request.sent:
        return False
    elif organization == SECRETARIAT:
        return True
    else:
        party = organization in request.organizations
    return party and (not request.law_enforcement or organization in LAW_ENFORCEMENT)


def _may_see_evidence(world: World, username: str | None, item: Shared) -> bool:
    """
    docs/evidence.md, "Who sees what": whoever sees the parent (incident or assistance
    request), the current custodian organization, the receiver of a pending transfer.
    An organization that handed the item on and does not see the parent sees nothing.
    """
    if username is None:
        return False
    assert item.parent is not None
    organization = world.users[username]
    return organization in (item.custodian, item.pending) or may_see(world, username, item.parent)


def visible(world: World, username: str | None, kinds: tuple[str, ...]) -> set[str]:
    """Return the canaries of the objects of `kinds` that `username` may see."""
    return {o.canary for o in world.objects if o.kind in kinds and may_see(world, username, o)}


def organization_may_be_mailed(world: World, organization: str, obj: Shared) -> bool:
    """
    Whether `obj`'s content may go to `organization`'s role address: never TLP:RED
    (people named only; never org-wide feeds or digests), never TLP:AMBER+STRICT to a
    non-member (never forwarded; no digests to non-members), else when its members may
    see it.
    """
    if obj.tlp == "red" or (obj.tlp == "amber+strict" and not world.members[organization]):
        return False
    if obj.kind == "event":
        return organization == obj.owner
    return organization in obj.organizations


# --- building it ---------------------------------------------------------------------


class Canaries:
    """Hands out canary strings, one per object, in order."""

    def __init__(self) -> None:
        self._serial = itertools.count(1)

    def next(self) -> str:
        """Return a new canary: CANARY- and 12 hex digits."""
        return f"CANARY-{next(self._serial):012x}"


def build_people() -> World:
    """Create the missing organizations (each with a CSIRT 24/7 contact) and 4 people each."""
    for short_name, spec in ORGANIZATIONS.items():
        if spec is not None:
            _organization(short_name, *spec)
    users: dict[str, str] = {}
    memberships: dict[str, Membership] = {}
    for short_name, number in itertools.product(
        ORGANIZATIONS, range(1, PEOPLE_PER_ORGANIZATION + 1)
    ):
        username = f"{short_name.lower()}-{number}"
        user = get_user_model().objects.create_user(
            username=username,
            email=f"{username}@people.example",
            # staff status and superuser add nothing (STYLE §5): two such people
            is_staff=username in STAFF,
            is_superuser=username in STAFF[:1],
        )
        organization = Organization.objects.get(short_name=short_name)
        memberships[username] = Membership.objects.create(user=user, organization=organization)
        users[username] = short_name
    members = dict(
        Organization.objects.filter(short_name__in=ORGANIZATIONS).values_list(
            "short_name", "is_member"
        )
    )
    return World(members=members, users=users, memberships=memberships)


def _organization(short_name: str, state: str, kind: str, is_member: bool) -> None:
    organization, _ = Organization.objects.get_or_create(
        short_name=short_name,
        defaults={
            "name": short_name,
            "kind": kind,
            "state": MemberState.objects.get(code=state),
            "is_member": is_member,
        },
    )
    PointOfContact.objects.get_or_create(
        organization=organization,
        role="csirt_24_7",
        defaults={"email": f"{short_name.lower()}@contact.example", "languages": ["en"]},
    )


def build_incidents(world: World, canaries: Canaries, events: dict[tuple[str, str], Any]) -> None:
    """
    Report 30 incidents (2 owners x 5 labels x 3 audiences), each with one observable of
    `VALUES`; the owner's first person reports. The incidents of audience 0 owned by
    CERTuy carry CERTuy's event of the same label (`events`), which the incident's
    wider audience must not see through it.
    """
    from csirtnet.incidents import services

    user_model = get_user_model()
    for (owner, tlp, number), value in zip(
        itertools.product(INCIDENT_OWNERS, LABELS, range(3)), itertools.cycle(VALUES), strict=False
    ):
        audience = AUDIENCES[number]
        author = f"{owner.lower()}-1"
        organizations = {NATIONAL_CSIRT[code] for code in audience["states"]}
        organizations |= set(audience["invited"])
        organizations.discard(owner)
        obj = Shared(
            kind="incident",
            canary=canaries.next(),
            tlp=tlp,
            owner=owner,
            author=author,
            organizations=organizations,
            named=set(audience["named"]) if tlp == "red" else set(),
            values={value},
        )
        linked = [events[owner, tlp]] if number == 0 and (owner, tlp) in events else []
        incident = services.create_incident(
            actor=world.memberships[author],
            title=f"Incident {obj.canary}",
            description=f"Description of {obj.canary}",
            taxonomy_predicate="malicious-code",
            taxonomy_value="c2-server",
            severity=3,
            tlp=tlp,
            observables=[value],
            affected_states=audience["states"],
            invited=list(Organization.objects.filter(short_name__in=audience["invited"])),
            named_people=list(user_model.objects.filter(username__in=obj.named)),
            events=linked,
        )
        obj.uuid = str(incident.uuid)
        obj.keys = {obj.uuid, incident.reference}
        world.objects.append(obj)


def build_indicators(world: World, canaries: Canaries) -> None:
    """
    Import 30 STIX 2.1 indicators (2 owners x 5 labels x 3 audiences) with `import_stix`,
    each in a bundle with its TLP 2.0 marking definition, then address them: the
    audience's organizations as `recipient_organizations`, and on TLP:RED its people as
    `recipient_people` too.
    """
    from csirtnet.sharing.models import StixObject
    from csirtnet.sharing.services import import_stix
    from csirtnet.sharing.stix import TLP2_MARKING_IDS, tlp2_marking
    from csirtnet.sharing.tlp import TLP

    user_model = get_user_model()
    for (owner, tlp, number), value in zip(
        itertools.product(INDICATOR_OWNERS, LABELS, range(3)),
        itertools.cycle(reversed(VALUES)),
        strict=False,
    ):
        audience = AUDIENCES[number]
        author = f"{owner.lower()}-1"
        organizations = {NATIONAL_CSIRT[code] for code in audience["states"]}
        organizations |= set(audience["invited"])
        organizations.discard(owner)
        obj = Shared(
            kind="indicator",
            canary=canaries.next(),
            tlp=tlp,
            owner=owner,
            author=author,
            organizations=organizations,
            named=set(audience["named"]) if tlp == "red" else set(),
            values={value},
            stix_id=f"indicator--{uuid.uuid4()}",
        )
        body = {
            "type": "indicator",
            "spec_version": "2.1",
            "id": obj.stix_id,
            "created": "2026-01-01T00:00:00.000Z",
            "modified": "2026-01-01T00:00:00.000Z",
            "name": f"Indicator {obj.canary}",
            "description": f"Description of {obj.canary}",
            "pattern": f"[ipv4-addr:value = '{value}']",
            "pattern_type": "stix",
            "valid_from": "2026-01-01T00:00:00Z",
            "object_marking_refs": [TLP2_MARKING_IDS[TLP(tlp)]],
        }
        bundle = {
            "type": "bundle",
            "id": f"bundle--{uuid.uuid4()}",
            "objects": [tlp2_marking(TLP(tlp)), body],
        }
        report = import_stix(
            actor=world.memberships[author],
            data=json.dumps(bundle).encode(),
            source=f"matrix {obj.canary}",
        )
        assert report.stored_count == 1, report.outcomes
        row = StixObject.objects.get(stix_id=obj.stix_id)
        assert row.tlp == tlp, (row.tlp, tlp)
        row.recipient_organizations.set(Organization.objects.filter(short_name__in=organizations))
        if tlp == "red":
            row.recipient_people.set(user_model.objects.filter(username__in=obj.named))
        obj.uuid = str(row.uuid)
        obj.keys = {obj.uuid, obj.stix_id.partition("--")[2]}
        world.objects.append(obj)


def build_sightings(world: World, canaries: Canaries) -> None:
    """
    Record sightings with `record_sighting` by someone who sees the indicator: of each
    indicator addressed to Argentina, by CERT.ar (on TLP:RED by the person named); of
    each addressed to Mexico, by POLCIB-MX (on TLP:RED by the non-member's person named),
    the CLEAR one asked as AMBER; and by the non-member observer of the GREEN ones.
    The oracle's sighting: owned by the sighting organization, labelled the strictest
    of the indicator's label and the one asked, addressed under AMBER and AMBER+STRICT
    to the indicator's owner and under RED to its author by name (the service's stated
    contract: the producer learns where it was seen, nobody else does).
    """
    from csirtnet.sharing.models import StixObject
    from csirtnet.sharing.services import record_sighting

    plans: list[tuple[Shared, str, str | None]] = []
    for indicator in world.of_kind("indicator"):
        if "CERT.ar" in indicator.organizations:
            plans.append((indicator, "cert.ar-1" if indicator.tlp == "red" else "cert.ar-2", None))
        if "POLCIB-MX" in indicator.organizations:
            sighter = "observer-mx-2" if indicator.tlp == "red" else "polcib-mx-1"
            plans.append((indicator, sighter, "amber" if indicator.tlp == "clear" else None))
            if indicator.tlp == "green":
                plans.append((indicator, "observer-mx-1", None))
    for indicator, sighter, asked in plans:
        label = max(indicator.tlp, asked or indicator.tlp, key=LABELS.index)
        organization = world.users[sighter]
        obj = Shared(
            kind="sighting",
            canary=canaries.next(),
            tlp=label,
            owner=organization,
            author=sighter,
            sighted=indicator,
        )
        if label in ("amber", "amber+strict") and indicator.owner != organization:
            obj.organizations = {indicator.owner}
        if label == "red" and indicator.author != sighter:
            obj.named = {indicator.author}
        row = record_sighting(
            actor=world.memberships[sighter],
            sighted=StixObject.objects.get(stix_id=indicator.stix_id),
            count=3,
            tlp=asked,
            note=f"Sighting {obj.canary}",
        )
        obj.stix_id, obj.uuid = row.stix_id, str(row.uuid)
        obj.keys = {obj.uuid, obj.stix_id.partition("--")[2]}
        world.objects.append(obj)


def build_events(world: World, canaries: Canaries) -> dict[tuple[str, str], Any]:
    """
    Make one completed report per label (the reports factories) with one event routed to
    each of `EVENT_ORGANIZATIONS` (a non-member among them), labelled as its report,
    and each organization's pending digest; the TLP:RED report names `EVENT_NAMED`, and
    its people's notices are written as completing a report writes them
    (`add_named_person_digests`). Return the events by (organization, label).
    """
    from csirtnet.reports.models import Digest
    from csirtnet.reports.services import add_named_person_digests
    from tests.reports.factories import EventFactory, ReportFactory

    made: dict[tuple[str, str], Any] = {}
    for tlp in LABELS:
        report = ReportFactory(tlp=tlp, file_name=f"matrix-{tlp.replace('+', '-')}.csv")
        named = EVENT_NAMED if tlp == "red" else set()
        report.recipient_people.set(get_user_model().objects.filter(username__in=named))
        for organization_name in EVENT_ORGANIZATIONS:
            obj = Shared(
                kind="event", canary=canaries.next(), tlp=tlp, owner=organization_name, named=named
            )
            organization = Organization.objects.get(short_name=organization_name)
            event = EventFactory(
                report=report,
                organization=organization,
                tlp=tlp,
                url=f"http://matrix.example/{obj.canary}",
                hostname="matrix.example",
                country=organization.state.code if organization.state else "",
            )
            Digest.objects.create(report=report, organization=organization, event_count=1)
            obj.uuid, obj.report = str(event.uuid), str(report.uuid)
            obj.keys = {obj.uuid}
            world.objects.append(obj)
            made[organization_name, tlp] = event
        add_named_person_digests(report)
    return made


def build_world() -> World:
    """Build the whole world; notifications and digests stay pending."""
    world = build_people()
    canaries = Canaries()
    events = build_events(world, canaries)
    build_incidents(world, canaries, events)
    build_indicators(world, canaries)
    build_sightings(world, canaries)
    build_evidence(world, canaries, build_assistance(world, canaries))
    return world


# (requester, requested, type, label, sent, then: a status the requested organization
# moves it to, or ""). CSIRT types between the national CSIRTs (one a draft) and from
# the sectoral CSIRT and a law-enforcement unit; law-enforcement types between DCIC-AR
# and POLCIB-MX (one a draft).
REQUESTS: list[tuple[str, str, str, str, bool, str]] = [
    ("CERTuy", "CERT.ar", "technical_assistance", "amber", True, ""),
    ("CERT.ar", "CERT-MX", "takedown", "red", True, ""),
    ("CERT-MX", "CERTuy", "information", "clear", True, ""),
    ("CERTuy", "CERT-MX", "information", "green", False, ""),
    ("CERT.ar", "CERTuy", "takedown", "amber+strict", True, "acknowledged"),
    ("CSIRT-ENERGIA-UY", "CERT.ar", "technical_assistance", "green", True, ""),
    ("DCIC-AR", "CERT-MX", "information", "amber", True, ""),
    ("DCIC-AR", "POLCIB-MX", "preservation", "amber", True, ""),
    ("POLCIB-MX", "DCIC-AR", "emergency_disclosure", "red", True, "acknowledged"),
    ("DCIC-AR", "POLCIB-MX", "emergency_disclosure", "clear", True, ""),
    ("POLCIB-MX", "DCIC-AR", "preservation", "green", False, ""),
]
_DETAILS: dict[str, dict[str, Any]] = {
    "technical_assistance": {"assistance_needed": "Analysis of a C2 server."},
    "takedown": {"target": "http://matrix.example/phish", "grounds": "Phishing."},
    "information": {"questions": "Who hosts it?", "purpose": "Attribution."},
    "preservation": {
        "requesting_authority": "Fiscalia",
        "offence": "Fraud.",
        "data_to_preserve": "Subscriber data.",
        "data_location": "Provider X.",
        "necessity": "It may be deleted.",
        "intends_mutual_assistance": True,
    },
    "emergency_disclosure": {
        "requesting_authority": "Fiscalia",
        "service_provider": "Provider X.",
        "offence": "Kidnapping.",
        "emergency_facts": "A life at risk.",
        "data_sought": "Location data.",
    },
}


def build_assistance(world: World, canaries: Canaries) -> dict[str, Any]:
    """
    Create `REQUESTS` with `create_request` by the requester's first person (sent or
    kept as a draft), then move some along by the requested organization's first
    person, each with a canary in its title and description. The oracle's request:
    owned by the requester, addressed to the requested organization, with `sent` and
    `law_enforcement` (`LAW_ENFORCEMENT_TYPES`). Return the rows by canary.
    """
    from csirtnet.assistance import services
    from csirtnet.assistance.kinds import LAW_ENFORCEMENT_TYPES

    made: dict[str, Any] = {}
    for requester, requested, request_type, tlp, send, then in REQUESTS:
        obj = Shared(
            kind="assistance",
            canary=canaries.next(),
            tlp=tlp,
            owner=requester,
            author=f"{requester.lower()}-1",
            organizations={requested},
            sent=send,
            law_enforcement=request_type in LAW_ENFORCEMENT_TYPES,
        )
        row = services.create_request(
            actor=world.memberships[obj.author],
            request_type=request_type,
            requested=Organization.objects.get(short_name=requested),
            title=f"Request {obj.canary}",
            description=f"Description of {obj.canary}",
            details=_DETAILS[request_type],
            tlp=tlp,
            send=send,
        )
        if then:
            row = services.change_status(
                actor=world.memberships[f"{requested.lower()}-1"], request=row, status=then
            )
        obj.uuid = str(row.uuid)
        obj.keys = {obj.uuid, *([row.reference] if row.reference else [])}
        world.objects.append(obj)
        made[obj.canary] = row
    return made


# (parent: ("incident", owner, label, audience) or ("assistance", index in REQUESTS),
# adder, transfers: (receiving organization, accepted) in order; only the last may stay
# pending). One item goes on from an organization that does not see its parent.
EVIDENCE: list[tuple[tuple[Any, ...], str, list[tuple[str, bool]]]] = [
    (("incident", "CERTuy", "amber", 1), "certuy-1", []),
    (("incident", "CERTuy", "amber", 0), "certuy-2", [("CERT-MX", False)]),
    (("incident", "CERT.ar", "amber+strict", 0), "cert.ar-1", [("DCIC-AR", True)]),
    (("incident", "CERT.ar", "green", 2), "cert.ar-3", []),
    (("assistance", 0), "certuy-1", [("CERT-MX", True), ("CSIRT-ENERGIA-UY", True)]),
    (("assistance", 0), "cert.ar-2", [("CSIRT-ENERGIA-UY", False)]),
    (("assistance", 3), "certuy-2", []),
    (("assistance", 7), "dcic-ar-1", []),
    (("assistance", 8), "dcic-ar-2", [("CERT.ar", False)]),
]


def build_evidence(world: World, canaries: Canaries, requests: dict[str, Any]) -> None:
    """
    Add `EVIDENCE` with `add_evidence` (a text file whose bytes and description carry
    the item's canary) on incidents and assistance requests of the world, then hand
    some on with `transfer_evidence` (by the custodian's first person) and
    `accept_transfer` (by the receiver's). The oracle's item: labelled as its parent,
    owned by the adder's organization, with its custodian and pending receiver.
    """
    from csirtnet.evidence import services
    from csirtnet.incidents.models import Incident

    incidents = world.of_kind("incident")
    assistance = world.of_kind("assistance")
    for spec, adder, transfers in EVIDENCE:
        if spec[0] == "incident":
            _kind, owner, tlp, number = spec
            parent = [o for o in incidents if o.owner == owner and o.tlp == tlp][number]
            row: Any = Incident.objects.get(uuid=parent.uuid)
        else:
            parent = assistance[spec[1]]
            row = requests[parent.canary]
        organization = world.users[adder]
        obj = Shared(
            kind="evidence",
            canary=canaries.next(),
            tlp=parent.tlp,
            owner=organization,
            author=adder,
            parent=parent,
            custodian=organization,
        )
        item = services.add_evidence(
            actor=world.memberships[adder],
            parent=row,
            name=f"{obj.canary}.txt",
            content=io.BytesIO(f"Bytes of {obj.canary}\n".encode()),
            content_type="text/plain",
            description=f"Evidence {obj.canary}",
        )
        for receiver, accepted in transfers:
            services.transfer_evidence(
                actor=world.memberships[f"{obj.custodian.lower()}-1"],
                evidence=item,
                receiving_organization=Organization.objects.get(short_name=receiver),
                reason=f"Handing on {obj.canary}",
            )
            obj.pending = receiver
            item.refresh_from_db()
            if accepted:
                services.accept_transfer(
                    actor=world.memberships[f"{receiver.lower()}-1"], evidence=item
                )
                obj.custodian, obj.pending = receiver, ""
                item.refresh_from_db()
        obj.uuid = str(item.uuid)
        obj.keys = {obj.uuid}
        world.objects.append(obj)
