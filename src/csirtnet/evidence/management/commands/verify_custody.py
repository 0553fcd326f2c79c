"""`csirtnet verify-custody`: check every custody chain and every stored evidence file."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from csirtnet.evidence.integrity import check_all


class Command(BaseCommand):
    """
    Check each evidence item's custody chain (hash links, sequence 1, 2, 3…, first event
    "collected", SHA-256 on each event, the chain's end) and its stored file's SHA-256
    (read 1 MiB at a time). Print one line per broken item (uuid, sequence, reason; see
    `integrity.Problem`), then one summary line; exit non-zero when anything is broken.
    """

    help = (
        "Verify every evidence custody chain (hash links, sequence, first event) and the "
        "SHA-256 of every stored evidence file; exit non-zero when any is broken."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        """
        Run the checks and report.

        Raises:
            CommandError: at least one chain or file is broken (exit status 1).
        """
        items = events = broken = 0
        for evidence, event_count, problem in check_all():
            items += 1
            events += event_count
            if problem is None:
                if options["verbosity"] >= 2:
                    self.stdout.write(f"ok {evidence.uuid} ({event_count})")
                continue
            broken += 1
            self.stdout.write(
                _("BROKEN %(uuid)s sequence %(sequence)d: %(reason)s")
                % {"uuid": evidence.uuid, "sequence": problem.sequence, "reason": problem.reason}
            )
        summary = _(
            "verify-custody: %(items)d evidence items, %(events)d custody events, "
            "%(broken)d broken."
        ) % {"items": items, "events": events, "broken": broken}
        if broken:
            raise CommandError(summary)
        self.stdout.write(summary)
