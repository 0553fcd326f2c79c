"""Which incidents: visibility (the TLP rule), filters, and what an actor may add to."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q

from csirtnet.sharing.observables import detect
from csirtnet.sharing.tlp import TLP, SharedQuerySet

if TYPE_CHECKING:
    from csirtnet.accounts.models import Membership
    from csirtnet.incidents.models import Incident  # noqa: F401 (the quoted base below)


class IncidentQuerySet(SharedQuerySet["Incident"]):
    """Incidents; `visible_to(actor)` (the TLP rule) comes from `SharedQuerySet`."""

    def matching(
        self,
        *,
        status: str | None = None,
        tlp: str | None = None,
        severity: int | None = None,
        affected_state: str | None = None,
        sector: str | None = None,
        rsit: str | None = None,
        text: str | None = None,
        reported_after: datetime | None = None,
        reported_before: datetime | None = None,
    ) -> IncidentQuerySet:
        """
        Narrow to a status, TLP value, severity (1-5), affected state (ISO 3166-1
        alpha-2), sector, RSIT class (`predicate` or `predicate:value`), text (see
        `text_query`), and a report time window [after, before) in UTC. None or ""
        does not filter.
        """
        exact = {
            "status": status, "tlp": tlp, "severity": severity,
            "affected_states__code": affected_state,
            "reported_at__gte": reported_after, "reported_at__lt": reported_before,
        }  # fmt: skip
        incidents = self.filter(**{key: value for key, value in exact.items() if value})
        if sector:
            # a JSON list of plain words: its text holds the quoted value (SQLite and PostgreSQL)
            incidents = incidents.filter(sectors__icontains=f'"{sector}"')
        if rsit:
            predicate, _colon, value = rsit.partition(":")
            incidents = incidents.filter(taxonomy_predicate=predicate)
            if value:
                incidents = incidents.filter(taxonomy_value=value)
        if text and text.strip():
            incidents = incidents.filter(text_query(text.strip()))
        return incidents

    def contributed_by(self, actor: Membership) -> IncidentQuerySet:
        """
        Return the incidents `actor` sees and may add to (comments, observables,
        attachments, escalated events): its organization owns, leads or takes part,
        or, on a TLP:RED incident, the actor's user is addressed by name.
        """
        from csirtnet.incidents.models import Participation

        org = actor.organization_id
        participating = Participation.objects.filter(organization_id=org).values("incident")
        named = Q(tlp=TLP.RED, recipient_people=actor.user_id)
        mine = self.model._base_manager.filter(
            Q(owner_id=org) | Q(lead_organization_id=org) | Q(pk__in=participating) | named
        )
        return self.visible_to(actor).filter(pk__in=mine.values("pk"))

    def with_awaiting(self, actor: Membership) -> IncidentQuerySet:
        """Annotate `is_awaiting`: True where `actor`'s organization owes an acknowledgement."""
        return self.annotate(is_awaiting=awaiting_acknowledgement(actor))

    def awaiting_acknowledgement_by(self, actor: Membership) -> IncidentQuerySet:
        """Return the incidents `actor` sees whose acknowledgement its organization owes."""
        return self.visible_to(actor).filter(awaiting_acknowledgement(actor))


def awaiting_acknowledgement(actor: Membership) -> Exists:
    """
    Return an `Exists` over incidents: True where `actor`'s organization is a participant
    that has not acknowledged yet. Use it on `visible_to(actor)` rows only.
    """
    from csirtnet.incidents.models import Participation

    return Exists(
        Participation.objects.filter(
            incident=OuterRef("pk"),
            organization_id=actor.organization_id,
            acknowledged_at__isnull=True,
        )
    )


def text_query(text: str) -> Q:
    """
    Select incidents whose reference, title or description holds `text`, or one of
    whose observables holds it or equals it written another way (`detect`).
    """
    from csirtnet.incidents.models import Observable

    values = Q(value__icontains=text)
    with contextlib.suppress(ValueError):
        values |= Q(value=detect(text)[1])
    return (
        Q(reference__icontains=text)
        | Q(title__icontains=text)
        | Q(description__icontains=text)
        | Q(pk__in=Observable.objects.filter(values).values("incident"))
    )
