"""
Input and output shapes of the evidence API (django-ninja / pydantic). Sizes are bytes,
hashes 64 lower-case hex digits (SHA-256), organizations by uuid and short name, users
by username. A custody event carries every value its hash covers, so that anyone can
recompute the chain (docs/evidence.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import ConfigDict

from csirtnet.api.schemas import OrganizationRef
from csirtnet.core.hashchain import rfc3339
from csirtnet.evidence.services import MAX_REASON

MAX_PAGE = 200  # items of one page of a list
ActionName = Literal["collected", "transferred", "accepted", "examined", "released"]


class EvidenceOut(Schema):
    """
    One evidence item: the file (sanitized name, SHA-256, size in bytes, declared media
    type), its parent (exactly one of `incident` and `assistance_request`, by uuid), the
    collecting organization (`owner`), the `custodian`, the organization a transfer is
    offered to (`pending_receiver`), and its chain: `custody_length` events ending in
    `head_hash`. Times are UTC.
    """

    uuid: UUID
    incident: UUID | None
    assistance_request: UUID | None
    name: str
    description: str
    sha256: str = Field(..., pattern=r"^[0-9a-f]{64}$")
    size: int = Field(..., description="bytes")
    content_type: str
    owner: OrganizationRef
    custodian: OrganizationRef
    pending_receiver: OrganizationRef | None
    added_by: str
    added_at: datetime
    released_at: datetime | None
    custody_length: int
    head_hash: str = Field(..., pattern=r"^[0-9a-f]{64}$")

    @staticmethod
    def resolve_incident(obj: Any) -> UUID | None:
        """Return the incident's uuid, or None."""
        return obj.incident.uuid if obj.incident_id else None

    @staticmethod
    def resolve_assistance_request(obj: Any) -> UUID | None:
        """Return the assistance request's uuid, or None."""
        return obj.assistance_request.uuid if obj.assistance_request_id else None

    @staticmethod
    def resolve_added_by(obj: Any) -> str:
        """Return the username of who added it."""
        return str(obj.added_by.get_username())


class EvidenceListOut(Schema):
    """One page of an incident's or a request's evidence, oldest first; `count` of all."""

    count: int
    items: list[EvidenceOut]


class CustodyEventOut(Schema):
    """
    One link of the chain of custody. `occurred_at` is written exactly as hashed
    (RFC 3339, UTC, six fractional digits). The record the hash covers is
    {evidence, event (= uuid), sequence, action, actor, organization (uuid),
    receiving_organization (uuid or null), occurred_at, reason, sha256};
    `hash` = SHA-256(previous_hash + "\\n" + canonical JSON of the record).
    """

    uuid: UUID
    evidence: UUID
    sequence: int
    action: ActionName
    actor: str
    organization: OrganizationRef
    receiving_organization: OrganizationRef | None
    occurred_at: str = Field(..., pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
    reason: str
    sha256: str = Field(..., pattern=r"^[0-9a-f]{64}$")
    previous_hash: str = Field(..., pattern=r"^[0-9a-f]{64}$")
    hash: str = Field(..., pattern=r"^[0-9a-f]{64}$")

    @staticmethod
    def resolve_evidence(obj: Any) -> UUID:
        """Return the evidence item's uuid."""
        return UUID(str(obj.evidence.uuid))

    @staticmethod
    def resolve_actor(obj: Any) -> str:
        """Return the acting user's username."""
        return str(obj.actor.get_username())

    @staticmethod
    def resolve_occurred_at(obj: Any) -> str:
        """Return the time as hashed: "2026-03-14T09:00:00.000000Z"."""
        return rfc3339(obj.occurred_at)


class CustodyListOut(Schema):
    """The whole chain of custody of one item, first event first."""

    count: int
    items: list[CustodyEventOut]


class _In(Schema):
    """An input shape: a field it does not know is an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class TransferIn(_In):
    """Offer the item to another organization (its short name), saying why."""

    receiving_organization: str = Field(..., min_length=1, max_length=50)
    reason: str = Field(..., min_length=1, max_length=MAX_REASON)


class ReasonIn(_In):
    """Why (examine: what was done; release: to whom and why; accept: optional)."""

    reason: str = Field("", max_length=MAX_REASON)


class PageQuery(Schema):
    """A page of a list: `limit` 1-200 items (default 50) from `offset`."""

    limit: int = Field(50, ge=1, le=MAX_PAGE)
    offset: int = Field(0, ge=0)
