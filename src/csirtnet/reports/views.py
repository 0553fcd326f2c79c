"""Pages of abuse reports: the inbox, an event, a report, the secretariat's overview."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from csirtnet.core import audit
from csirtnet.directory.models import MemberState, RouteRule
from csirtnet.reports.forms import EventFilterForm
from csirtnet.reports.models import RSIT_CLASSES, DigestStatus, Event, Report

if TYPE_CHECKING:
    from csirtnet.accounts.models import Membership
    from csirtnet.reports.querysets import EventQuerySet

EVENTS_PER_PAGE = 50
# Deep pages cost an offset scan each; past the newest 10,000 events, filters narrow.
MAX_INBOX_PAGES = 200
REJECTED_ROWS_PER_PAGE = 100
RECENT_REPORTS = 20


@require_safe
def inbox(request: HttpRequest) -> HttpResponse:
    """
    List the events routed to the actor's organization (every event for the secretariat),
    newest first, filtered by the query string, 50 a page. A user without an organization
    gets a page saying so.
    """
    actor: Membership | None = request.actor  # type: ignore[attr-defined]
    if actor is None:
        return render(request, "reports/no_organization.html", status=403)
    events = Event.objects.visible_to(actor)
    form = EventFilterForm(request.GET, actor=actor, events=events)
    found = form.filter_events(events).select_related("organization__state", "report")
    newest = found.order_by("-observed_at", "-pk")[: MAX_INBOX_PAGES * EVENTS_PER_PAGE]
    page = Paginator(newest, EVENTS_PER_PAGE)
    page_obj = page.get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page_obj": page_obj,
        "shown_limit": MAX_INBOX_PAGES * EVENTS_PER_PAGE,
        "is_secretariat": actor.is_secretariat,
    }
    audit.record_reads(actor=actor, rows=page_obj, action="event.listed")
    return render(request, "reports/inbox.html", context)


@require_safe
def event_detail(request: HttpRequest, event_uuid: UUID) -> HttpResponse:
    """Show one event: normalized fields, routing, its report and the original row."""
    events = Event.objects.visible_to(request.actor)  # type: ignore[attr-defined]
    event = get_object_or_404(
        events.select_related("organization__state", "report"), uuid=event_uuid
    )
    context = {
        "event": event,
        "raw_items": _raw_items(event.raw),
        "rsit_label": RSIT_CLASSES.get(event.taxonomy, ""),
    }
    audit.record_reads(actor=request.actor, rows=[event], action="event.read")  # type: ignore[attr-defined]
    return render(request, "reports/event_detail.html", context)


@require_safe
def report_detail(request: HttpRequest, report_uuid: UUID) -> HttpResponse:
    """
    Show one report. Its submitter and the secretariat see every count, every digest and
    the rejected rows; an organization that received events sees only its own digest.
    """
    actor: Membership | None = request.actor  # type: ignore[attr-defined]
    if actor is None:
        raise Http404
    reports = Report.objects.visible_to(actor).select_related("submitted_by")
    report = get_object_or_404(reports, uuid=report_uuid)
    # the organizations' digests; the notices to people named (TLP:RED) are not listed
    digests = report.digests.filter(user__isnull=True).select_related("organization__state")
    context: dict[str, Any] = {"report": report, "digests": digests}
    if Report.objects.visible_whole_to(actor).filter(pk=report.pk).exists():
        rejected = Paginator(report.rejected_rows.all(), REJECTED_ROWS_PER_PAGE)
        context["rejected_page"] = rejected.get_page(request.GET.get("page"))
        context["sees_whole_report"] = True
    else:
        context["digests"] = digests.filter(organization_id=actor.organization_id)
    audit.record_reads(actor=actor, rows=[report], action="report.read")
    return render(request, "reports/report_detail.html", context)


@require_safe
def overview(request: HttpRequest) -> HttpResponse:
    """
    Show the secretariat the whole network: events per member state and RSIT class, the
    unrouted queue, and the recent reports with their digests. 404 for anyone else.
    """
    actor: Membership | None = request.actor  # type: ignore[attr-defined]
    if actor is None or not actor.is_secretariat:
        raise Http404
    events = Event.objects.visible_to(actor)
    recent = _recent_reports(actor)
    audit.record_reads(actor=actor, rows=recent, action="report.listed")
    context = {
        "table": _state_taxonomy_table(events),
        "unrouted_count": events.filter(route_rule=RouteRule.UNROUTED).count(),
        "unrouted_rule": RouteRule.UNROUTED.value,
        "reports": recent,
    }
    return render(request, "reports/overview.html", context)


def _raw_items(raw: Any) -> list[tuple[str, str]]:
    """Return the original row as (column, text) pairs; nested values as JSON text."""
    row = raw if isinstance(raw, dict) else {"": raw}
    return [
        (str(key), value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
        for key, value in row.items()
    ]


@dataclass(frozen=True, slots=True)
class StateRow:
    """One row of the overview: a member state (None: no state), its counts per column."""

    state: MemberState | None
    label: str
    cells: list[int]

    @property
    def total(self) -> int:
        """Return the events of the state in every column."""
        return sum(self.cells)


def _state_taxonomy_table(events: EventQuerySet) -> dict[str, Any]:
    """
    Count `events` per member state of the responsible organization and per RSIT class
    in one aggregate query; return columns, rows (`StateRow`) and totals.
    """
    counts: dict[int | None, dict[str, int]] = defaultdict(dict)
    for row in (
        events.order_by()
        .values("organization__state", "taxonomy")
        .annotate(event_count=Count("pk"))
    ):
        counts[row["organization__state"]][row["taxonomy"]] = row["event_count"]
    taxonomies = sorted({taxonomy for per_state in counts.values() for taxonomy in per_state})
    states = MemberState.objects.in_bulk([pk for pk in counts if pk is not None])
    rows = [
        StateRow(
            state=states.get(pk) if pk is not None else None,
            label=states[pk].name if pk is not None else _("No state (secretariat)"),
            cells=[per_state.get(taxonomy, 0) for taxonomy in taxonomies],
        )
        for pk, per_state in counts.items()
    ]
    rows.sort(key=lambda row: (row.state is None, row.label))
    return {
        "columns": [(taxonomy, RSIT_CLASSES.get(taxonomy, taxonomy)) for taxonomy in taxonomies],
        "rows": rows,
        "column_totals": [
            sum(column) for column in zip(*(row.cells for row in rows), strict=True)
        ],
        "total": sum(row.total for row in rows),
        "state_count": sum(row.state is not None for row in rows),
    }


def _recent_reports(actor: Membership) -> list[Report]:
    """Return the latest reports `actor` may see, with digest counts per status."""
    per_status = {
        f"digests_{status}": Count(
            "digests", filter=Q(digests__status=status, digests__user__isnull=True)
        )
        for status in DigestStatus.values
    }
    reports = Report.objects.visible_to(actor).select_related("submitted_by")
    return list(reports.annotate(**per_status).order_by("-received_at")[:RECENT_REPORTS])
