"""Which evidence: visibility (the parent's rule plus custody), and the append-only chain."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from csirtnet.accounts.models import Membership
    from csirtnet.evidence.models import CustodyEvent, Evidence  # noqa: F401 (quoted bases)


class EvidenceQuerySet(models.QuerySet["Evidence"]):
    """Evidence items; `visible_to(actor)` is the one place that says who sees them."""

    def visible_to(self, actor: Membership | None) -> EvidenceQuerySet:
        """
        Return the evidence `actor` may see: items whose incident or assistance request
        it sees (`Incident.objects.visible_to`, `AssistanceRequest.objects.visible_to`),
        items its organization holds (current custodian), and items on their way to it
        (receiver of a pending transfer). Nothing for None (anonymous visitors). Staff
        status adds nothing.
        """
        if actor is None:
            return self.none()
        from csirtnet.assistance.models import AssistanceRequest
        from csirtnet.incidents.models import Incident

        org = actor.organization_id
        allowed = self.model._base_manager.filter(
            Q(incident__in=Incident.objects.visible_to(actor).values("pk"))
            | Q(assistance_request__in=AssistanceRequest.objects.visible_to(actor).values("pk"))
            | Q(custodian_id=org)
            | Q(pending_receiver_id=org)
        )
        return self.filter(pk__in=allowed.values("pk"))


class AppendOnlyQuerySet(models.QuerySet["CustodyEvent"]):
    """Custody events: bulk `update()` and `delete()` are refused (the table is append-only)."""

    def update(self, **kwargs: Any) -> NoReturn:
        """Refuse: custody events are never changed.

        Raises:
            TypeError: always.
        """
        raise TypeError("custody events are append-only: they cannot be updated")

    def delete(self) -> NoReturn:
        """Refuse: custody events are never removed.

        Raises:
            TypeError: always.
        """
        raise TypeError("custody events are append-only: they cannot be deleted")
