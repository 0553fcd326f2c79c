"""`csirtnet deliver-notifications`: send every pending incident notification e-mail."""

from __future__ import annotations

from argparse import ArgumentTypeError
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from csirtnet.incidents.delivery import deliver_pending_notifications


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ArgumentTypeError(_("must be 1 or more"))
    return number


class Command(BaseCommand):
    """
    The notification sweeper (also recovers notifications whose task was lost): print
    one line of counts; exit with an error if any notification failed.
    """

    help = (
        "Send the pending incident notifications (also those whose task was lost); "
        "--dry-run only counts them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Send and change nothing.")
        parser.add_argument(
            "--limit", type=_positive_int, default=None, help="Send at most this many."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run = options["dry_run"]
        summary = deliver_pending_notifications(limit=options["limit"], dry_run=dry_run)
        if dry_run:
            line = _("deliver-notifications (dry run): %(summary)s")
        else:
            line = _("deliver-notifications: %(summary)s")
        line %= {"summary": summary.describe(dry_run=dry_run)}
        if summary.failed_count:
            raise CommandError(line)
        self.stdout.write(line)
