"""Rows of the TAXII 2.1 server: the status of each add-objects request."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AddStatus(models.Model):
    """
    The outcome of one TAXII 2.1 "add objects" request (OASIS TAXII 2.1, section 4.3.1,
    status resource): per object, a success, failure or pending detail `{"id",
    "version", "message"}`. Shown only to the user who made the request. `status` is
    "complete" once every object is processed (always, as objects are added at once).
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    collection_id = models.UUIDField(_("collection"))
    status = models.CharField(max_length=10, default="complete")
    requested_at = models.DateTimeField(default=timezone.now)
    total_count = models.PositiveIntegerField(default=0)
    successes = models.JSONField(default=list)
    failures = models.JSONField(default=list)
    pendings = models.JSONField(default=list)

    class Meta:
        verbose_name = _("TAXII add status")
        verbose_name_plural = _("TAXII add statuses")

    def __str__(self) -> str:
        return str(self.uuid)
