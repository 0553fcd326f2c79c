"""
The organization-isolation matrix: 3 states, 7 organizations (a non-member and the
secretariat among them), 14 users and anonymous visitors, 45 incidents over every TLP
label and three audiences, each carrying a canary string in its title. Every actor asks
for every incident through every surface (queryset, page list, page detail, JSON API
list and detail, CSV export, counts, notification e-mail), and what each one gets is
compared with an oracle written from DESIGN.md's TLP table, not from the code.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from dataclasses import dataclass, field

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client, override_settings

from csirtnet.accounts.models import Membership
from csirtnet.directory.models import Organization, OrganizationKind, PointOfContact
from csirtnet.incidents import services
from csirtnet.incidents.delivery import deliver_pending_notifications
from csirtnet.incidents.models import Incident

pytestmark = pytest.mark.django_db

LABELS = ["clear", "green", "amber", "amber+strict", "red"]
CANARY = re.compile(r"CANARY-[0-9a-f]{12}")
OWNERS = ["CERTuy", "CERT.ar", "CSIRT-ENERGIA-UY"]
# Three audiences: nobody else; Argentina plus its law-enforcement unit; Mexico plus
# a non-member observer. RED incidents name people instead.
AUDIENCES = [
    {"states": [], "invited": [], "named": []},
    {"states": ["AR"], "invited": ["DCIC-AR"], "named": ["cert.ar-1"]},
    {"states": ["MX"], "invited": ["OBSERVER-MX"], "named": ["observer-mx-2", "cicte-1"]},
]
NATIONAL_CSIRT = {"UY": "CERTuy", "AR": "CERT.ar", "MX": "CERT-MX"}


@dataclass
class Case:
    """One incident as the oracle knows it: from the inputs, not from the database."""

    canary: str
    tlp: str
    owner: str
    author: str
    participants: set[str]
    named: set[str]
    uuid: str = ""


@dataclass
class World:
    """The organizations, users (username -> organization) and incidents of the matrix."""

    users: dict[str, str]
    members: dict[str, bool]
    cases: list[Case] = field(default_factory=list)


def may_see(world: World, username: str | None, case: Case) -> bool:
    """DESIGN.md, "TLP 2.0: who may see what", read literally."""
    if case.tlp == "clear":
        return True
    if username is None:
        return False
    organization = world.users[username]
    addressed = organization == case.owner or organization in case.participants
    if case.tlp == "green":  # every member; and never less than AMBER would show
        return world.members[organization] or addressed
    if case.tlp in ("amber", "amber+strict"):
        return addressed
    return username == case.author or username in case.named  # red


def expected(world: World, username: str | None, *, export: bool = False) -> set[str]:
    """The canaries `username` may see (in an export: never TLP:RED)."""
    return {
        case.canary
        for case in world.cases
        if may_see(world, username, case) and not (export and case.tlp == "red")
    }


def _organization(short_name: str, state: str, kind: str, *, is_member: bool = True):
    from csirtnet.directory.models import MemberState

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
    return organization


@pytest.fixture
def world(directory) -> World:
    """Build the organizations, users and incidents; notifications stay queued."""
    _organization("CSIRT-ENERGIA-UY", "UY", OrganizationKind.SECTORAL_CSIRT)
    _organization("DCIC-AR", "AR", OrganizationKind.LAW_ENFORCEMENT)
    _organization("OBSERVER-MX", "MX", OrganizationKind.OTHER, is_member=False)
    short_names = [*OWNERS, "CERT-MX", "DCIC-AR", "OBSERVER-MX", "CICTE"]
    users: dict[str, str] = {}
    memberships: dict[str, Membership] = {}
    for short_name, number in itertools.product(short_names, (1, 2)):
        username = f"{short_name.lower()}-{number}"
        user = get_user_model().objects.create_user(
            username=username, password="pw-" + username, email=f"{username}@people.example"
        )
        organization = Organization.objects.get(short_name=short_name)
        memberships[username] = Membership.objects.create(user=user, organization=organization)
        users[username] = short_name
    members = {
        short_name: Organization.objects.get(short_name=short_name).is_member
        for short_name in short_names
    }
    world = World(users=users, members=members)
    serial = itertools.count(1)
    for owner, tlp, audience in itertools.product(OWNERS, LABELS, AUDIENCES):
        author = f"{owner.lower()}-1"
        participants = {NATIONAL_CSIRT[code] for code in audience["states"]}
        participants |= set(audience["invited"])
        participants.discard(owner)
        case = Case(
            canary=f"CANARY-{next(serial):012x}",
            tlp=tlp,
            owner=owner,
            author=author,
            participants=participants,
            named=set(audience["named"]) if tlp == "red" else set(),
        )
        incident = services.create_incident(
            actor=memberships[author],
            title=f"Incident {case.canary}",
            description=f"Description of {case.canary}",
            taxonomy_predicate="malicious-code",
            taxonomy_value="c2-server",
            severity=3,
            tlp=tlp,
            affected_states=audience["states"],
            invited=list(Organization.objects.filter(short_name__in=audience["invited"])),
            named_people=list(get_user_model().objects.filter(username__in=case.named)),
        )
        case.uuid = str(incident.uuid)
        world.cases.append(case)
    return world


def _client(username: str | None) -> Client:
    client = Client()
    if username is not None:
        client.force_login(get_user_model().objects.get(username=username))
    return client


def _actors(world: World) -> list[str | None]:
    return [*world.users, None]


@override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}})
def test_every_surface_matches_the_oracle(world):
    assert len(world.cases) == 45
    assert len({case.owner for case in world.cases}) == 3
    differences: list[str] = []

    def compare(surface: str, username: str | None, got: set[str], want: set[str]) -> None:
        if got != want:
            differences.append(
                f"{surface} for {username}: "
                f"extra {sorted(got - want)}, missing {sorted(want - got)}"
            )

    memberships = {m.user.username: m for m in Membership.objects.select_related("user")}
    for username in _actors(world):
        actor = memberships.get(username) if username else None
        want = expected(world, username)
        titles = Incident.objects.visible_to(actor).values_list("title", flat=True)
        compare("queryset", username, set(CANARY.findall(" ".join(titles))), want)
        compare(
            "count", username, {f"{Incident.objects.visible_to(actor).count()}"}, {f"{len(want)}"}
        )
        client = _client(username)
        compare("page list", username, _page_list(client), want if username else set())
        compare("page detail", username, _page_details(client, world), want if username else set())
        compare(
            "export", username, _export(client), expected(world, username, export=True)
            if username else set()
        )  # fmt: skip
        api = _api_client(memberships[username] if username else None)
        listed, count = _api_list(api)
        compare("API list", username, listed, want if username else set())
        compare("API count", username, {str(count)}, {str(len(want) if username else 0)})
        compare("API detail", username, _api_details(api, world), want if username else set())
    assert differences == [], "\n".join(differences[:20])


@override_settings(
    TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}},
    EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
)
def test_notification_mail_reaches_only_who_may_see(world):
    mail.outbox.clear()
    deliver_pending_notifications()
    contact_of = {
        contact.email: contact.organization.short_name
        for contact in PointOfContact.objects.select_related("organization")
    }
    person_of = {f"{username}@people.example": username for username in world.users}
    differences: list[str] = []
    received: dict[str, list[str]] = {}
    for message in mail.outbox:
        text = f"{message.subject}\n{message.body}"
        for address in message.to:
            received.setdefault(address, []).extend(
                sorted(set(CANARY.findall(text))) or ["(none)"]
            )
            canaries = set(CANARY.findall(text))
            if address in person_of:
                if canaries:
                    differences.append(f"person {address} got content {sorted(canaries)}")
                continue
            organization = contact_of[address]
            allowed = {
                case.canary
                for case in world.cases
                if case.tlp != "red" and organization in case.participants
            }
            if not canaries <= allowed:
                differences.append(f"{organization} got {sorted(canaries - allowed)}")
    for case in world.cases:
        if case.tlp == "red":
            continue
        for organization in case.participants:
            if case.tlp == "amber+strict" and not world.members[organization]:
                continue  # never to a non-member
            address = next(a for a, o in contact_of.items() if o == organization)
            count = received.get(address, []).count(case.canary)
            if count != 1:
                differences.append(f"{organization} got {case.canary} {count} times")
    red_named = {
        (case.canary, name)
        for case in world.cases
        if case.tlp == "red"
        for name in case.named
        if name != case.author
    }
    person_messages = sum(len(v) for address, v in received.items() if address in person_of)
    if person_messages != len(red_named):
        differences.append(f"{person_messages} messages to people, {len(red_named)} expected")
    assert differences == [], "\n".join(differences[:20])


def _page_list(client: Client) -> set[str]:
    found: set[str] = set()
    for page in range(1, 20):
        response = client.get("/incidents/", {"page": page})
        if response.status_code != 200:
            break
        found |= set(CANARY.findall(response.content.decode()))
        if f"page={page + 1}" not in response.content.decode():
            break
    return found


def _page_details(client: Client, world: World) -> set[str]:
    seen = set()
    for case in world.cases:
        response = client.get(f"/incidents/{case.uuid}/")
        if response.status_code == 200:
            assert case.canary in response.content.decode()
            seen.add(case.canary)
        elif response.status_code not in (302, 404):
            seen.add(f"status {response.status_code} for {case.canary}")
    return seen


def _export(client: Client) -> set[str]:
    response = client.get("/incidents/export.csv")
    if response.status_code != 200:
        return set()
    rows = csv.reader(
        io.StringIO(
            b"".join(response.streaming_content).decode()
            if response.streaming
            else response.content.decode()
        )
    )
    return set(CANARY.findall(" ".join(" ".join(row) for row in rows)))


def _api_client(actor: Membership | None) -> Client:
    from csirtnet.accounts.services import create_api_token

    if actor is None:
        return Client()
    _token, plaintext = create_api_token(user=actor.user, name="matrix", read_only=True)
    return Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}")


def _api_list(client: Client) -> tuple[set[str], int]:
    found: set[str] = set()
    count = 0
    for offset in range(0, 1000, 200):
        response = client.get("/api/v1/incidents", {"limit": 200, "offset": offset})
        if response.status_code != 200:
            return found, 0
        body = response.json()
        count = body["count"]
        found |= {CANARY.search(item["title"]).group() for item in body["items"]}
        if offset + 200 >= count:
            break
    return found, count


def _api_details(client: Client, world: World) -> set[str]:
    seen = set()
    for case in world.cases:
        response = client.get(f"/api/v1/incidents/{case.uuid}")
        if response.status_code == 200:
            assert case.canary in response.json()["title"]
            seen.add(case.canary)
        elif response.status_code not in (401, 404):
            seen.add(f"status {response.status_code} for {case.canary}")
    return seen
