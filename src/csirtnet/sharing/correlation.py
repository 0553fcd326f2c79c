"""
Correlation: for one value, which incidents, STIX objects (indicators, observables)
and sightings hold it, computed only within what the asking actor may see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from csirtnet.core import audit
from csirtnet.sharing.models import StixObject
from csirtnet.sharing.observables import detect, normalize

if TYPE_CHECKING:
    from csirtnet.accounts.models import Membership

MAX_HITS = 200  # per kind of hit; a page shows the newest


@dataclass
class Correlation:
    """
    What holds `value` (of observable `type`, normalized), as the actor may see it:
    `incidents` and `stix_objects` holding it, and `sightings` of those objects
    (STIX 2.1 Sighting, section 5.5: `sighting_of_ref`). Each list is newest first and
    holds at most MAX_HITS rows; `*_count` are the full counts.
    """

    type: str
    value: str
    incidents: list[Any] = field(default_factory=list)
    incident_count: int = 0
    stix_objects: list[StixObject] = field(default_factory=list)
    stix_object_count: int = 0
    sightings: list[StixObject] = field(default_factory=list)
    sighting_count: int = 0


def correlate(*, actor: Membership | None, value: str, kind: str | None = None) -> Correlation:
    """
    Return what holds `value` within what `actor` may see (`visible_to`, the TLP rule):
    incidents with it as an observable, STIX objects holding it (an SCO's value or an
    indicator pattern's equality comparison), and sightings of those objects. `kind` is
    an `ObservableType` value; without it the type is detected.

    Raises:
        ValueError: `value` is not an observable (of `kind`); the message quotes it.
    """
    from csirtnet.incidents.models import Incident

    kind, normalized = (kind, normalize(kind, value)) if kind else detect(value)
    found = Correlation(type=kind, value=normalized)
    incidents = (
        Incident.objects.visible_to(actor)
        .filter(observables__type=kind, observables__value=normalized)
        .distinct()
        .select_related("owner")
        .order_by("-reported_at", "-pk")
    )
    found.incident_count = incidents.count()
    found.incidents = list(incidents[:MAX_HITS])
    holders = StixObject.objects.visible_to(actor).filter(
        pk__in=StixObject.objects.filter(values__type=kind, values__value=normalized).values("pk")
    )
    found.stix_object_count = holders.count()
    found.stix_objects = list(
        holders.select_related("owner").order_by("-date_added", "-pk")[:MAX_HITS]
    )
    held_ids = list(holders.values_list("stix_id", flat=True).distinct()[:10000])
    sightings = StixObject.objects.visible_to(actor).filter(
        type="sighting", body__sighting_of_ref__in=held_ids
    )
    found.sighting_count = sightings.count()
    found.sightings = list(
        sightings.select_related("owner").order_by("-date_added", "-pk")[:MAX_HITS]
    )
    return found


def record_correlation_reads(*, actor: Membership | None, found: Correlation) -> None:
    """Record in the audit log the TLP:AMBER+STRICT and TLP:RED hits shown to `actor`."""
    audit.record_reads(actor=actor, rows=found.incidents, action="incident.correlated")
    audit.record_reads(actor=actor, rows=found.stix_objects, action="stix.correlated")
    audit.record_reads(actor=actor, rows=found.sightings, action="stix.correlated")
