"""Outcomes and run counts of outbox senders (digests, notifications); no domain rules."""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Self

from django.utils.translation import gettext as _


class DeliveryOutcome(StrEnum):
    """What one delivery attempt of an outbox row did (a task's return value)."""

    SENT = "sent"
    FAILED = "failed"  # refused for good (e.g. an unusable PGP key): marked, nothing sent
    NO_CONTACT = "no_contact"
    WITHHELD = "withheld"  # the TLP rule forbids this mail
    SKIPPED = "skipped"  # not pending any more (or not ready)


@dataclass
class OutboxSummary:
    """
    Counts of outcomes of one run of a worker or sweeper. Subclasses say what is sent
    (`sent_phrase`), so that each noun is its own translatable plural.
    """

    sent_count: int = 0
    failed_count: int = 0
    no_contact_count: int = 0
    withheld_count: int = 0
    skipped_count: int = 0

    def add(self, outcome: str) -> None:
        """Count one `DeliveryOutcome` (given as its value)."""
        name = {
            DeliveryOutcome.SENT: "sent_count",
            DeliveryOutcome.FAILED: "failed_count",
            DeliveryOutcome.NO_CONTACT: "no_contact_count",
            DeliveryOutcome.WITHHELD: "withheld_count",
        }.get(DeliveryOutcome(outcome), "skipped_count")
        setattr(self, name, getattr(self, name) + 1)

    def merge(self, other: OutboxSummary) -> Self:
        """Return the sum of this summary and `other`, of this summary's kind."""
        return type(self)(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    def sent_phrase(self, count: int, *, dry_run: bool) -> str:
        """Return "N things sent" (or "N things to send" for a dry run)."""
        raise NotImplementedError

    def describe(self, *, dry_run: bool = False) -> str:
        """Return the counts as one line: '12 digests sent, 0 failed, ...'."""
        return _(
            "%(sent)s, %(failed)d failed, %(no_contact)d without point of contact, "
            "%(withheld)d withheld by TLP"
        ) % {
            "sent": self.sent_phrase(self.sent_count, dry_run=dry_run),
            "failed": self.failed_count,
            "no_contact": self.no_contact_count,
            "withheld": self.withheld_count,
        }
