"""
Input and output shapes of the incidents API (django-ninja / pydantic). Times are aware
UTC, written RFC 3339 with `Z`; TLP and PAP labels as FIRST writes them (`TLP:AMBER`);
organizations by uuid and short name, states by ISO 3166-1 alpha-2 code, users by
username. Integer primary keys never leave the server.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import (
    AfterValidator,
    AwareDatetime,
    ConfigDict,
    StrictInt,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from csirtnet.api.schemas import OrganizationRef, TlpIn, TlpLabel, label_value, tlp_label
from csirtnet.directory.models import Sector
from csirtnet.incidents.models import EntryKind, ParticipationReason, Status
from csirtnet.sharing.observables import MAX_VALUE, ObservableType

MAX_OBSERVABLES = 1000  # per request, as the services enforce
MAX_PAGE = 200  # items of one page of a list

PapLabel = Literal["PAP:CLEAR", "PAP:GREEN", "PAP:AMBER", "PAP:RED"]
_PapText = Literal[
    "clear", "green", "amber", "red", "PAP:CLEAR", "PAP:GREEN", "PAP:AMBER", "PAP:RED"
]

# A PAP label in, either as FIRST writes it ("PAP:AMBER") or as its value ("amber").
PapIn = Annotated[_PapText, AfterValidator(label_value)]
StateCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]  # ISO 3166-1 alpha-2
ShortName = Annotated[str, StringConstraints(min_length=1, max_length=50)]
# An incident's status, inline in the OpenAPI document: every schema there shares one
# namespace, and the assistance requests' `Status` would otherwise replace this one.
IncidentStatus = Annotated[
    Status,
    WithJsonSchema({"type": "string", "enum": list(Status.values), "description": Status.__doc__}),
]
Username = Annotated[str, StringConstraints(min_length=1, max_length=150)]
ObservableText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_VALUE)]


# Default of a PATCH field: typed Any so that a field may default to "left out" (None)
# while `null` sent for it is still refused; `model_fields_set` tells what was sent.
_LEFT_OUT: Any = None


def _in_utc(moment: datetime) -> datetime:
    """Return `moment` in UTC; a time that falls outside years 1-9999 there is invalid."""
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is out of range once in UTC") from None


# An RFC 3339 time with its zone, turned into UTC.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_in_utc)]
MAX_OFFSET = 1_000_000_000


def _without_nul(text: str) -> str:
    if "\x00" in text:
        raise ValueError("text cannot hold NUL characters")
    return text


SearchText = Annotated[
    str, StringConstraints(min_length=1, max_length=200), AfterValidator(_without_nul)
]


class _Text(Schema):
    """An input shape whose text holds no NUL character (no database stores one)."""

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if _has_nul(data):
            raise ValueError("text cannot hold NUL characters")
        return data


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    return False


class _In(_Text):
    """An input shape: a field it does not know is an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


# --- references ----------------------------------------------------------------------


class StateOut(Schema):
    """A member state by its ISO 3166-1 alpha-2 code, with its English and Spanish names."""

    code: str
    name_en: str
    name_es: str


class ParticipantOut(Schema):
    """
    An organization addressed by an incident: when it became a participant, when it
    acknowledged (null until it does) and how long that took, in whole seconds.
    """

    organization: OrganizationRef
    reason: ParticipationReason
    notified_at: datetime
    acknowledged_at: datetime | None
    time_to_acknowledge_seconds: int | None

    @staticmethod
    def resolve_time_to_acknowledge_seconds(obj: Any) -> int | None:
        """Return `Participation.time_to_acknowledge` in whole seconds, or None."""
        elapsed = obj.time_to_acknowledge
        return None if elapsed is None else int(elapsed.total_seconds())


# --- incidents -----------------------------------------------------------------------


class IncidentOut(Schema):
    """
    An incident as its audience sees it: RSIT class, TLP and PAP labels, status,
    severity 1-5, times (UTC), the owner, the lead organization, the affected states, the
    participants with their acknowledgements and, on TLP:RED, the people named.
    """

    uuid: UUID
    reference: str = Field(..., examples=["INC-2026-000042"])
    title: str
    description: str
    taxonomy_predicate: str = Field(..., description="RSIT class", examples=["malicious-code"])
    taxonomy_value: str = Field(..., description="RSIT type", examples=["c2-server"])
    rsit: str = Field(..., examples=['rsit:malicious-code="c2-server"'])
    sectors: list[Sector]
    severity: int = Field(..., ge=1, le=5)
    tlp: TlpLabel
    pap: PapLabel
    status: IncidentStatus
    detected_at: datetime | None
    reported_at: datetime
    acknowledged_at: datetime | None = Field(..., description="first acknowledgement")
    resolved_at: datetime | None
    updated_at: datetime
    owner: OrganizationRef
    lead_organization: OrganizationRef
    author: str = Field(..., description="username of the reporter")
    affected_states: list[StateOut]
    participants: list[ParticipantOut]
    named_people: list[str] = Field(..., description="usernames addressed on TLP:RED")

    @staticmethod
    def resolve_tlp(obj: Any) -> str:
        """Return the TLP label, e.g. "TLP:AMBER"."""
        return tlp_label(obj.tlp)

    @staticmethod
    def resolve_pap(obj: Any) -> str:
        """Return the PAP label, e.g. "PAP:AMBER"."""
        return f"PAP:{obj.pap.upper()}"

    @staticmethod
    def resolve_author(obj: Any) -> str:
        """Return the reporter's username."""
        return str(obj.author.username)

    @staticmethod
    def resolve_affected_states(obj: Any) -> list[Any]:
        """Return the affected states (prefetched)."""
        return list(obj.affected_states.all())

    @staticmethod
    def resolve_participants(obj: Any) -> list[Any]:
        """Return the participations (prefetched with their organizations)."""
        return list(obj.participations.all())

    @staticmethod
    def resolve_named_people(obj: Any) -> list[str]:
        """Return the usernames of the people named (prefetched)."""
        return [person.username for person in obj.recipient_people.all()]


class IncidentListOut(Schema):
    """One page of incidents; `count` is how many the filters select among those visible."""

    count: int
    items: list[IncidentOut]


class ObservableIn(_In):
    """An observable with its type given; a bare string has its type detected."""

    type: ObservableType
    value: ObservableText


ObservableValue = ObservableText | ObservableIn


class IncidentIn(_In):
    """
    A new incident. `affected_states` omitted: the states the observables route to;
    given (even `[]`): exactly those. `invited` are organizations (short names) made
    participants besides the national CSIRTs of the affected states; `named_people` are
    usernames addressed on TLP:RED. Unlabelled, an incident is TLP:AMBER and PAP:AMBER.
    """

    title: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=20000)
    taxonomy_predicate: str = Field(..., max_length=64, examples=["malicious-code"])
    taxonomy_value: str = Field(..., max_length=64, examples=["c2-server"])
    severity: StrictInt = Field(..., ge=1, le=5)
    sectors: list[Sector] = Field(default_factory=list, max_length=20)
    tlp: TlpIn = "amber"
    pap: PapIn = "amber"
    detected_at: UtcDatetime | None = None
    observables: list[ObservableValue] = Field(default_factory=list, max_length=MAX_OBSERVABLES)
    affected_states: list[StateCode] | None = Field(None, max_length=60)
    invited: list[ShortName] = Field(default_factory=list, max_length=60)
    named_people: list[Username] = Field(default_factory=list, max_length=100)


class IncidentPatch(_In):
    """
    Changes to an incident (its owner only); fields left out stay as they are, and
    `detected_at: null` clears it. `affected_states`, `invited` and `named_people` add
    to the audience (participants are never removed); `lead_organization` is the owner
    or a participant, by short name.
    """

    title: str = Field(_LEFT_OUT, min_length=1, max_length=200)
    description: str = Field(_LEFT_OUT, max_length=20000)
    taxonomy_predicate: str = Field(_LEFT_OUT, max_length=64)
    taxonomy_value: str = Field(_LEFT_OUT, max_length=64)
    severity: StrictInt = Field(_LEFT_OUT, ge=1, le=5)
    sectors: list[Sector] = Field(_LEFT_OUT, max_length=20)
    tlp: TlpIn = _LEFT_OUT
    pap: PapIn = _LEFT_OUT
    detected_at: UtcDatetime | None = None
    affected_states: list[StateCode] = Field(_LEFT_OUT, max_length=60)
    invited: list[ShortName] = Field(_LEFT_OUT, max_length=60)
    named_people: list[Username] = Field(_LEFT_OUT, max_length=100)
    lead_organization: ShortName = _LEFT_OUT


class IncidentFilters(_Text):
    """
    Filters of the incident list, all optional and combined with AND. `rsit` is a class
    ("malicious-code") or a class and type ("malicious-code:c2-server"); `q` searches
    the title and the reference; `reported_after` is inclusive, `reported_before`
    exclusive (RFC 3339 with a zone). `limit` 1-200 (default 50) and `offset` page.
    """

    status: IncidentStatus | None = None
    tlp: TlpIn | None = None
    severity: int | None = Field(None, ge=1, le=5)
    affected_state: StateCode | None = None
    sector: Sector | None = None
    rsit: str | None = Field(None, max_length=129, pattern=r"^[a-z0-9-]+(:[a-z0-9-]+)?$")
    q: SearchText | None = None
    reported_after: UtcDatetime | None = None
    reported_before: UtcDatetime | None = None
    limit: int = Field(50, ge=1, le=MAX_PAGE)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class PageQuery(_Text):
    """A page of a list: `limit` 1-200 items (default 50) from `offset`."""

    limit: int = Field(50, ge=1, le=MAX_PAGE)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class StatusIn(_In):
    """A move along the incident workflow, with a note for the timeline."""

    status: IncidentStatus
    note: str = Field("", max_length=20000)


# --- timeline, observables, affected states -----------------------------------------


class TimelineEntryOut(Schema):
    """
    One line of the shared timeline: its kind, when (UTC), who (username and
    organization; null for the platform), a comment's text or a change's old and new
    values.
    """

    uuid: UUID
    kind: EntryKind
    created_at: datetime
    author: str | None
    organization: OrganizationRef | None
    text: str
    old_value: str
    new_value: str

    @staticmethod
    def resolve_author(obj: Any) -> str | None:
        """Return the author's username, or None."""
        return obj.author.username if obj.author_id else None


class TimelineEntryIn(_In):
    """A comment for the shared timeline (plain text, 1 to 20,000 characters)."""

    text: str = Field(..., min_length=1, max_length=20000)


class TimelineListOut(Schema):
    """One page of the timeline, oldest first; `count` is the length of the timeline."""

    count: int
    items: list[TimelineEntryOut]


class ObservableOut(Schema):
    """
    A normalized observable of an incident with where the routing placed it: `country`
    (ISO 3166-1 alpha-2) and `routed_to`, null for hashes and unknown places.
    """

    uuid: UUID
    type: ObservableType
    value: str
    country: str | None
    routed_to: OrganizationRef | None
    added_at: datetime
    added_by: str | None = Field(..., description="username")

    @staticmethod
    def resolve_country(obj: Any) -> str | None:
        """Return the country code, or None when unknown."""
        return obj.country or None

    @staticmethod
    def resolve_added_by(obj: Any) -> str | None:
        """Return the username of who added it, or None."""
        return obj.added_by.username if obj.added_by_id else None


class ObservableListOut(Schema):
    """Observables: one page of an incident's, or the ones a request added."""

    count: int
    items: list[ObservableOut]


class ObservablesIn(_In):
    """Observables to add (1 to 1000): bare strings (type detected) or `{type, value}`."""

    observables: list[ObservableValue] = Field(..., min_length=1, max_length=MAX_OBSERVABLES)


class AffectedStatesIn(_In):
    """Observables (1 to 1000) to place in member states."""

    observables: list[ObservableValue] = Field(..., min_length=1, max_length=MAX_OBSERVABLES)


class AffectedStateProposal(Schema):
    """A member state the routing places observables in, and which of them (normalized)."""

    code: str = Field(..., description="ISO 3166-1 alpha-2")
    name_en: str
    name_es: str
    values: list[str]


class AffectedStatesOut(Schema):
    """The member states proposed for observables, by code."""

    items: list[AffectedStateProposal]
