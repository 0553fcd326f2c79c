"""Admin of accounts: who acts for which organization, and their API tokens."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin as DjangoOtpTOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from csirtnet.accounts.models import ApiToken, Membership
from csirtnet.accounts.services import check_username_change, end_sessions, revoke_api_token
from csirtnet.core.admin import AuditedModelAdmin

User = get_user_model()
_GRANTS = ("is_active", "is_staff", "is_superuser")  # user fields that change what one may do


_DEVICE_GRANTS = ("user", "key", "confirmed")  # device fields that change who signs in with it

for _model in (User, TOTPDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


class UserChangeForm(DjangoUserChangeForm):  # type: ignore[type-arg]
    """Django's user form; a username hashed in a chain of custody cannot change."""

    def clean_username(self) -> str:
        """Return the username, unless renaming is refused (`check_username_change`)."""
        username = str(self.cleaned_data["username"])
        try:
            check_username_change(user=self.instance, username=username)
        except ValidationError as error:
            raise ValidationError(error.error_dict["username"]) from None
        return username


@admin.register(User)
class UserAdmin(AuditedModelAdmin, DjangoUserAdmin):  # type: ignore[type-arg]
    """
    Django's user admin; disabling a user or changing its flags or groups signs it out;
    a user who acted in a chain of custody keeps its username.
    """

    form = UserChangeForm

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Save, then end the user's sessions and API tokens when a grant changed."""
        super().save_model(request, obj, form, change)
        if change and any(field in form.changed_data for field in _GRANTS):
            end_sessions(user=obj)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Save groups and permissions; end the user's sessions when they changed."""
        super().save_related(request, form, formsets, change)
        if change and {"groups", "user_permissions"} & set(form.changed_data):
            end_sessions(user=form.instance)


@admin.register(Membership)
class MembershipAdmin(AuditedModelAdmin):
    """A user's role in an organization."""

    list_display = ["user", "organization", "role", "is_active", "created_at"]
    list_filter = ["role", "is_active", "organization__kind"]
    list_select_related = ["user", "organization"]
    search_fields = ["user__username", "user__email", "organization__short_name"]
    autocomplete_fields = ["user", "organization"]
    readonly_fields = ["created_at"]

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        """
        Save; a changed organization, role or active flag ends the sessions and API
        tokens of the membership's user (and of its former user, if that changed).
        """
        super().save_model(request, obj, form, change)
        if change and {"user", "organization", "role", "is_active"} & set(form.changed_data):
            end_sessions(user=obj.user)
            if "user" in form.changed_data and form.initial.get("user"):
                end_sessions(user=User.objects.get(pk=form.initial["user"]))

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        """Delete, then end the sessions and API tokens of the membership's user."""
        user = obj.user
        super().delete_model(request, obj)
        end_sessions(user=user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        """Delete the selected memberships, then end the sessions of their users."""
        users = list(User.objects.filter(memberships__in=queryset).distinct())
        super().delete_queryset(request, queryset)
        for user in users:
            end_sessions(user=user)

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
class ApiTokenAdmin(AuditedModelAdmin):
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


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(AuditedModelAdmin, DjangoOtpTOTPDeviceAdmin):  # type: ignore[misc]
    """
    django-otp's admin of authenticators (TOTP, RFC 6238), audited; deleting one, or
    changing its user, key or confirmation, signs its user out everywhere (`end_sessions`),
    as a session verified with the old authenticator must not outlive it.
    """

    def save_model(self, request: HttpRequest, obj: TOTPDevice, form: Any, change: bool) -> None:
        """Save; a changed user, key or confirmation ends the sessions of the user(s)."""
        super().save_model(request, obj, form, change)
        if change and set(_DEVICE_GRANTS) & set(form.changed_data):
            end_sessions(user=obj.user)
            if "user" in form.changed_data and form.initial.get("user"):
                end_sessions(user=User.objects.get(pk=form.initial["user"]))

    def delete_model(self, request: HttpRequest, obj: TOTPDevice) -> None:
        """Delete, then end the sessions and API tokens of the device's user."""
        user = obj.user
        super().delete_model(request, obj)
        end_sessions(user=user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[TOTPDevice]) -> None:
        """Delete the selected devices, then end the sessions of their users."""
        users = list(User.objects.filter(pk__in=queryset.values("user_id")))
        super().delete_queryset(request, queryset)
        for user in users:
            end_sessions(user=user)
