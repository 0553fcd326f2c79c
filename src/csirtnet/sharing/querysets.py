"""Which STIX objects: visibility (the TLP rule) and the latest version of each."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from django.db.models import F, OuterRef, Subquery

from csirtnet.sharing.tlp import SharedQuerySet

if TYPE_CHECKING:
    from csirtnet.sharing.models import StixObject  # noqa: F401 (the quoted base below)


class StixObjectQuerySet(SharedQuerySet["StixObject"]):
    """STIX object versions; `visible_to(actor)` comes from `SharedQuerySet`."""

    def latest_versions(self) -> Self:
        """
        Return, among these rows, the latest version of each STIX object (STIX 2.1,
        section 3.2): the row with the highest `modified_at` per `stix_id`, then the last
        added, chosen in one SQL subquery. Apply it after `visible_to`, so that the
        latest version is the latest the actor may see.
        """
        newest = self.filter(stix_id=OuterRef("stix_id")).order_by(
            F("modified_at").desc(nulls_last=True), "-date_added", "-pk"
        )
        return self.filter(pk=Subquery(newest.values("pk")[:1]))
