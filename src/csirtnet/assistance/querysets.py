"""Which assistance requests: visibility (the one rule), boxes and filters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Exists, OuterRef, Q

from csirtnet.assistance.kinds import LAW_ENFORCEMENT_TYPES
from csirtnet.directory.models import OrganizationKind

if TYPE_CHECKING:
    from csirtnet.accounts.models import Membership
    from csirtnet.assistance.models import AssistanceRequest  # noqa: F401 (quoted base)


def visibility_filter(actor: Membership | None) -> Q:
    """
    Select the requests `actor` may see (docs/assistance.md, "Who sees what").

    The requesting organization sees its requests, drafts included; the requested
    organization and the network secretariat see them once sent. The law-enforcement
    types (Budapest Convention arts. 29 and 30, Second Additional Protocol arts. 9 and
    10) are seen only by law-enforcement units and the secretariat, whatever the
    parties. The TLP label does not widen this: a request is never shown to other
    members, even at TLP:CLEAR or GREEN. Anonymous visitors see nothing; staff status
    adds nothing.
    """
    if actor is None:
        return Q(pk__in=[])
    org = actor.organization
    query = Q(requester_id=org.pk)
    if org.kind == OrganizationKind.SECRETARIAT:
        query |= ~Q(status="draft")
    else:
        query |= Q(requested_id=org.pk) & ~Q(status="draft")
    if org.kind not in (OrganizationKind.LAW_ENFORCEMENT, OrganizationKind.SECRETARIAT):
        query &= ~Q(request_type__in=LAW_ENFORCEMENT_TYPES)
    return query


class AssistanceRequestQuerySet(models.QuerySet["AssistanceRequest"]):
    """Assistance requests; every lookup for a person goes through `visible_to`."""

    def visible_to(self, actor: Membership | None) -> AssistanceRequestQuerySet:
        """
        Return the requests `actor` (a `Membership`; None for an anonymous visitor)
        may see under `visibility_filter`. Use it for pages, API, counts, form choices
        and foreign keys from other apps; hidden and missing both answer 404.
        """
        return self.filter(visibility_filter(actor))

    def outbox(self, actor: Membership) -> AssistanceRequestQuerySet:
        """Return the visible requests `actor`'s organization sent or drafted."""
        return self.visible_to(actor).filter(requester_id=actor.organization_id)

    def inbox(self, actor: Membership) -> AssistanceRequestQuerySet:
        """Return the visible requests addressed to `actor`'s organization (never drafts)."""
        return self.visible_to(actor).filter(requested_id=actor.organization_id)

    def with_incident_visibility(self, actor: Membership) -> AssistanceRequestQuerySet:
        """
        Annotate `is_incident_visible`: True where the linked incident is one `actor`
        sees. The requested organization may not see the requester's incident; pages
        and the API then show no link, not even its reference or uuid.
        """
        from csirtnet.incidents.models import Incident

        visible = Incident.objects.visible_to(actor).filter(pk=OuterRef("incident_id"))
        return self.annotate(is_incident_visible=Exists(visible))

    def matching(
        self,
        *,
        status: str | None = None,
        priority: str | None = None,
        request_type: str | None = None,
    ) -> AssistanceRequestQuerySet:
        """Narrow to a status, priority and type (their values); None or "" does not filter."""
        exact = {"status": status, "priority": priority, "request_type": request_type}
        return self.filter(**{key: value for key, value in exact.items() if value})
