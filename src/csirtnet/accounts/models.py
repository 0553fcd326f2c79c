"""Memberships: the acting identity (`actor`) of every request, service and task; API tokens."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from csirtnet.directory.models import Organization


class Role(models.TextChoices):
    """What a user may do for an organization."""

    HANDLER = "handler", _("Incident handler")
    ADMIN = "admin", _("Organization admin")
    LAW_ENFORCEMENT = "law_enforcement", _("Law-enforcement officer")
    NATIONAL_POC = "national_poc", _("National point of contact")


class Membership(models.Model):
    """A user's role in one organization; the `actor` of requests and services (STYLE §5)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.HANDLER)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization", "user"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="one_membership_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization}"

    @property
    def is_secretariat(self) -> bool:
        """Return True when acting for the network secretariat."""
        return self.organization.is_secretariat


class ApiToken(models.Model):
    """
    A personal token for the JSON API, sent as `Authorization: Bearer <token>` (RFC 6750).
    Only the SHA-256 of the token is kept (`key_hash`, 64 hex digits) with its first
    characters (`prefix`) to tell tokens apart; the plain token is shown once. A
    read-only token may only read (GET, HEAD, OPTIONS). Times are aware UTC; a token with
    `revoked_at` never authenticates again.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, editable=False)
    key_hash = models.CharField(_("SHA-256 of the token"), max_length=64, unique=True)
    is_read_only = models.BooleanField(_("read-only"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        """Return True while the token has not been revoked."""
        return self.revoked_at is None


class UserSession(models.Model):
    """
    A browser session of a signed-in user, recorded at sign-in so that `end_sessions`
    can end every session of a user at once whatever the session engine. `session_key`
    is the key of Django's session store; `signed_in_at` is aware UTC. Rows of sessions
    that expired on their own are removed at the user's next sign-in or by `end_sessions`.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="browser_sessions"
    )
    session_key = models.CharField(_("session key"), max_length=40, unique=True)
    signed_in_at = models.DateTimeField(_("signed in at"), default=timezone.now)

    class Meta:
        ordering = ["-signed_in_at"]
        verbose_name = _("browser session")
        verbose_name_plural = _("browser sessions")

    def __str__(self) -> str:
        return f"{self.user} @ {self.signed_in_at:%Y-%m-%d %H:%M}"
