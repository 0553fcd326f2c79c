"""
JSON endpoints of assistance (mounted under /api/v1/ by `csirtnet.api`): list (inbox,
outbox), create, read, move along the workflow, history. Every request is fetched
through `visible_to`: hidden and missing both answer 404.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.responses import Status

from csirtnet.accounts.models import Membership
from csirtnet.api.errors import (
    ILLEGAL_TRANSITION,
    ApiError,
    error_responses,
    reject_unknown_parameters,
)
from csirtnet.assistance import services
from csirtnet.assistance.exceptions import IllegalTransitionError
from csirtnet.assistance.models import AssistanceRequest
from csirtnet.assistance.querysets import AssistanceRequestQuerySet
from csirtnet.assistance.schemas import (
    AssistanceFilters,
    AssistanceRequestIn,
    AssistanceRequestListOut,
    AssistanceRequestOut,
    HistoryListOut,
    PageQuery,
    TransitionIn,
)
from csirtnet.core import audit
from csirtnet.directory.models import Organization
from csirtnet.incidents.models import Incident

router = Router(tags=["assistance"])


@router.get(
    "/assistance-requests",
    response={200: AssistanceRequestListOut, **error_responses(400, 401, 403)},
)
def list_assistance_requests(
    request: HttpRequest, filters: Query[AssistanceFilters]
) -> dict[str, Any]:
    """
    List the requests visible to the token's organization, newest first: `box=inbox`
    those addressed to it, `box=outbox` those it sent or drafted; filtered by status,
    priority and type (any other parameter answers 400).
    """
    reject_unknown_parameters(request, AssistanceFilters.model_fields)
    actor = _actor(request)
    objects = AssistanceRequest.objects
    boxes = {"inbox": objects.inbox, "outbox": objects.outbox, None: objects.visible_to}
    found = boxes[filters.box](actor).matching(
        status=filters.status, priority=filters.priority, request_type=filters.type
    )
    page = _with_related(found, actor)[filters.offset : filters.offset + filters.limit]
    return {"count": found.count(), "items": list(page)}


@router.post(
    "/assistance-requests",
    response={201: AssistanceRequestOut, **error_responses(400, 401, 403, 413)},
)
def create_assistance_request(
    request: HttpRequest, payload: AssistanceRequestIn
) -> Status[AssistanceRequest]:
    """
    Draft a request from the token's organization and send it (unless `send` is
    false). A law-enforcement type sent by an organization that is not a
    law-enforcement unit answers 400 on `request_type`, as an unknown type does.
    """
    actor = _actor(request)
    created = services.create_request(
        actor=actor,
        request_type=payload.type.value,
        requested=_organization(payload.requested),
        title=payload.title,
        description=payload.description,
        details=dict(payload.details),
        priority=payload.priority.value,
        tlp=payload.tlp,
        legal_basis=payload.legal_basis,
        incident=_incident(actor, payload.incident),
        send=payload.send,
    )
    return Status(201, _get(request, created.uuid))


@router.get(
    "/assistance-requests/{request_uuid}",
    response={200: AssistanceRequestOut, **error_responses(401, 403, 404)},
)
def get_assistance_request(request: HttpRequest, request_uuid: UUID) -> AssistanceRequest:
    """Return one request."""
    return _get(request, request_uuid)


@router.post(
    "/assistance-requests/{request_uuid}/transitions",
    response={200: AssistanceRequestOut, **error_responses(400, 401, 403, 404, 409)},
)
def transition_assistance_request(
    request: HttpRequest, request_uuid: UUID, payload: TransitionIn
) -> AssistanceRequest:
    """
    Move a request along its workflow: the requester sends and withdraws, the
    requested organization acknowledges, accepts, declines (with `reason`), starts,
    fulfils and partially fulfils (else 403). A move the workflow does not allow from
    the current status answers 409 `illegal_transition`.
    """
    item = _get(request, request_uuid)
    try:
        services.change_status(
            actor=_actor(request),
            request=item,
            status=services.ACTIONS[payload.action].status,
            reason=payload.reason,
        )
    except IllegalTransitionError as error:
        raise ApiError(409, ILLEGAL_TRANSITION, " ".join(error.messages)) from error
    return _get(request, request_uuid)


@router.get(
    "/assistance-requests/{request_uuid}/history",
    response={200: HistoryListOut, **error_responses(400, 401, 403, 404)},
)
def list_assistance_history(
    request: HttpRequest, request_uuid: UUID, page: Query[PageQuery]
) -> dict[str, Any]:
    """List the request's history, oldest first: moves, reminders and escalations."""
    reject_unknown_parameters(request, PageQuery.model_fields)
    entries = _get(request, request_uuid).history.select_related("user", "organization__state")
    items = entries[page.offset : page.offset + page.limit]
    return {"count": entries.count(), "items": list(items)}


# --- helpers -------------------------------------------------------------------------


def _actor(request: HttpRequest) -> Membership:
    """Return the membership the token authentication set (never None past it)."""
    actor: Membership = request.actor  # type: ignore[attr-defined]
    return actor


def _get(request: HttpRequest, request_uuid: UUID) -> AssistanceRequest:
    """Return the request if the actor may see it; missing and hidden both raise Http404."""
    actor = _actor(request)
    visible = AssistanceRequest.objects.visible_to(actor)
    found = get_object_or_404(_with_related(visible, actor), uuid=request_uuid)
    audit.record_reads(actor=actor, rows=[found], action="assistance.read")
    return found


def _with_related(
    requests: AssistanceRequestQuerySet, actor: Membership
) -> QuerySet[AssistanceRequest]:
    """Load what `AssistanceRequestOut` shows in one query (no N+1), incident visibility too."""
    return requests.with_incident_visibility(actor).select_related(
        "requester__state", "requested__state", "author", "incident"
    )


def _organization(short_name: str) -> Organization:
    """
    Return the organization with this short name.

    Raises:
        ValidationError: `{"requested": …}` when there is none.
    """
    found = Organization.objects.filter(short_name=short_name).first()
    if found is None:
        raise ValidationError({"requested": _("Choose an organization from the list.")})
    return found


def _incident(actor: Membership, incident_uuid: UUID | None) -> Incident | None:
    """
    Return the incident `incident_uuid` if the actor sees it.

    Raises:
        ValidationError: `{"incident": …}` for one it does not see, worded as for a
            missing one.
    """
    if incident_uuid is None:
        return None
    found = Incident.objects.visible_to(actor).filter(uuid=incident_uuid).first()
    if found is None:
        raise ValidationError({"incident": _("Choose an incident your organization sees.")})
    return found
