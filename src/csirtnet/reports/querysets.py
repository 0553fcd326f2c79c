"""Which events: visibility and filters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from csirtnet.accounts.models import Membership


class EventQuerySet(models.QuerySet):  # type: ignore[type-arg]
    """Events of abuse reports."""

    def visible_to(self, actor: Membership | None) -> EventQuerySet:
        """
        Return the events `actor` may see: those routed to its organization; every event
        for the network secretariat (which also keeps the unrouted queue); none for
        anonymous visitors. Staff status adds nothing.
        """
        if actor is None:
            return self.none()
        if actor.organization.is_secretariat:
            return self.all()
        return self.filter(organization_id=actor.organization_id)


class ReportQuerySet(models.QuerySet):  # type: ignore[type-arg]
    """Ingested reports."""

    def visible_to(self, actor: Membership | None) -> ReportQuerySet:
        """
        Return the reports `actor` may see: those it submitted or that have events routed
        to its organization; all for the secretariat; none for anonymous visitors.
        """
        if actor is None:
            return self.none()
        if actor.organization.is_secretariat:
            return self.all()
        org = actor.organization_id
        return self.filter(
            models.Q(submitted_by_id=org) | models.Q(digests__organization_id=org)
        ).distinct()
