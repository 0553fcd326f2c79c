"""Admin of the directory, for the secretariat's staff: states, organizations, RIR data."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from csirtnet.core.admin import AuditedModelAdmin
from csirtnet.directory.models import (
    Constituency,
    MemberState,
    Organization,
    PointOfContact,
    RirRecord,
)


@admin.register(MemberState)
class MemberStateAdmin(AuditedModelAdmin):
    """The member states, by ISO 3166-1 alpha-2 code."""

    list_display = ["code", "name_en", "name_es", "is_oas_member"]
    list_filter = ["is_oas_member"]
    search_fields = ["code", "name_en", "name_es"]


class PointOfContactInline(admin.TabularInline):  # type: ignore[type-arg]
    """An organization's role addresses."""

    model = PointOfContact
    extra = 0
    fields = ["role", "email", "phone", "pgp_fingerprint", "languages", "last_verified_at"]


class ConstituencyInline(admin.StackedInline):  # type: ignore[type-arg]
    """Whom an organization serves (used for routing)."""

    model = Constituency
    extra = 0
    max_num = 1


@admin.register(Organization)
class OrganizationAdmin(AuditedModelAdmin):
    """Organizations with their points of contact and constituency."""

    list_display = ["short_name", "name", "kind", "state", "is_member"]
    list_filter = ["kind", "is_member", "state"]
    list_select_related = ["state"]
    search_fields = ["short_name", "name", "state__code", "state__name_en", "state__name_es"]
    readonly_fields = ["uuid"]
    inlines = [PointOfContactInline, ConstituencyInline]


@admin.register(RirRecord)
class RirRecordAdmin(AuditedModelAdmin):
    """RIR delegations, read-only: they change only by importing a source again."""

    list_display = ["registry", "country", "kind", "start", "size", "source"]
    list_filter = ["registry", "kind", "source", "country"]
    search_fields = ["start", "country"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Refuse: rows come from `csirtnet import-rir`."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Refuse: rows come from `csirtnet import-rir`."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Refuse: rows come from `csirtnet import-rir`."""
        return False
