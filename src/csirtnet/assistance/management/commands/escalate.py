"""`csirtnet escalate`: run the clocks of assistance requests (periodic, every minute)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from csirtnet.assistance.escalation import due_reminders, escalate


class Command(BaseCommand):
    """
    Queue the reminders (before a deadline) and escalations (after it) of assistance
    requests, expire those never accepted by their response deadline, and send the
    pending reminder e-mail (see `assistance.escalation.escalate`). Safe to run every
    minute, and twice at once: each reminder is sent once. Prints one line of counts;
    exits with an error when a reminder could not be sent (it stays pending).
    """

    help = (
        "Remind and escalate overdue assistance requests and expire those never accepted "
        "in time; --dry-run only counts what is due."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Send and change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        if options["dry_run"]:
            due = due_reminders(now=now)
            self.stdout.write(
                _("escalate (dry run): %(count)d reminders or escalations due")
                % {"count": len(due)}
            )
            return
        summary = escalate(now=now)
        line = _("escalate: %(summary)s") % {"summary": summary.describe()}
        if options["verbosity"] >= 2:
            self.stderr.write(now.isoformat())
        if summary.delivery.failed_count:
            raise CommandError(line)
        self.stdout.write(line)
