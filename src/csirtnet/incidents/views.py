"""
Pages of incidents: the list and its CSV export, report, detail, edit, the timeline
actions (comment, status, acknowledgement, observables, attachments) and the escalation
of inbox events. Every incident is fetched through `visible_to`; hidden and missing
answer 404 alike.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from csirtnet.core import audit
from csirtnet.core.csvsafe import escape_spreadsheet_cell
from csirtnet.incidents import services
from csirtnet.incidents.forms import (
    AttachmentForm,
    CommentForm,
    EscalateForm,
    IncidentEditForm,
    IncidentFilterForm,
    IncidentForm,
    ObservablesForm,
    StatusForm,
    add_service_errors,
)
from csirtnet.incidents.models import SEVERITY_DEFINITIONS, Attachment, Incident, Severity, Status
from csirtnet.reports.models import Event
from csirtnet.sharing.tlp import strictest

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http.response import HttpResponseBase

    from csirtnet.accounts.models import Membership

INCIDENTS_PER_PAGE = 50
FORM_METHODS = require_http_methods(["GET", "HEAD", "POST"])
EXPORT_COLUMNS = (
    "reference", "tlp", "pap", "title", "status", "severity", "rsit", "sectors",
    "affected_states", "owner", "lead_organization", "detected_at", "reported_at",
    "acknowledged_at", "resolved_at", "uuid",
)  # fmt: skip


@require_safe
def incident_list(request: HttpRequest) -> HttpResponse:
    """
    List the incidents the actor sees, newest first, filtered by the query string, 50 a
    page, marking those awaiting its organization's acknowledgement; counts per status
    over the whole visible set. A user without an organization gets a page saying so.
    """
    actor: Membership | None = request.actor  # type: ignore[attr-defined]
    if actor is None:
        return render(request, "incidents/no_organization.html", status=403)
    visible = Incident.objects.visible_to(actor).with_awaiting(actor)
    form = IncidentFilterForm(request.GET)
    found = form.filter_incidents(visible).select_related("owner", "lead_organization")
    page = Paginator(found.prefetch_related("affected_states"), INCIDENTS_PER_PAGE)
    page_obj = page.get_page(request.GET.get("page"))
    context = {"form": form, "page_obj": page_obj, "counts": _counts(visible)}
    audit.record_reads(actor=actor, rows=page_obj, action="incident.listed")
    return render(request, "incidents/incident_list.html", context)


@require_safe
def export(request: HttpRequest) -> HttpResponse:
    """
    Return the filtered list as CSV (UTF-8 with a byte-order mark, a header row), through
    `exportable_to`: never a TLP:RED incident. Every cell is escaped against formula
    injection; the file carries the strictest label of its rows in its name
    (`incidents-TLP-AMBER.csv`; an empty file is TLP:AMBER, unlabelled by default).
    """
    actor = _actor(request)
    exportable = Incident.objects.exportable_to(actor).with_awaiting(actor)
    rows = IncidentFilterForm(request.GET).filter_incidents(exportable)
    label = strictest(rows.order_by().values_list("tlp", flat=True).distinct())
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    file_name = f"incidents-{label.label.replace(':', '-')}.csv"
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(EXPORT_COLUMNS)
    rows = rows.select_related("owner", "lead_organization").prefetch_related("affected_states")
    exported = list(rows)
    writer.writerows(_escaped(_export_row(incident)) for incident in exported)
    audit.record_reads(actor=actor, rows=exported, action="incident.exported")
    return response


@FORM_METHODS
def create(request: HttpRequest) -> HttpResponse:
    """
    Show the report form; on "Propose affected states" show it again with the states
    its observables point to checked; on "Report incident" report it and open it.
    Service errors go back into the form.
    """
    actor = _actor(request)
    form = IncidentForm(request.POST or None, actor=actor)
    if request.method == "POST" and "propose" in request.POST:
        form = form.with_proposed_states()
    elif request.method == "POST" and form.is_valid():
        try:
            incident = services.create_incident(actor=actor, **form.service_arguments())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("incidents:detail", incident.uuid)
    return render(request, "incidents/incident_form.html", {"form": form})


@require_safe
def detail(request: HttpRequest, incident_uuid: UUID) -> HttpResponse:
    """Show one incident: fields, participants, observables, files, events, timeline, forms."""
    return _detail_page(request, _incident(request, incident_uuid))


@FORM_METHODS
def edit(request: HttpRequest, incident_uuid: UUID) -> HttpResponse:
    """
    Show and save the edit form of an incident; its owner only (PermissionDenied, 403,
    for another organization that sees it; 404 for one that does not). Audiences only
    grow: new affected states, invited organizations and named people.
    """
    actor = _actor(request)
    incident = _incident(request, incident_uuid)
    if not services.can_change(actor, incident):
        raise PermissionDenied
    form = IncidentEditForm(request.POST or None, actor=actor, incident=incident)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_incident(actor=actor, incident=incident, **form.service_arguments())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("incidents:detail", incident.uuid)
    context = {"form": form, "incident": incident}
    return render(request, "incidents/incident_form.html", context)


@require_POST
def comment(request: HttpRequest, incident_uuid: UUID) -> HttpResponseBase:
    """Add a comment to the timeline (403 for who may not contribute); errors in the form."""
    incident = _incident(request, incident_uuid)
    form = CommentForm(request.POST)
    if form.is_valid() and _applied(
        form, services.add_comment, request, incident, text=form.cleaned_data["text"]
    ):
        return redirect(_timeline_url(incident))
    return _detail_page(request, incident, comment_form=form)


@require_POST
def change_status(request: HttpRequest, incident_uuid: UUID) -> HttpResponseBase:
    """
    Move the incident to the chosen status with an optional note (owner or lead only,
    else 403); a move the workflow does not allow comes back as a form error.
    """
    incident = _incident(request, incident_uuid)
    form = StatusForm(request.POST, incident=incident)
    if form.is_valid() and _applied(
        form, services.change_status, request, incident, **form.cleaned_data
    ):
        return redirect(_timeline_url(incident))
    return _detail_page(request, incident, status_form=form)


@require_POST
def acknowledge(request: HttpRequest, incident_uuid: UUID) -> HttpResponseBase:
    """Acknowledge the incident for the actor's organization (403 if not a participant)."""
    incident = _incident(request, incident_uuid)
    services.acknowledge(actor=_actor(request), incident=incident)
    return redirect("incidents:detail", incident.uuid)


@require_POST
def add_observables(request: HttpRequest, incident_uuid: UUID) -> HttpResponseBase:
    """Add observables, one a line (403 for who may not contribute); bad lines in the form."""
    incident = _incident(request, incident_uuid)
    form = ObservablesForm(request.POST)
    if form.is_valid() and _applied(
        form, services.add_observables, request, incident, **form.cleaned_data
    ):
        return redirect(_anchor(incident, "observables"))
    return _detail_page(request, incident, observables_form=form)


@require_POST
def upload_attachment(request: HttpRequest, incident_uuid: UUID) -> HttpResponseBase:
    """Store an uploaded file (403 for who may not contribute); size errors in the form."""
    incident = _incident(request, incident_uuid)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        if _applied(
            form, services.add_attachment, request, incident, name=upload.name, content=upload
        ):
            return redirect(_anchor(incident, "attachments"))
    return _detail_page(request, incident, attachment_form=form)


@require_safe
def attachment(request: HttpRequest, incident_uuid: UUID, attachment_uuid: UUID) -> FileResponse:
    """
    Send an attachment of an incident the actor sees, always as a download of opaque
    bytes (`application/octet-stream`, `nosniff`, no rendering). 404 when the incident is
    hidden or missing, or the file is gone from storage.
    """
    incident = _incident(request, incident_uuid)
    stored = get_object_or_404(Attachment, incident=incident, uuid=attachment_uuid)
    audit.record_reads(actor=_actor(request), rows=[incident], action="incident.attachment_read")
    try:
        content = services.attachment_path(stored).open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        content, as_attachment=True, filename=stored.name, content_type="application/octet-stream"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@FORM_METHODS
def escalate(request: HttpRequest) -> HttpResponse:
    """
    Show the escalation form for the inbox events selected (`events`: their uuids; one
    the actor does not see, or not a uuid, answers 404), then escalate them into a new
    incident or an open one the actor may add to, and open that incident.
    """
    actor = _actor(request)
    source = request.POST if request.method == "POST" else request.GET
    events = _selected_events(actor, source.getlist("events"))
    form = EscalateForm(request.POST or None, actor=actor, events=events)
    if request.method == "POST" and form.is_valid():
        try:
            incident = services.escalate_events(
                actor=actor, events=events, **form.service_arguments()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("incidents:detail", incident.uuid)
    context = {"form": form, "events": events}
    return render(request, "incidents/escalate.html", context, status=200 if events else 400)


# --- helpers -------------------------------------------------------------------------


def _actor(request: HttpRequest) -> Membership:
    """Return the actor; a user without an organization finds nothing here (404)."""
    actor: Membership | None = request.actor  # type: ignore[attr-defined]
    if actor is None:
        raise Http404
    return actor


def _incident(request: HttpRequest, incident_uuid: UUID) -> Incident:
    """Return the incident if the actor sees it, else 404 (hidden and missing alike)."""
    incidents = Incident.objects.visible_to(_actor(request))
    return get_object_or_404(
        incidents.select_related("owner__state", "lead_organization", "author"),
        uuid=incident_uuid,
    )


def _applied(
    form: Any, verb: Any, request: HttpRequest, incident: Incident, **arguments: Any
) -> bool:
    """
    Call the service `verb` for the actor on `incident`; return True when it succeeded,
    False with its `ValidationError` in `form`. PermissionDenied propagates (403).
    """
    try:
        verb(actor=_actor(request), incident=incident, **arguments)
    except ValidationError as error:
        add_service_errors(form, error)
        return False
    return True


def _detail_page(request: HttpRequest, incident: Incident, **forms: Any) -> HttpResponse:
    """Render the incident page; `forms` replace the empty forms (bound, with errors)."""
    actor = _actor(request)
    visible_events = Event.objects.visible_to(actor).filter(incidents=incident)
    context = {
        "incident": incident,
        "rsit_label": incident.rsit_name,
        "severity_definition": SEVERITY_DEFINITIONS[Severity(incident.severity)],
        "participations": incident.participations.select_related(
            "organization__state", "acknowledged_by"
        ),
        "observables": incident.observables.select_related("routed_to"),
        "attachments": incident.attachments.select_related("organization", "uploaded_by"),
        "events": visible_events.select_related("report"),
        "event_count": incident.events.count(),
        "named_people": incident.recipient_people.order_by("username"),
        "timeline": incident.timeline.select_related("author", "organization"),
        "can_change": services.can_change(actor, incident),
        "can_contribute": services.can_contribute(actor, incident),
        "can_change_status": services.can_change_status(actor, incident),
        "pending": services.pending_acknowledgement(actor, incident),
        "comment_form": forms.get("comment_form") or CommentForm(),
        "status_form": forms.get("status_form") or StatusForm(incident=incident),
        "observables_form": forms.get("observables_form") or ObservablesForm(),
        "attachment_form": forms.get("attachment_form") or AttachmentForm(),
    }
    audit.record_reads(actor=actor, rows=[incident], action="incident.read")
    return render(request, "incidents/incident_detail.html", context)


def _timeline_url(incident: Incident) -> str:
    """Return the incident page's address at its timeline."""
    return _anchor(incident, "timeline")


def _anchor(incident: Incident, fragment: str) -> str:
    """Return the incident page's address at the section `fragment`."""
    return f"{reverse('incidents:detail', args=[incident.uuid])}#{fragment}"


def _counts(visible: QuerySet[Incident]) -> dict[str, Any]:
    """
    Count the visible incidents (annotated `is_awaiting`) in one query: `total`,
    `awaiting` acknowledgement, and `statuses`: (status, label, count) in workflow order.
    """
    per_status = {status: Count("pk", filter=Q(status=status)) for status in Status.values}
    counts = visible.aggregate(
        total=Count("pk"), awaiting=Count("pk", filter=Q(is_awaiting=True)), **per_status
    )
    statuses = [(value, label, counts[value]) for value, label in Status.choices]
    return {"total": counts["total"], "awaiting": counts["awaiting"], "statuses": statuses}


def _selected_events(actor: Membership, uuids: list[str]) -> list[Event]:
    """Return the events `uuids` names, newest first; 404 unless each is visible to `actor`."""
    try:
        wanted = {UUID(value) for value in uuids}
    except ValueError:
        raise Http404 from None
    events = list(Event.objects.visible_to(actor).filter(uuid__in=wanted))
    if len(events) != len(wanted):
        raise Http404
    return events


def _export_row(incident: Incident) -> list[str]:
    """Return the CSV cells of one incident, in `EXPORT_COLUMNS` order, times RFC 3339."""
    return [
        incident.reference, incident.get_tlp_display(), incident.get_pap_display(),
        incident.title, incident.status, str(incident.severity), incident.rsit,
        " ".join(incident.sectors),
        " ".join(state.code for state in incident.affected_states.all()),
        incident.owner.short_name, incident.lead_organization.short_name,
        _rfc3339(incident.detected_at), _rfc3339(incident.reported_at),
        _rfc3339(incident.acknowledged_at), _rfc3339(incident.resolved_at),
        str(incident.uuid),
    ]  # fmt: skip


def _escaped(cells: Iterable[str]) -> list[str]:
    """Return `cells` made safe to open in a spreadsheet."""
    return [escape_spreadsheet_cell(cell) for cell in cells]


def _rfc3339(value: Any) -> str:
    """Return an aware UTC datetime as "2026-03-14T09:00:00Z", None as ""."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""
