"""The audit log: one append-only, hash-chained row per recorded action (see `core.audit`)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """
    One recorded action: who (`username`, `user_id`, `organization`, `organization_id`,
    kept as values so an entry outlives the user), what (`action`, e.g.
    "incident.created" or "incident.read", and the target's model label, id and TLP
    label), when (`at`, aware UTC), from where (`origin`: the client address of a web
    request, "cli" for a command, "worker" for a task). `sequence` orders the chain
    from 1 with no gaps; `previous_hash` and `hash` link it (`core.hashchain`: SHA-256
    of the previous hash and the canonical record of the fields above). Rows are never
    updated nor deleted (database triggers refuse both); a row removed or reordered
    behind the triggers' back breaks the chain, which `csirtnet verify-audit` reports.
    """

    sequence = models.BigIntegerField(unique=True)
    at = models.DateTimeField(_("at"))
    user_id = models.BigIntegerField(null=True, blank=True)
    username = models.CharField(_("user"), max_length=150, blank=True)
    organization_id = models.BigIntegerField(null=True, blank=True)
    organization = models.CharField(_("organization"), max_length=50, blank=True)
    action = models.CharField(_("action"), max_length=60)
    target_type = models.CharField(_("target type"), max_length=60, blank=True)
    target_id = models.CharField(_("target"), max_length=300, blank=True)
    tlp = models.CharField("TLP", max_length=12, blank=True)
    origin = models.CharField(_("from"), max_length=100, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["sequence"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [
            models.Index(fields=["target_type", "target_id"]),
            models.Index(fields=["user_id", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.sequence} {self.at:%Y-%m-%dT%H:%M:%SZ} {self.username} {self.action}"

    def record(self) -> dict[str, object]:
        """Return the fields the hash covers, as `core.hashchain.canonical` takes them."""
        return {name: getattr(self, name) for name in RECORD_FIELDS}


RECORD_FIELDS = (
    "sequence", "at", "user_id", "username", "organization_id", "organization", "action",
    "target_type", "target_id", "tlp", "origin", "detail",
)  # fmt: skip
