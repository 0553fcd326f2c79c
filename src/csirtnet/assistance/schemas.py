"""
Input and output shapes of the assistance API (django-ninja / pydantic). Times are aware
UTC, written RFC 3339 with `Z`; TLP labels as FIRST writes them (`TLP:AMBER`);
organizations by uuid and short name, users by username. Integer keys never leave.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import AfterValidator, ConfigDict, StrictBool, StringConstraints, model_validator

from csirtnet.api.schemas import OrganizationRef, TlpLabel, tlp_label
from csirtnet.assistance.kinds import RequestType
from csirtnet.assistance.models import HistoryKind, Priority, Status

MAX_PAGE = 200  # items of one page of a list
MAX_OFFSET = 1_000_000_000

ActionName = Literal[
    "send", "acknowledge", "accept", "decline", "start", "fulfil", "partially_fulfil", "withdraw"
]
_TlpText = Literal[
    "clear", "green", "amber", "amber+strict", "red",
    "TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED",
]  # fmt: skip


def _label_value(text: str) -> str:
    """Return the stored value of a TLP label: "TLP:AMBER+STRICT" -> "amber+strict"."""
    return text.split(":", 1)[1].lower() if ":" in text else text


TlpIn = Annotated[_TlpText, AfterValidator(_label_value)]
ShortName = Annotated[str, StringConstraints(min_length=1, max_length=50)]
DetailKey = Annotated[str, StringConstraints(min_length=1, max_length=64)]
DetailValue = Annotated[str, StringConstraints(max_length=10000)] | StrictBool


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    return False


class _In(Schema):
    """An input shape: unknown fields are errors, and no text holds NUL."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if _has_nul(data):
            raise ValueError("text cannot hold NUL characters")
        return data


class AssistanceRequestIn(_In):
    """
    A new request from the token's organization. `details` holds the fields of `type`
    (docs/assistance.md lists them; e.g. preservation: requesting_authority, offence,
    data_to_preserve, data_location, necessity, intends_mutual_assistance=true).
    `legal_basis` defaults to the type's citation; `send=false` keeps a draft.
    """

    type: RequestType
    requested: ShortName = Field(..., description="short name of the requested organization")
    title: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=20000)
    priority: Priority = Priority.ROUTINE
    tlp: TlpIn = "amber"
    legal_basis: str = Field("", max_length=300)
    incident: UUID | None = Field(None, description="uuid of an incident the requester sees")
    details: dict[DetailKey, DetailValue] = Field(default_factory=dict, max_length=20)
    send: bool = True


class AssistanceRequestOut(Schema):
    """
    A request as its parties and the secretariat see it: type and legal basis, the
    type's own fields, priority, status, TLP, the two organizations and the clocks
    (UTC; null until sent, or until it happens).
    """

    uuid: UUID
    reference: str | None = Field(..., examples=["AR-2026-00042"], description="null for a draft")
    type: RequestType
    legal_basis: str
    priority: Priority
    status: Status
    tlp: TlpLabel
    title: str
    description: str
    details: dict[str, str | bool]
    requester: OrganizationRef
    requested: OrganizationRef
    author: str = Field(..., description="username of who drafted it")
    incident: UUID | None = Field(
        ..., description="null when there is none or the reader does not see it"
    )
    decline_reason: str
    created_at: datetime
    sent_at: datetime | None
    acknowledge_due_at: datetime | None
    respond_due_at: datetime | None
    acknowledged_at: datetime | None
    responded_at: datetime | None
    closed_at: datetime | None

    @staticmethod
    def resolve_type(obj: Any) -> str:
        """Return the request type value."""
        return str(obj.request_type)

    @staticmethod
    def resolve_tlp(obj: Any) -> str:
        """Return the TLP label, e.g. "TLP:AMBER"."""
        return tlp_label(obj.tlp)

    @staticmethod
    def resolve_author(obj: Any) -> str:
        """Return the author's username."""
        return str(obj.author.username)

    @staticmethod
    def resolve_incident(obj: Any) -> UUID | None:
        """Return the linked incident's uuid when the reader sees it (annotated), or None."""
        if obj.incident_id and getattr(obj, "is_incident_visible", False):
            return obj.incident.uuid  # type: ignore[no-any-return]
        return None


class AssistanceRequestListOut(Schema):
    """One page of requests; `count` is how many the filters select among those visible."""

    count: int
    items: list[AssistanceRequestOut]


class AssistanceFilters(Schema):
    """
    List filters: `box=inbox` (addressed to the token's organization) or `outbox` (sent
    or drafted by it; default: both), status, priority, type; then a page.
    """

    box: Literal["inbox", "outbox"] | None = None
    status: Status | None = None
    priority: Priority | None = None
    type: RequestType | None = None
    limit: int = Field(50, ge=1, le=MAX_PAGE)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class PageQuery(Schema):
    """A page of a list."""

    limit: int = Field(50, ge=1, le=MAX_PAGE)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class TransitionIn(_In):
    """A move along the workflow; `decline` needs a `reason` (1-5,000 characters)."""

    action: ActionName
    reason: str = Field("", max_length=5000)


class HistoryEntryOut(Schema):
    """
    One line of a request's history: kind, when (UTC), who (username and organization;
    null when the clock acted), the move, and a note (the reason, who was reminded).
    """

    uuid: UUID
    kind: HistoryKind
    at: datetime
    user: str | None
    organization: OrganizationRef | None
    from_status: Status | None
    to_status: Status | None
    note: str

    @staticmethod
    def resolve_user(obj: Any) -> str | None:
        """Return the username, or None for the clock."""
        return obj.user.username if obj.user_id else None

    @staticmethod
    def resolve_from_status(obj: Any) -> str | None:
        """Return the status before the move, or None."""
        return obj.from_status or None

    @staticmethod
    def resolve_to_status(obj: Any) -> str | None:
        """Return the status after the move, or None."""
        return obj.to_status or None


class HistoryListOut(Schema):
    """One page of the history, oldest first; `count` is its length."""

    count: int
    items: list[HistoryEntryOut]
