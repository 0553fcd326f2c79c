"""
The isolation matrix over every surface: one world (tests/matrix_world.py: 3 states,
8 organizations, 32 people and anonymous visitors; incidents, STIX indicators,
sightings and events over every TLP label and three audiences, assistance requests
between CSIRTs and between law-enforcement units, evidence on incidents and requests,
each with a canary), and every actor asks for every object through every page, export,
download, JSON API endpoint, count, correlation search, TAXII 2.1 collection and e-mail.
What each one gets is compared with the oracle (`matrix_world.may_see`), written from
DESIGN.md's TLP table, docs/assistance.md and docs/evidence.md ("Who sees what"), and
every difference is collected before the one assertion.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from csirtnet.accounts.services import create_api_token
from csirtnet.core import audit
from csirtnet.core.models import AuditEntry
from csirtnet.directory.models import PointOfContact
from tests.matrix_world import (
    CANARY,
    LABELS,
    REFERENCE,
    UUID,
    VALUES,
    Shared,
    World,
    build_world,
    may_see,
    organization_may_be_mailed,
)

pytestmark = pytest.mark.django_db

TAXII = "application/taxii+json;version=2.1"
COLLECTIONS = {  # alias -> (labels it holds, readable anonymously)
    "network": (("clear", "green"), False),
    "addressed": (("amber", "amber+strict", "red"), False),
    "public": (("clear",), True),
}
STIX_KINDS = ("indicator", "sighting")
READ_ACTIONS = {
    "incident.read", "incident.listed", "incident.exported", "incident.correlated",
    "stix.read", "stix.listed", "stix.correlated",
    "taxii.objects_read", "taxii.object_read", "taxii.manifest_read",
    "event.read", "event.listed", "assistance.read", "assistance.listed",
}  # fmt: skip
AUDITED_KINDS = ("incident", "indicator", "sighting", "event", "assistance")
AUDITED_LABELS = ("amber+strict", "red")
TILE_NUMBER = re.compile(r'class="tile-number">\s*(\d+)\s*<')
BOX_COUNT = re.compile(r'class="count">\s*(\d+)\s')
# (page, API box, which of the visible requests it lists: organization -> rule)
BOXES: list[tuple[str, str | None, Callable[[str, Shared], bool]]] = [
    ("/assistance/", "inbox", lambda org, o: org in o.organizations),
    ("/assistance/outbox/", "outbox", lambda org, o: org == o.owner),
    ("/assistance/all/", None, lambda org, o: True),
]
DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@dataclass
class Matrix:
    """Collects the comparisons: decisions made, surfaces seen, differences found."""

    world: World
    keys: dict[str, str] = field(default_factory=dict)
    by_canary: dict[str, Shared] = field(default_factory=dict)
    differences: list[str] = field(default_factory=list)
    surfaces: set[str] = field(default_factory=set)
    decisions: int = 0

    def __post_init__(self) -> None:
        self.keys = self.world.by_key()
        self.by_canary = {o.canary: o for o in self.world.objects}

    def found(self, text: str) -> set[str]:
        """Return the canaries of the objects `text` names (canary, uuid, STIX id, reference)."""
        hits = {*CANARY.findall(text), *UUID.findall(text), *REFERENCE.findall(text)}
        return {self.keys[hit] for hit in hits if hit in self.keys}

    def want(
        self,
        username: str | None,
        kinds: tuple[str, ...],
        *,
        public: bool = False,
        where: Callable[[Shared], bool] = lambda o: True,
    ) -> set[str]:
        """The oracle's answer for a surface showing `kinds` (`where`) to `username`."""
        if username is None and not public:
            return set()
        return {
            o.canary
            for o in self.world.objects
            if o.kind in kinds and where(o) and may_see(self.world, username, o)
        }

    def compare(
        self, surface: str, username: str | None, got: set[str], want: set[str], scope: int
    ) -> None:
        """Record one comparison over `scope` objects; keep what differs."""
        self.surfaces.add(surface.split(" [")[0])
        self.decisions += scope
        extra, missing = got - want, want - got
        if extra or missing:
            self.differences.append(
                f"{surface} for {username or 'anonymous'}: "
                f"extra {self._names(extra)}, missing {self._names(missing)}"
            )

    def compare_number(self, surface: str, username: str | None, got: int, want: int) -> None:
        """Record a count shown against the oracle's count."""
        self.surfaces.add(surface)
        self.decisions += 1
        if got != want:
            self.differences.append(f"{surface} for {username or 'anonymous'}: {got}, not {want}")

    def scan(self, username: str | None, text: str, where: str) -> None:
        """Check that an answer names nothing `username` may not see, whatever the surface."""
        allowed = {o.canary for o in self.world.objects if may_see(self.world, username, o)}
        leaked = self.found(text) - allowed
        if leaked:
            self.differences.append(
                f"any answer ({where}) for {username or 'anonymous'}: names {self._names(leaked)}"
            )

    def scope(
        self, kinds: tuple[str, ...], where: Callable[[Shared], bool] = lambda o: True
    ) -> int:
        """Return how many objects a surface of `kinds` decides on."""
        return sum(1 for o in self.world.objects if o.kind in kinds and where(o))

    def _names(self, canaries: Iterable[str]) -> list[str]:
        """Name each object by kind, label, owner and canary (other findings as they are)."""
        named = []
        for canary in sorted(canaries):
            obj = self.by_canary.get(canary)
            named.append(f"{obj.kind}:{obj.tlp}:{obj.owner}:{canary}" if obj else canary)
        return named


@dataclass
class Actor:
    """One person (or anonymous): a signed-in page client and a read-only token client."""

    username: str | None
    pages: Client
    api: Client
    token: str = ""
    # page address -> (status, text): the object pages already read, for the evidence panel
    seen: dict[str, tuple[int, str]] = field(default_factory=dict)

    def api_get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return self.api.get(path, params or {}, headers=headers)

    def taxii_get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        headers = {"Accept": TAXII}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return self.api.get(path, params or {}, headers=headers)


@pytest.fixture(autouse=True)
def _quiet_request_log() -> Iterator[None]:
    """Keep the thousands of expected 401 and 404 answers out of the log."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


@pytest.fixture
def world(directory, settings) -> World:  # type: ignore[no-untyped-def]
    """The world of the matrix; notifications and digests stay pending."""
    settings.TASKS = DUMMY_TASKS
    return build_world()


def _actors(world: World) -> list[Actor]:
    """Every person, signed in once (no password round trip) with a read-only token; anonymous."""
    return [*(_actor(world, username) for username in world.memberships), _anonymous()]


def _actor(world: World, username: str) -> Actor:
    user = world.memberships[username].user
    pages = Client()
    pages.force_login(user)
    _token, plaintext = create_api_token(user=user, name="matrix", read_only=True)
    return Actor(username=username, pages=pages, api=Client(), token=plaintext)


def _anonymous() -> Actor:
    return Actor(username=None, pages=Client(), api=Client())


def _text(response: Any) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


# --- the surfaces --------------------------------------------------------------------


def _page_list(matrix: Matrix, actor: Actor, path: str) -> tuple[set[str], str]:
    """Read every page of a paginated list; return the canaries named and the first page."""
    found: set[str] = set()
    first = ""
    for number in range(1, 50):
        response = actor.pages.get(path, {"page": number})
        if response.status_code != 200:
            break
        text = _text(response)
        first = first or text
        matrix.scan(actor.username, text, f"{path}?page={number}")
        found |= matrix.found(text)
        if f"page={number + 1}" not in text:
            break
    return found, first


def _details(
    matrix: Matrix,
    actor: Actor,
    objects: list[Shared],
    url: Callable[[Shared], str],
    get: Callable[[str], Any],
    *,
    named: bool = True,
) -> set[str]:
    """
    Ask for each object's own address; return the canaries answered with 200 (with
    `named`, only when the answer carries the canary).
    """
    seen = set()
    for obj in objects:
        response = get(url(obj))
        if response.status_code == 200:
            text = _text(response)
            if get == actor.pages.get:
                actor.seen[url(obj)] = (200, text)
            matrix.scan(actor.username, text, url(obj))
            named_ok = obj.canary in text or not named
            seen.add(obj.canary if named_ok else f"{obj.canary} without its canary")
        elif response.status_code not in (302, 401, 404):
            seen.add(f"status {response.status_code} for {obj.canary}")
    return seen


def check_incidents(matrix: Matrix, actor: Actor) -> None:
    """Incident pages (list, count, detail), CSV export, JSON API (list, count, detail)."""
    user, kinds = actor.username, ("incident",)
    incidents = matrix.world.of_kind("incident")
    scope = matrix.scope(kinds)
    want = matrix.want(user, kinds)
    listed, first = _page_list(matrix, actor, "/incidents/")
    matrix.compare("incident page list", user, listed & _canaries(incidents), want, scope)
    shown = TILE_NUMBER.search(first)
    matrix.compare_number(
        "incident page count", user, int(shown.group(1)) if shown else 0, len(want)
    )
    details = _details(
        matrix, actor, incidents, lambda o: f"/incidents/{o.uuid}/", actor.pages.get
    )
    matrix.compare("incident page detail", user, details, want, scope)
    response = actor.pages.get("/incidents/export.csv")
    exported: set[str] = set()
    if response.status_code == 200:
        text = _text(response)
        matrix.scan(user, text, "/incidents/export.csv")
        exported = set(
            CANARY.findall(" ".join(" ".join(r) for r in csv.reader(io.StringIO(text))))
        )
    matrix.compare(
        "incident CSV export",
        user,
        exported,
        matrix.want(user, kinds, where=lambda o: o.tlp != "red"),
        scope,
    )
    listed, count = set(), 0
    for offset in range(0, 400, 20):
        response = actor.api_get("/api/v1/incidents", {"limit": 20, "offset": offset})
        if response.status_code != 200:
            break
        matrix.scan(user, _text(response), "/api/v1/incidents")
        body = response.json()
        count = body["count"]
        listed |= {matrix.keys.get(str(item["uuid"]), "?") for item in body["items"]}
        if offset + 20 >= count:
            break
    matrix.compare("incident API list", user, listed, want, scope)
    matrix.compare_number("incident API count", user, count, len(want))
    details = _details(
        matrix, actor, incidents, lambda o: f"/api/v1/incidents/{o.uuid}", actor.api_get
    )
    matrix.compare("incident API detail", user, details, want, scope)


def check_sharing(matrix: Matrix, actor: Actor) -> None:
    """Indicator pages (list, detail), STIX object pages of sightings, the sightings API."""
    user = actor.username
    indicators = matrix.world.of_kind("indicator")
    listed, _first = _page_list(matrix, actor, "/sharing/indicators/")
    matrix.compare(
        "indicator page list",
        user,
        listed & _canaries(indicators),
        matrix.want(user, ("indicator",)),
        len(indicators),
    )
    stix = matrix.world.of_kind(*STIX_KINDS)
    details = _details(
        matrix, actor, stix, lambda o: f"/sharing/objects/{o.uuid}/", actor.pages.get
    )
    matrix.compare(
        "STIX object page detail", user, details, matrix.want(user, STIX_KINDS), len(stix)
    )
    sightings = matrix.world.of_kind("sighting")
    got, want = set(), set()
    for indicator in indicators:
        response = actor.api_get("/api/v1/sightings", {"sighting_of": indicator.stix_id})
        if response.status_code == 200:
            matrix.scan(user, _text(response), "/api/v1/sightings")
            got |= {
                matrix.keys.get(item["id"].partition("--")[2], "?") for item in response.json()
            }
        want |= matrix.want(user, ("sighting",), where=lambda o, i=indicator: o.sighted is i)
    matrix.compare("sightings API", user, got, want, len(sightings))


def check_correlation(matrix: Matrix, actor: Actor) -> None:
    """The search page and the correlation API, for every shared value, with their counts."""
    user = actor.username
    kinds = ("incident", "indicator", "sighting")
    for value in VALUES:

        def holds(o: Shared, value: str = value) -> bool:
            held = o.sighted.values if o.sighted is not None else o.values
            return value in held

        want = matrix.want(user, kinds, where=holds)
        scope = matrix.scope(kinds, holds)
        response = actor.pages.get("/sharing/search/", {"q": value})
        page: set[str] = set()
        if response.status_code == 200:
            text = _text(response)
            matrix.scan(user, text, f"/sharing/search/?q={value}")
            page = matrix.found(text)
        matrix.compare(f"correlation page [{value}]", user, page, want, scope)
        response = actor.api_get("/api/v1/correlation", {"value": value})
        api: set[str] = set()
        counts = {"incident": 0, "indicator": 0, "sighting": 0}
        if response.status_code == 200:
            matrix.scan(user, _text(response), f"/api/v1/correlation?value={value}")
            body = response.json()
            api |= {matrix.keys.get(str(item["uuid"]), "?") for item in body["incidents"]}
            for item in body["stix_objects"] + body["sightings"]:
                api.add(matrix.keys.get(item["id"].partition("--")[2], "?"))
            counts = {
                "incident": body["incident_count"],
                "indicator": body["stix_object_count"],
                "sighting": body["sighting_count"],
            }
        matrix.compare(f"correlation API [{value}]", user, api, want, scope)
        for kind, count in counts.items():
            wanted = sum(1 for c in want if matrix.by_canary[c].kind == kind)
            matrix.compare_number(f"correlation API {kind} count", user, count, wanted)


def check_taxii(matrix: Matrix, actor: Actor) -> None:
    """Each TAXII 2.1 collection: objects and manifest (every page), and each object's address."""
    user = actor.username
    stix = matrix.world.of_kind(*STIX_KINDS)
    root = "/taxii2/csirtnet/collections"
    for alias, (labels, public) in COLLECTIONS.items():

        def held(o: Shared, labels: tuple[str, ...] = labels) -> bool:
            return o.tlp in labels

        want = matrix.want(user, STIX_KINDS, public=public, where=held)
        for resource in ("objects", "manifest"):
            got = _taxii_pages(matrix, actor, f"{root}/{alias}/{resource}/")
            matrix.compare(f"TAXII {resource} [{alias}]", user, got, want, len(stix))
        details = _details(
            matrix,
            actor,
            stix,
            lambda o, alias=alias: f"{root}/{alias}/objects/{o.stix_id}/",
            actor.taxii_get,
        )
        matrix.compare(f"TAXII object detail [{alias}]", user, details, want, len(stix))


def _taxii_pages(matrix: Matrix, actor: Actor, path: str) -> set[str]:
    found: set[str] = set()
    params: dict[str, Any] = {"limit": 20}
    for _page in range(100):
        response = actor.taxii_get(path, params)
        if response.status_code != 200:
            break
        matrix.scan(actor.username, _text(response), path)
        body = response.json()
        for item in body.get("objects", []):
            canary = matrix.keys.get(item["id"].partition("--")[2], "?")
            if "type" in item and canary not in item.get("name", "") + item.get("description", ""):
                canary = f"{canary} without its canary"
            found.add(canary)
        if not body.get("more"):
            break
        params = {"limit": 20, "next": body["next"]}
    return found


def check_events(matrix: Matrix, actor: Actor) -> None:
    """The inbox (every page) and each event's page."""
    user = actor.username
    events = matrix.world.of_kind("event")
    want = matrix.want(user, ("event",))
    listed, _first = _page_list(matrix, actor, "/reports/inbox/")
    matrix.compare("event inbox", user, listed & _canaries(events), want, len(events))
    details = _details(
        matrix, actor, events, lambda o: f"/reports/events/{o.uuid}/", actor.pages.get
    )
    matrix.compare("event page detail", user, details, want, len(events))


def check_assistance(matrix: Matrix, actor: Actor) -> None:
    """
    Assistance pages (inbox, outbox, all: lists and counts; each request's page), the
    JSON API (list with each box and without, counts; each request, its history).
    """
    user, kinds = actor.username, ("assistance",)
    requests = matrix.world.of_kind(*kinds)
    organization = matrix.world.users.get(user or "", "")
    scope = len(requests)
    for page, box, rule in BOXES:

        def listed_in(o: Shared, rule: Callable[[str, Shared], bool] = rule) -> bool:
            return rule(organization, o)

        want = matrix.want(user, kinds, where=listed_in)
        listed, first = _page_list(matrix, actor, page)
        matrix.compare(
            f"assistance page list [{page}]", user, listed & _canaries(requests), want, scope
        )
        shown = BOX_COUNT.search(first)
        matrix.compare_number(
            f"assistance page count [{page}]", user, int(shown.group(1)) if shown else 0, len(want)
        )
        got, count = set(), 0
        params: dict[str, Any] = {"box": box} if box else {}
        for offset in range(0, 400, 50):
            response = actor.api_get(
                "/api/v1/assistance-requests", {**params, "limit": 50, "offset": offset}
            )
            if response.status_code != 200:
                break
            matrix.scan(user, _text(response), f"/api/v1/assistance-requests?box={box}")
            body = response.json()
            count = body["count"]
            got |= {matrix.keys.get(str(item["uuid"]), "?") for item in body["items"]}
            if offset + 50 >= count:
                break
        matrix.compare(f"assistance API list [{box or 'both'}]", user, got, want, scope)
        matrix.compare_number(f"assistance API count [{box or 'both'}]", user, count, len(want))
    want = matrix.want(user, kinds)
    details = _details(
        matrix, actor, requests, lambda o: f"/assistance/{o.uuid}/", actor.pages.get
    )
    matrix.compare("assistance page detail", user, details, want, scope)
    details = _details(
        matrix, actor, requests, lambda o: f"/api/v1/assistance-requests/{o.uuid}", actor.api_get
    )
    matrix.compare("assistance API detail", user, details, want, scope)
    details = _details(
        matrix,
        actor,
        requests,
        lambda o: f"/api/v1/assistance-requests/{o.uuid}/history",
        actor.api_get,
        named=False,
    )
    matrix.compare("assistance API history", user, details, want, scope)


def check_evidence(matrix: Matrix, actor: Actor, *, downloads: bool = True) -> None:
    """
    The evidence panel of each parent page (incident, assistance request) and the
    parent's evidence list in the API (with its count); each item's page, download,
    API record, custody chain and API download (with `downloads`).
    """
    user = actor.username
    items = matrix.world.of_kind("evidence")
    parents = list({id(o.parent): o.parent for o in items if o.parent is not None}.values())
    for parent in parents:
        mine = [o for o in items if o.parent is parent]

        def held(o: Shared, parent: Shared = parent) -> bool:
            return o.parent is parent

        # the panel and the list exist only where the parent itself may be seen
        want = (
            matrix.want(user, ("evidence",), where=held)
            if may_see(matrix.world, user, parent)
            else set()
        )
        page = {"incident": "/incidents/{}/", "assistance": "/assistance/{}/"}[parent.kind]
        path = page.format(parent.uuid)
        status, text = actor.seen.get(path, (0, ""))
        if not status:  # not read by the incident or assistance checks: read it now
            response = actor.pages.get(path)
            status, text = response.status_code, _text(response)
            if status == 200:
                matrix.scan(user, text, path)
        got = matrix.found(text) & _canaries(mine) if status == 200 else set()
        matrix.compare(f"evidence panel [{parent.kind}]", user, got, want, len(mine))
        api = {
            "incident": "/api/v1/incidents/{}/evidence",
            "assistance": "/api/v1/assistance-requests/{}/evidence",
        }[parent.kind].format(parent.uuid)
        response = actor.api_get(api, {"limit": 100})
        got, count = set(), 0
        if response.status_code == 200:
            text = _text(response)
            matrix.scan(user, text, api)
            body = response.json()
            count = body["count"]
            got = {matrix.keys.get(str(item["uuid"]), "?") for item in body["items"]}
        matrix.compare(f"evidence API list [{parent.kind}]", user, got, want, len(mine))
        matrix.compare_number(f"evidence API count [{parent.kind}]", user, count, len(want))
    want = matrix.want(user, ("evidence",))
    surfaces: list[tuple[str, str, Callable[[str], Any], bool]] = [
        ("evidence page detail", "/evidence/{}/", actor.pages.get, True),
        ("evidence API detail", "/api/v1/evidence/{}", actor.api_get, True),
        ("evidence API custody", "/api/v1/evidence/{}/custody", actor.api_get, False),
    ]
    if downloads:
        surfaces += [
            ("evidence download", "/evidence/{}/download/", actor.pages.get, True),
            ("evidence API download", "/api/v1/evidence/{}/download", actor.api_get, True),
        ]
    for surface, address, get, named in surfaces:
        seen = set()
        for obj in items:
            response = get(address.format(obj.uuid))
            if response.status_code == 200:
                text = _text(response)
                matrix.scan(user, _documented(obj, text), address)
                named_ok = obj.canary in text or not named
                seen.add(obj.canary if named_ok else f"{obj.canary} without its canary")
            elif response.status_code not in (302, 401, 404):
                seen.add(f"status {response.status_code} for {obj.canary}")
        matrix.compare(surface, user, seen, want, len(items))


def _documented(item: Shared, text: str) -> str:
    """
    Return `text` without what docs/evidence.md lets an item's viewer see of its parent:
    the parent's uuid (the `incident` / `assistance_request` field), also for a custodian
    or receiver that does not see the parent. Its title and reference stay: naming them
    to such a viewer is a leak (see
    `test_evidence_page_names_no_parent_its_viewer_does_not_see`).
    """
    assert item.parent is not None
    return text.replace(item.parent.uuid, "")


def check_audit(matrix: Matrix, actors: list[Actor]) -> None:
    """
    The audit log: each person's recorded reads of TLP:AMBER+STRICT and TLP:RED rows name
    exactly the ones the oracle lets them see (each was asked for on some surface), and
    the chain holds.
    """
    read: dict[str, set[str]] = {}
    for entry in AuditEntry.objects.filter(action__in=READ_ACTIONS):
        targets = [entry.target_id] if entry.target_id else entry.detail.get("targets", [])
        read.setdefault(entry.username, set()).update(matrix.keys.get(t, t) for t in targets)
    for actor in actors:
        if actor.username is None:
            continue
        want = {
            o.canary
            for o in matrix.world.objects
            if o.kind in AUDITED_KINDS
            and o.tlp in AUDITED_LABELS
            and may_see(matrix.world, actor.username, o)
        }
        got = read.get(actor.username, set())
        matrix.compare("audit log reads", actor.username, got, want, len(matrix.world.objects))
    _count, broken, _head = audit.verify()
    matrix.compare_number("audit chain breaks", None, 0 if broken is None else 1, 0)


def _canaries(objects: Iterable[Shared]) -> set[str]:
    return {o.canary for o in objects}


# --- the tests -----------------------------------------------------------------------


def test_every_surface_matches_the_oracle(world):
    started = time.monotonic()
    matrix = Matrix(world)
    actors = _actors(world)
    assert len(actors) >= 33
    checks = (
        check_incidents,
        check_sharing,
        check_correlation,
        check_taxii,
        check_events,
        check_assistance,
    )
    for actor in actors:
        for check in checks:
            check(matrix, actor)
        # the downloads (page and API) for the first and the last person of each
        # organization (the staff and the superuser among them) and anonymous only
        check_evidence(matrix, actor, downloads=_downloads(actor))
    check_audit(matrix, actors)
    summary = _summary(world, matrix, len(actors), time.monotonic() - started)
    print(summary)
    assert matrix.differences == [], summary + "\n" + "\n".join(matrix.differences[:40])


def _downloads(actor: Actor) -> bool:
    """Whether the evidence downloads are asked for by `actor` (see the main test)."""
    return actor.username is None or actor.username.endswith(("-1", "-4"))


def test_mail_reaches_only_who_may_see(world, settings):
    """
    Incident notifications and report digests, delivered with the locmem backend: each
    organization's role address receives exactly the canaries it may be mailed, once
    each; people named on a TLP:RED incident, and on a TLP:RED report of which they may
    see an event, get a notice without content; nobody else gets mail.
    """
    from csirtnet.incidents.delivery import deliver_pending_notifications
    from csirtnet.reports.delivery import deliver_pending_digests

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox.clear()
    deliver_pending_notifications()
    deliver_pending_digests()
    contact_of = {
        contact.email: contact.organization.short_name
        for contact in PointOfContact.objects.filter(
            organization__short_name__in=world.members
        ).select_related("organization")
    }
    person_of = {f"{username}@people.example": username for username in world.users}
    received: dict[str, list[str]] = {}
    notices: dict[str, int] = {}
    strangers = []
    for message in mail.outbox:
        text = "\n".join(
            [message.subject, message.body, *(str(a[1]) for a in message.attachments)]
        )
        for address in message.to:
            if address in person_of:
                notices[person_of[address]] = notices.get(person_of[address], 0) + 1
            elif address not in contact_of:
                strangers.append(address)
            received.setdefault(address, []).extend(set(CANARY.findall(text)))
    matrix = Matrix(world)
    mailed = ("incident", "event")
    for address, organization in contact_of.items():
        got = received.get(address, [])
        want = {
            o.canary
            for o in world.of_kind(*mailed)
            if organization_may_be_mailed(world, organization, o)
        }
        matrix.compare("role address mail", organization, set(got), want, matrix.scope(mailed))
        repeated = sorted({c for c in got if got.count(c) > 1})
        if repeated:
            matrix.differences.append(f"{organization} got {repeated} more than once")
        # and nothing its members may not all see: a second reading, from may_see itself
        beyond = {
            c for c in got if not _organization_sees(world, organization, matrix.by_canary[c])
        }
        matrix.compare("role address mail vs TLP", organization, beyond, set(), 0)
    for address, username in person_of.items():
        matrix.compare(
            "personal mail", username, set(received.get(address, [])), set(), matrix.scope(mailed)
        )
        named = sum(
            1
            for o in world.of_kind("incident")
            if o.tlp == "red" and username in o.named and username != o.author
        )
        # a TLP:RED report tells each person it names who may see one of its events
        named += len(
            {
                o.report
                for o in world.of_kind("event")
                if o.tlp == "red" and may_see(world, username, o)
            }
        )
        matrix.compare_number("TLP:RED notices", username, notices.get(username, 0), named)
    matrix.compare_number("mail to unknown addresses", None, len(strangers), 0)
    summary = f"mail: {len(mail.outbox)} messages, {matrix.decisions} decisions"
    print(summary)
    assert matrix.differences == [], summary + "\n" + "\n".join(matrix.differences[:40])


def _organization_sees(world: World, organization: str, obj: Shared) -> bool:
    """Whether every member of `organization` may see `obj` (not one person named)."""
    if obj.tlp == "red":
        return False
    member = next(u for u, o in world.users.items() if o == organization)
    return may_see(world, member, obj) and (obj.kind != "event" or obj.owner == organization)


def test_red_events_reach_only_the_people_named(world):
    """
    Regression (the matrix found it): a TLP:RED event reached every member of the
    organization it is routed to, and the whole secretariat. Now only the people its
    report names see it, each within their organization's events (the secretariat's
    person: all of them); inbox, event page and report page agree.
    """
    red_events = [o for o in world.of_kind("event") if o.tlp == "red"]
    report = red_events[0].report
    seen, expected = set(), set()
    for username, membership in world.memberships.items():
        client = Client()
        client.force_login(membership.user)
        inbox = _text(client.get("/reports/inbox/"))
        for event in red_events:
            page = client.get(f"/reports/events/{event.uuid}/")
            assert (event.canary in inbox) == (page.status_code == 200), (username, event)
            if page.status_code == 200:
                seen.add((username, event.owner))
            if may_see(world, username, event):
                expected.add((username, event.owner))
        shown = client.get(f"/reports/reports/{report}/").status_code == 200
        assert shown == any(u == username for u, _owner in expected), username
    assert seen == expected
    assert {u for u, _owner in seen} == {
        "certuy-1", "certuy-2", "cert.ar-1", "observer-mx-2", "cicte-1",
    }  # fmt: skip
    assert len([1 for u, _owner in seen if u == "cicte-1"]) == len(red_events)


def test_evidence_page_names_no_parent_its_viewer_does_not_see(world):
    """
    Regression: the evidence page named its parent (reference and title) to the
    custodian or pending receiver of the item who does not see the parent (a TLP:AMBER
    incident, a TLP:AMBER+STRICT incident, a law-enforcement TLP:RED request shown to
    a CSIRT); docs/evidence.md gives them the item and the parent's uuid only.
    """
    seen = []
    for item in world.of_kind("evidence"):
        assert item.parent is not None
        for organization in {item.custodian, item.pending} - {""}:
            username = f"{organization.lower()}-3"
            if may_see(world, username, item.parent):
                continue
            client = Client()
            client.force_login(world.memberships[username].user)
            response = client.get(f"/evidence/{item.uuid}/")
            text = _text(response) if response.status_code == 200 else ""
            if item.parent.canary in text:
                seen.append(f"{username} sees {item.parent.canary} on {item.canary}'s page")
    assert seen == []


def test_the_matrix_notices_a_leak(world, monkeypatch):
    """
    The matrix is not vacuous: with a visibility rule that lets every member see
    TLP:AMBER (a planted leak), the STIX surfaces differ from the oracle for a colleague
    outside the audience.
    """
    from django.db.models import Q

    from csirtnet.sharing import tlp

    rule = tlp.visibility_filter

    def leaky(actor: Any) -> Q:
        return rule(actor) | (Q(tlp="amber") if actor is not None else Q(pk__in=[]))

    monkeypatch.setattr(tlp, "visibility_filter", leaky)
    matrix = Matrix(world)
    actor = _actor(world, "cert.ar-3")
    check_sharing(matrix, actor)
    check_taxii(matrix, actor)
    surfaces = {difference.split(" for ")[0] for difference in matrix.differences}
    assert {"STIX object page detail", "TAXII objects [addressed]"} <= surfaces, surfaces


def test_the_matrix_notices_an_assistance_leak(world, monkeypatch):
    """
    The same for assistance requests: with a rule that lets every member see every
    request, drafts and law-enforcement types included (a planted leak), the assistance
    surfaces differ from the oracle for a member of CERT-MX, a party to some only.
    """
    from django.db.models import Q

    from csirtnet.assistance import querysets

    rule = querysets.visibility_filter

    def leaky(actor: Any) -> Q:
        return rule(actor) | (Q(pk__isnull=False) if actor is not None else Q(pk__in=[]))

    monkeypatch.setattr(querysets, "visibility_filter", leaky)
    matrix = Matrix(world)
    actor = _actor(world, "cert-mx-3")
    check_assistance(matrix, actor)
    check_evidence(matrix, actor, downloads=False)
    surfaces = {difference.split(" for ")[0] for difference in matrix.differences}
    wanted = {
        "assistance page list [/assistance/all/]",
        "assistance page detail",
        "assistance API detail",
        "assistance API list [both]",
        "evidence panel [assistance]",
    }
    assert wanted <= surfaces, surfaces


def _summary(world: World, matrix: Matrix, actor_count: int, seconds: float) -> str:
    kinds = {}
    for obj in world.objects:
        kinds[obj.kind] = kinds.get(obj.kind, 0) + 1
    per_label = {label: sum(1 for o in world.objects if o.tlp == label) for label in LABELS}
    return (
        f"isolation matrix: {actor_count} actors x {len(world.objects)} objects {kinds} "
        f"labels {per_label} x {len(matrix.surfaces)} surfaces = {matrix.decisions} decisions, "
        f"{len(matrix.differences)} differences in {seconds:.0f} s"
    )
