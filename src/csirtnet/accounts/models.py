"""Memberships: the acting identity (`actor`) of every request, service and task."""

from __future__ import annotations

from django.conf import settings
from django.db import models
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
