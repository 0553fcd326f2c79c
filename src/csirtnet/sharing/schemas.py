"""Input and output shapes of the sharing JSON API: correlation, imports, sightings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import StringConstraints

from csirtnet.api.schemas import OrganizationRef, TlpIn, TlpLabel, tlp_label
from csirtnet.sharing.observables import MAX_VALUE, ObservableType
from csirtnet.sharing.stix import parse_timestamp


class CorrelationQuery(Schema):
    """The value to correlate, and its observable type (detected when left out)."""

    value: Annotated[str, StringConstraints(min_length=1, max_length=MAX_VALUE)]
    type: ObservableType | None = None


class IncidentHit(Schema):
    """An incident holding the value as an observable."""

    uuid: UUID
    reference: str
    title: str
    tlp: TlpLabel
    owner: OrganizationRef
    reported_at: datetime

    @staticmethod
    def resolve_tlp(obj: Any) -> str:
        """Return the label ("TLP:AMBER")."""
        return tlp_label(obj.tlp)


class StixHit(Schema):
    """A version of a STIX 2.1 object holding the value (or a sighting of one)."""

    id: str = Field(..., description="The STIX id, e.g. indicator--<UUIDv4>")
    type: str
    version: str = Field(..., description="`modified` as written; empty for objects without")
    tlp: TlpLabel
    owner: OrganizationRef
    date_added: datetime

    @staticmethod
    def resolve_id(obj: Any) -> str:
        """Return the STIX id."""
        return str(obj.stix_id)

    @staticmethod
    def resolve_tlp(obj: Any) -> str:
        """Return the label ("TLP:AMBER")."""
        return tlp_label(obj.tlp)


class CorrelationOut(Schema):
    """
    What holds a value, within what the token may see; lists are newest first and cut at
    200 rows, the counts are whole.
    """

    type: ObservableType
    value: str = Field(..., description="The value normalized")
    incident_count: int
    incidents: list[IncidentHit]
    stix_object_count: int
    stix_objects: list[StixHit]
    sighting_count: int
    sightings: list[StixHit]


# A STIX identifier (STIX 2.1 section 2.9): object type, two hyphens, a UUID.
StixId = Annotated[
    str,
    StringConstraints(
        max_length=300,
        pattern=r"^[a-z0-9][a-z0-9-]{0,249}--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}"
        r"-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    ),
]


class ImportQuery(Schema):
    """How to label unmarked objects of an import, and what to call its source."""

    tlp: TlpIn | None = Field(None, description="Label of unmarked objects; default TLP:AMBER")
    source: Annotated[str, StringConstraints(max_length=300)] = Field(
        "api", description="Where the document came from, kept with each object"
    )


class ObjectOutcomeOut(Schema):
    """What became of one object: stored, unchanged, rejected, conflict or marking."""

    id: str = Field(..., description="The object's STIX id (or a MISP event uuid)")
    status: Literal["stored", "unchanged", "rejected", "conflict", "marking"]
    reason: str = Field(..., description="Why it was rejected or is a conflict; else empty")

    @staticmethod
    def resolve_id(obj: Any) -> str:
        """Return the STIX id."""
        return str(obj.stix_id)


class ImportReportOut(Schema):
    """Per-object outcomes of one import, in document order, with their counts."""

    format: Literal["stix", "misp"]
    stored_count: int
    unchanged_count: int
    rejected_count: int
    conflict_count: int
    marking_count: int
    outcomes: list[ObjectOutcomeOut]


class SightingIn(Schema):
    """
    A sighting to record (STIX 2.1 section 5.5): the object seen, how often, when (UTC;
    both default to now), its label (never looser than the object's) and a note.
    """

    sighting_of: StixId = Field(
        ..., description="STIX id of the object seen, e.g. indicator--<UUIDv4>"
    )
    count: int = Field(1, ge=0, le=999_999_999)
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    tlp: TlpIn | None = Field(None, description="Default and floor: the object's own label")
    note: Annotated[str, StringConstraints(max_length=2000)] = ""


class SightingQuery(Schema):
    """The object whose sightings to list."""

    sighting_of: StixId = Field(..., description="STIX id of the object seen")


class SightingOut(Schema):
    """A sighting the token may see: who saw what, how often, first and last seen (UTC)."""

    id: str = Field(..., description="The sighting's STIX id")
    sighting_of: str
    count: int
    first_seen: datetime | None
    last_seen: datetime | None
    note: str
    tlp: TlpLabel
    owner: OrganizationRef
    date_added: datetime

    @staticmethod
    def resolve_id(obj: Any) -> str:
        """Return the STIX id."""
        return str(obj.stix_id)

    @staticmethod
    def resolve_sighting_of(obj: Any) -> str:
        """Return the STIX id of the object seen."""
        return str(obj.body.get("sighting_of_ref", ""))

    @staticmethod
    def resolve_count(obj: Any) -> int:
        """Return how often it was seen (STIX leaves `count` optional: then 1)."""
        count = obj.body.get("count", 1)
        return count if isinstance(count, int) else 1

    @staticmethod
    def resolve_first_seen(obj: Any) -> datetime | None:
        """Return `first_seen` as a datetime, None when absent or unreadable."""
        return parse_timestamp(str(obj.body.get("first_seen", "")))

    @staticmethod
    def resolve_last_seen(obj: Any) -> datetime | None:
        """Return `last_seen` as a datetime, None when absent or unreadable."""
        return parse_timestamp(str(obj.body.get("last_seen", "")))

    @staticmethod
    def resolve_note(obj: Any) -> str:
        """Return the sighting's description, "" without one."""
        return str(obj.body.get("description") or "")

    @staticmethod
    def resolve_tlp(obj: Any) -> str:
        """Return the label ("TLP:AMBER")."""
        return tlp_label(obj.tlp)
