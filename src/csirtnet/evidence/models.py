"""Rows of evidence: files addressed by SHA-256 and their append-only chain of custody."""

from __future__ import annotations

import uuid
from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from csirtnet.core.hashchain import GENESIS
from csirtnet.directory.models import Organization
from csirtnet.evidence.querysets import AppendOnlyQuerySet, EvidenceQuerySet


class Action(models.TextChoices):
    """What a custody event records (RFC 3227, section 2.4: who found, handled, moved it)."""

    COLLECTED = "collected", _("Collected")
    TRANSFERRED = "transferred", _("Transfer offered")
    ACCEPTED = "accepted", _("Transfer accepted")
    EXAMINED = "examined", _("Examined")
    RELEASED = "released", _("Released")


class Evidence(models.Model):
    """
    A file kept as evidence for an incident or an assistance request (exactly one of
    the two), stored once under its SHA-256 and only ever served as a download (RFC 3227;
    Budapest Convention arts. 29 and 35). `name` is the sanitized original file name,
    `size` is in bytes, `content_type` the declared media type, checked against the
    file's first bytes. `owner` is the organization that collected it; `custodian` the
    one that holds it now; `pending_receiver` the organization a transfer is offered to
    until it accepts. `custody_length` and `head_hash` are the number of custody events
    and the hash of the last one (`GENESIS` before the first), so that a removed last
    event is found too. Times are aware UTC.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.PROTECT, null=True, blank=True,
        related_name="evidence", verbose_name=_("incident"),
    )  # fmt: skip
    assistance_request = models.ForeignKey(
        "assistance.AssistanceRequest", on_delete=models.PROTECT, null=True, blank=True,
        related_name="evidence", verbose_name=_("assistance request"),
    )  # fmt: skip
    name = models.CharField(_("file name"), max_length=255)
    description = models.TextField(_("description"), max_length=5000, blank=True)
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    content_type = models.CharField(_("content type"), max_length=100)
    owner = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("collecting organization"),
    )  # fmt: skip
    custodian = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("custodian"),
    )  # fmt: skip
    pending_receiver = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("transfer offered to"),
    )  # fmt: skip
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(_("added at"), default=timezone.now)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    custody_length = models.PositiveIntegerField(default=0)
    head_hash = models.CharField(max_length=64, default=GENESIS)

    objects = EvidenceQuerySet.as_manager()

    class Meta:
        ordering = ["added_at", "pk"]
        verbose_name = _("evidence item")
        verbose_name_plural = _("evidence")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(incident__isnull=False, assistance_request__isnull=True)
                | models.Q(incident__isnull=True, assistance_request__isnull=False),
                name="evidence_exactly_one_parent",
            ),
            models.CheckConstraint(condition=models.Q(size__gt=0), name="evidence_not_empty"),
            models.CheckConstraint(
                condition=~models.Q(pending_receiver=models.F("custodian")),
                name="evidence_transfer_to_another_org",
            ),
            models.CheckConstraint(
                condition=models.Q(released_at__isnull=True)
                | models.Q(pending_receiver__isnull=True),
                name="evidence_released_without_pending_transfer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sha256[:12]})"

    @property
    def parent(self) -> Any:
        """Return the incident or assistance request the evidence belongs to."""
        return self.incident if self.incident_id else self.assistance_request

    def item_record(self) -> dict[str, Any]:
        """
        Return what the first custody event's hash covers of the item itself: its parent
        (`incident:<uuid>` or `assistance_request:<uuid>`), file name, size in bytes,
        media type and description.
        """
        parent = self.parent
        kind = "incident" if self.incident_id else "assistance_request"
        return {
            "parent": f"{kind}:{parent.uuid}",
            "name": self.name,
            "size": self.size,
            "content_type": self.content_type,
            "description": self.description,
        }

    @property
    def tlp(self) -> str:
        """Return the TLP label of the parent (evidence has none of its own): for the audit log."""
        return str(getattr(self.parent, "tlp", "") or "")

    @property
    def is_released(self) -> bool:
        """Return True once the evidence has been released (its chain is closed)."""
        return self.released_at is not None


class CustodyEvent(models.Model):
    """
    One link of an evidence item's chain of custody (RFC 3227, section 2.4): `sequence`
    (1, 2, … without gaps; 1 is always "collected"), `action`, the `actor` (user) acting
    for `organization`, `occurred_at` (aware UTC, microseconds), `reason`, for a transfer
    the `receiving_organization`, the evidence's `sha256` at that moment, and the chain:
    `previous_hash` and `hash` (64 hex digits, `csirtnet.core.hashchain`; the record is
    `custody_record()`). Rows are only ever inserted: the model refuses to change or
    delete one and database triggers refuse UPDATE and DELETE. The primary key is the
    event's uuid, known before the insert, so that every column is covered by the hash.
    """

    uuid = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    evidence = models.ForeignKey(Evidence, on_delete=models.PROTECT, related_name="custody")
    sequence = models.PositiveIntegerField(_("sequence"))
    action = models.CharField(_("action"), max_length=12, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("by"),
    )  # fmt: skip
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("organization")
    )
    occurred_at = models.DateTimeField(_("at"))
    reason = models.TextField(_("reason"), max_length=2000, blank=True)
    receiving_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("receiving organization"),
    )  # fmt: skip
    sha256 = models.CharField("SHA-256", max_length=64)
    previous_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["evidence", "sequence"]
        verbose_name = _("custody event")
        verbose_name_plural = _("custody events")
        constraints = [
            models.UniqueConstraint(
                fields=["evidence", "sequence"], name="one_custody_event_per_sequence"
            ),
            models.CheckConstraint(
                condition=models.Q(sequence__gte=1), name="custody_sequence_from_1"
            ),
            models.CheckConstraint(
                condition=models.Q(action__in=Action.values), name="custody_action_known"
            ),
            models.CheckConstraint(
                condition=models.Q(action="transferred", receiving_organization__isnull=False)
                | (
                    ~models.Q(action="transferred") & models.Q(receiving_organization__isnull=True)
                ),
                name="custody_receiver_only_on_transfer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.evidence_id} #{self.sequence} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert the event; saving an existing one is refused (append-only).

        Raises:
            TypeError: the event is already stored.
        """
        if not self._state.adding:
            raise TypeError("custody events are append-only: they cannot be updated")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Refuse: custody events are never removed.

        Raises:
            TypeError: always.
        """
        raise TypeError("custody events are append-only: they cannot be deleted")

    def custody_record(self) -> dict[str, Any]:
        """
        Return the record the hash covers (see docs/evidence.md): evidence and event
        uuids, sequence, action, the actor's username, the organizations' uuids, the
        time, the reason and the SHA-256; the first event ("collected") also covers the
        item itself (`Evidence.item_record`: its parent, name, size, media type,
        description), so moving or relabelling the item breaks the chain at its start.
        Related rows must be loaded (`select_related`).
        """
        receiving = self.receiving_organization
        first = self.sequence == 1
        record: dict[str, Any] = {"item": self.evidence.item_record()} if first else {}
        return record | {
            "evidence": self.evidence.uuid,
            "event": self.uuid,
            "sequence": self.sequence,
            "action": self.action,
            "actor": self.actor.get_username(),
            "organization": self.organization.uuid,
            "receiving_organization": receiving.uuid if receiving is not None else None,
            "occurred_at": self.occurred_at,
            "reason": self.reason,
            "sha256": self.sha256,
        }
