"""
The evidence panel of a parent page (an incident or an assistance request): which
items it lists, what the actor may do, and where the parent lives. Used by the
`evidence_panel` template tag and the evidence views.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.db.models import Prefetch
from django.urls import NoReverseMatch, reverse

from csirtnet.evidence import services
from csirtnet.evidence.models import CustodyEvent, Evidence

if TYPE_CHECKING:
    from csirtnet.accounts.models import Membership

INCIDENT, REQUEST = "incident", "request"  # the `kind` of a parent in upload URLs


def parent_kind(parent: Any) -> str:
    """Return "incident" for an `Incident`, "request" for an `AssistanceRequest`."""
    from csirtnet.incidents.models import Incident

    return INCIDENT if isinstance(parent, Incident) else REQUEST


def parent_url(parent: Any) -> str:
    """
    Return the address of the parent's page (`incidents:detail`, `assistance:detail`,
    each taking the parent's uuid), or "" while the assistance pages do not name one.
    """
    name = "incidents:detail" if parent_kind(parent) == INCIDENT else "assistance:detail"
    try:
        return reverse(name, args=[parent.uuid])
    except NoReverseMatch:
        return ""


def visible_parent(actor: Membership, kind: str, parent_uuid: UUID) -> Any:
    """Return the incident or assistance request `actor` sees with this uuid, else None."""
    from csirtnet.assistance.models import AssistanceRequest
    from csirtnet.incidents.models import Incident

    model: Any = {INCIDENT: Incident, REQUEST: AssistanceRequest}.get(kind)
    if model is None:
        return None
    return model.objects.visible_to(actor).filter(uuid=parent_uuid).first()


def evidence_of(actor: Membership | None, parent: Any) -> Any:
    """
    Return the evidence of `parent` that `actor` sees, oldest first, with the custody
    chain and the organizations loaded (a fixed number of queries).
    """
    field = "incident" if parent_kind(parent) == INCIDENT else "assistance_request"
    events = CustodyEvent.objects.select_related(
        "actor", "organization", "receiving_organization"
    ).order_by("sequence")
    return (
        Evidence.objects.visible_to(actor)
        .filter(**{field: parent})
        .select_related("owner", "custodian", "pending_receiver", "added_by")
        .prefetch_related(Prefetch("custody", queryset=events))
    )


def panel_context(actor: Membership | None, parent: Any) -> dict[str, Any]:
    """
    Return what `evidence/partials/panel.html` shows: `items` (each evidence item with
    `can_hold`, `can_accept`), `can_add` (False too once an assistance request is
    closed, `services.check_open`), `upload_url`.
    """
    from csirtnet.evidence.forms import EvidenceForm

    items = list(evidence_of(actor, parent))
    for item in items:
        item.can_hold = services.can_hold(actor, item)
        item.can_accept = services.can_accept(actor, item)
    return {
        "items": items,
        "can_add": services.can_add_to(actor, parent) and services.accepts_evidence(parent),
        "upload_url": reverse("evidence:upload", args=[parent_kind(parent), parent.uuid]),
        "form": EvidenceForm(),
    }
