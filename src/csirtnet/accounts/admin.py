"""Admin of accounts: who acts for which organization."""

from __future__ import annotations

from django.contrib import admin

from csirtnet.accounts.models import Membership


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """A user's role in an organization."""

    list_display = ["user", "organization", "role", "is_active", "created_at"]
    list_filter = ["role", "is_active", "organization__kind"]
    list_select_related = ["user", "organization"]
    search_fields = ["user__username", "user__email", "organization__short_name"]
    autocomplete_fields = ["user", "organization"]
    readonly_fields = ["created_at"]
