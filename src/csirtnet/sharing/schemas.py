"""Input and output shapes of the sharing JSON API (correlation)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from ninja import Field, Schema
from pydantic import StringConstraints

from csirtnet.api.schemas import OrganizationRef, TlpLabel, tlp_label
from csirtnet.sharing.observables import MAX_VALUE, ObservableType


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
