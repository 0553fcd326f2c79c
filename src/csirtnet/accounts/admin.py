"""Admin of accounts: who acts for which organization, and their API tokens."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from csirtnet.accounts.models import ApiToken, Membership
from csirtnet.accounts.services import revoke_api_token


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """A user's role in an organization."""

    list_display = ["user", "organization", "role", "is_active", "created_at"]
    list_filter = ["role", "is_active", "organization__kind"]
    list_select_related = ["user", "organization"]
    search_fields = ["user__username", "user__email", "organization__short_name"]
    autocomplete_fields = ["user", "organization"]
    readonly_fields = ["created_at"]

    # A membership decides what its user sees (the TLP rule acts for organizations), so
    # only superusers change them: a staff user could otherwise join any organization.
    def has_add_permission(self, request: HttpRequest) -> bool:
        """Return True for superusers only."""
        return bool(request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Return True for superusers only."""
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Return True for superusers only."""
        return bool(request.user.is_superuser)


_COLUMNS = ("name", "user", "prefix", "is_read_only", "created_at", "last_used_at", "revoked_at")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """
    Personal API tokens: listed and revoked here, never created (a token's plain text is
    shown once, to its user, at /account/tokens/ or by `csirtnet create-token`).
    """

    list_display = _COLUMNS
    list_filter = ["is_read_only", ("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user"]
    search_fields = ["user__username", "name", "prefix"]
    fields = _COLUMNS
    readonly_fields = _COLUMNS
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Refuse: tokens are made where their plain text can be shown to their user."""
        return False

    @admin.action(description=_("Revoke the selected tokens"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        """Revoke each selected token (`revoke_api_token`)."""
        for token in queryset.filter(revoked_at__isnull=True):
            revoke_api_token(user=request.user, token=token)
        self.message_user(request, _("The selected tokens are revoked."))
