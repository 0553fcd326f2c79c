"""Admin of reports, read-only: ingest and the worker write reports, events and digests."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from csirtnet.core.admin import AuditedModelAdmin
from csirtnet.reports.models import Digest, Event, RejectedRow, Report


class ReadOnlyAdmin(AuditedModelAdmin):
    """Show rows without letting anyone add, edit or delete them from the admin."""

    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Refuse: rows come from `csirtnet ingest` and the worker."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Refuse: rows come from `csirtnet ingest` and the worker."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Refuse: events and digests are evidence of what the network received and sent."""
        return False


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    """Ingested reports with their row counts."""

    list_display = [
        "file_name",
        "source",
        "format",
        "tlp",
        "submitted_by",
        "received_at",
        "completed_at",
        "rows_read_count",
        "events_stored_count",
        "duplicates_count",
        "rejected_count",
    ]
    list_filter = ["format", "source", "tlp"]
    list_select_related = ["submitted_by"]
    search_fields = ["file_name", "sha256", "uuid"]
    date_hierarchy = "received_at"


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    """Normalized events and where they were routed."""

    list_display = [
        "observed_at",
        "report_type",
        "taxonomy",
        "source_ip",
        "hostname",
        "organization",
        "route_rule",
        "tlp",
    ]
    list_filter = ["route_rule", "taxonomy", "tlp", "report_type"]
    list_select_related = ["organization", "report"]
    search_fields = ["uuid", "hostname", "source_ip"]
    raw_id_fields = ["report", "organization"]


@admin.register(RejectedRow)
class RejectedRowAdmin(ReadOnlyAdmin):
    """Rows that could not become events, with the reason."""

    list_display = ["report", "line", "reason"]
    list_select_related = ["report"]
    search_fields = ["report__file_name", "reason"]


@admin.register(Digest)
class DigestAdmin(ReadOnlyAdmin):
    """
    The outbox of digests: one per report and receiving organization, and one per person
    a TLP:RED report names (its notice without content).
    """

    list_display = [
        "report",
        "organization",
        "user",
        "event_count",
        "status",
        "attempt_count",
        "sent_at",
        "message_id",
    ]
    list_filter = ["status"]
    list_select_related = ["report", "organization", "user"]
    search_fields = ["report__file_name", "organization__short_name", "message_id"]
