"""
JSON endpoints of incidents (mounted under /api/v1/ by `csirtnet.api`): list, report,
read, edit, move along the workflow, comment, acknowledge, add observables, and place
observables in member states. Every incident is fetched through `visible_to`.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.responses import Status

from csirtnet.accounts.models import Membership
from csirtnet.api.errors import error_responses, reject_unknown_parameters
from csirtnet.core import audit
from csirtnet.directory.models import Organization
from csirtnet.incidents import services
from csirtnet.incidents.models import Incident, Observable, Participation, TimelineEntry
from csirtnet.incidents.querysets import IncidentQuerySet
from csirtnet.incidents.schemas import (
    AffectedStatesIn,
    AffectedStatesOut,
    IncidentFilters,
    IncidentIn,
    IncidentListOut,
    IncidentOut,
    IncidentPatch,
    ObservableListOut,
    ObservablesIn,
    ObservableValue,
    PageQuery,
    ParticipantOut,
    StatusIn,
    TimelineEntryIn,
    TimelineEntryOut,
    TimelineListOut,
)

router = Router(tags=["incidents"])


# --- incidents -----------------------------------------------------------------------


@router.get("/incidents", response={200: IncidentListOut, **error_responses(400, 401, 403)})
def list_incidents(request: HttpRequest, filters: Query[IncidentFilters]) -> dict[str, Any]:
    """
    List the incidents visible to the token's organization, newest report first,
    filtered by the query string (any other parameter answers 400).
    """
    reject_unknown_parameters(request, IncidentFilters.model_fields)
    incidents = _filtered(Incident.objects.visible_to(_actor(request)), filters)
    page = list(_with_related(incidents)[filters.offset : filters.offset + filters.limit])
    audit.record_reads(actor=_actor(request), rows=page, action="incident.listed")
    return {"count": incidents.count(), "items": page}


@router.post("/incidents", response={201: IncidentOut, **error_responses(400, 401, 403, 413)})
def create_incident(request: HttpRequest, payload: IncidentIn) -> Status[Incident]:
    """
    Report an incident for the token's organization. Without `affected_states` the
    states are proposed from the observables; their national CSIRTs become participants
    and are notified.
    """
    incident = services.create_incident(
        actor=_actor(request),
        title=payload.title,
        description=payload.description,
        taxonomy_predicate=payload.taxonomy_predicate,
        taxonomy_value=payload.taxonomy_value,
        severity=payload.severity,
        sectors=[sector.value for sector in payload.sectors],
        tlp=payload.tlp,
        pap=payload.pap,
        detected_at=payload.detected_at,
        observables=_observables(payload.observables),
        affected_states=payload.affected_states,
        invited=_organizations(payload.invited, field="invited"),
        named_people=_people(payload.named_people),
    )
    return Status(201, _get(request, incident.uuid))


@router.get(
    "/incidents/{incident_uuid}", response={200: IncidentOut, **error_responses(401, 403, 404)}
)
def get_incident(request: HttpRequest, incident_uuid: UUID) -> Incident:
    """Return one incident."""
    return _get(request, incident_uuid)


@router.patch(
    "/incidents/{incident_uuid}",
    response={200: IncidentOut, **error_responses(400, 401, 403, 404)},
)
def update_incident(request: HttpRequest, incident_uuid: UUID, payload: IncidentPatch) -> Incident:
    """Change an incident's fields or widen its audience; only its owner may (else 403)."""
    incident = _get(request, incident_uuid)
    changes = payload.model_dump(exclude_unset=True)
    if "sectors" in changes:
        changes["sectors"] = [getattr(sector, "value", sector) for sector in changes["sectors"]]
    if "invited" in changes:
        changes["invited"] = _organizations(changes["invited"], field="invited")
    if "named_people" in changes:
        changes["named_people"] = _people(changes["named_people"])
    if "lead_organization" in changes:
        (lead,) = _organizations([changes["lead_organization"]], field="lead_organization")
        changes["lead_organization"] = lead
    services.update_incident(actor=_actor(request), incident=incident, **changes)
    return _get(request, incident_uuid)


@router.post(
    "/incidents/{incident_uuid}/status",
    response={200: IncidentOut, **error_responses(400, 401, 403, 404, 409)},
)
def change_status(request: HttpRequest, incident_uuid: UUID, payload: StatusIn) -> Incident:
    """
    Move an incident along its workflow (owner or lead organization); a move the
    workflow does not allow answers 409 `illegal_transition`.
    """
    incident = _get(request, incident_uuid)
    services.change_status(
        actor=_actor(request), incident=incident, status=payload.status.value, note=payload.note
    )
    return _get(request, incident_uuid)


@router.post(
    "/incidents/{incident_uuid}/acknowledge",
    response={200: ParticipantOut, **error_responses(401, 403, 404)},
)
def acknowledge_incident(request: HttpRequest, incident_uuid: UUID) -> Participation:
    """
    Record that the token's organization, a participant, acknowledges the incident
    (the first time counts; again returns it unchanged). Others answer 403.
    """
    incident = _get(request, incident_uuid)
    participation = services.acknowledge(actor=_actor(request), incident=incident)
    return Participation.objects.select_related("organization__state").get(pk=participation.pk)


# --- timeline ------------------------------------------------------------------------


@router.get(
    "/incidents/{incident_uuid}/timeline",
    response={200: TimelineListOut, **error_responses(400, 401, 403, 404)},
)
def list_timeline(
    request: HttpRequest, incident_uuid: UUID, page: Query[PageQuery]
) -> dict[str, Any]:
    """List the incident's shared timeline, oldest first."""
    reject_unknown_parameters(request, PageQuery.model_fields)
    entries = _get(request, incident_uuid).timeline.select_related("author", "organization__state")
    items = entries[page.offset : page.offset + page.limit]
    return {"count": entries.count(), "items": list(items)}


@router.post(
    "/incidents/{incident_uuid}/timeline",
    response={201: TimelineEntryOut, **error_responses(400, 401, 403, 404)},
)
def add_comment(
    request: HttpRequest, incident_uuid: UUID, payload: TimelineEntryIn
) -> Status[TimelineEntry]:
    """Comment on the incident (owner, lead organization or participant; else 403)."""
    incident = _get(request, incident_uuid)
    entry = services.add_comment(actor=_actor(request), incident=incident, text=payload.text)
    return Status(
        201, TimelineEntry.objects.select_related("author", "organization__state").get(pk=entry.pk)
    )


# --- observables ---------------------------------------------------------------------


@router.get(
    "/incidents/{incident_uuid}/observables",
    response={200: ObservableListOut, **error_responses(400, 401, 403, 404)},
)
def list_observables(
    request: HttpRequest, incident_uuid: UUID, page: Query[PageQuery]
) -> dict[str, Any]:
    """List the incident's observables by type and value."""
    reject_unknown_parameters(request, PageQuery.model_fields)
    observables = _get(request, incident_uuid).observables.select_related(
        "routed_to__state", "added_by"
    )
    items = observables[page.offset : page.offset + page.limit]
    return {"count": observables.count(), "items": list(items)}


@router.post(
    "/incidents/{incident_uuid}/observables",
    response={201: ObservableListOut, **error_responses(400, 401, 403, 404, 413)},
)
def add_observables(
    request: HttpRequest, incident_uuid: UUID, payload: ObservablesIn
) -> Status[dict[str, Any]]:
    """
    Add observables (owner, lead organization or participant; else 403) and return the
    new ones; values already on the incident are skipped.
    """
    incident = _get(request, incident_uuid)
    created = services.add_observables(
        actor=_actor(request), incident=incident, observables=_observables(payload.observables)
    )
    new = Observable.objects.filter(pk__in=[observable.pk for observable in created])
    items = list(new.select_related("routed_to__state", "added_by"))
    return Status(201, {"count": len(items), "items": items})


@router.post(
    "/affected-states",
    response={200: AffectedStatesOut, **error_responses(400, 401, 403, 413)},
)
def propose_affected_states(request: HttpRequest, payload: AffectedStatesIn) -> dict[str, Any]:
    """Return the member states the routing places the observables in, by state code."""
    proposals = services.propose_affected_states(_observables(payload.observables))
    return {
        "items": [
            {
                "code": proposal.state.code,
                "name_en": proposal.state.name_en,
                "name_es": proposal.state.name_es,
                "values": list(proposal.values),
            }
            for proposal in proposals
        ]
    }


# --- helpers -------------------------------------------------------------------------


def _actor(request: HttpRequest) -> Membership:
    """Return the membership the token authentication set (never None past it)."""
    actor: Membership = request.actor  # type: ignore[attr-defined]
    return actor


def _get(request: HttpRequest, incident_uuid: UUID) -> Incident:
    """Return the incident if the actor may see it; missing and hidden both raise Http404."""
    visible = Incident.objects.visible_to(_actor(request))
    incident = get_object_or_404(_with_related(visible), uuid=incident_uuid)
    audit.record_reads(actor=_actor(request), rows=[incident], action="incident.read")
    return incident


def _with_related(incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    """Load what `IncidentOut` shows in a fixed number of queries (no N+1)."""
    participations = Participation.objects.select_related("organization__state")
    people = get_user_model().objects.only("pk", "username")
    return incidents.select_related(
        "owner__state", "lead_organization__state", "author"
    ).prefetch_related(
        "affected_states",
        Prefetch("recipient_people", queryset=people),
        Prefetch("participations", queryset=participations),
    )


def _filtered(incidents: IncidentQuerySet, filters: IncidentFilters) -> IncidentQuerySet:
    """Apply the list filters of the query string (`IncidentQuerySet.matching`)."""
    return incidents.matching(
        status=filters.status.value if filters.status else None,
        tlp=filters.tlp,
        severity=filters.severity,
        affected_state=filters.affected_state,
        sector=filters.sector.value if filters.sector else None,
        rsit=filters.rsit,
        text=filters.q,
        reported_after=filters.reported_after,
        reported_before=filters.reported_before,
    )


def _observables(values: list[ObservableValue]) -> list[str | tuple[str, str]]:
    """Return observables as the services take them: a string, or (type, value)."""
    return [
        value if isinstance(value, str) else (value.type.value, value.value) for value in values
    ]


def _organizations(short_names: list[str], *, field: str) -> list[Organization]:
    """
    Return the organizations with these short names.

    Raises:
        ValidationError: a name is unknown (`{field: …}`).
    """
    wanted = list(dict.fromkeys(short_names))
    found = list(Organization.objects.filter(short_name__in=wanted))
    unknown = set(wanted) - {organization.short_name for organization in found}
    if unknown:
        raise ValidationError(
            {
                field: _("Unknown organizations: %(names)s")
                % {"names": ", ".join(sorted(unknown))[:200]}
            }
        )
    return found


def _people(usernames: list[str]) -> list[Any]:
    """
    Return the users with these usernames.

    Raises:
        ValidationError: a username is unknown (`{"named_people": …}`), worded as for an
            inactive one so that the answer does not tell which usernames exist.
    """
    wanted = list(dict.fromkeys(usernames))
    found = list(get_user_model().objects.filter(username__in=wanted))
    if len(found) != len(wanted):
        raise ValidationError({"named_people": _("Name only active members of the network.")})
    return found
