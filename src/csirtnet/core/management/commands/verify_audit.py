"""`csirtnet verify-audit [--expect-head HASH]`: check the audit log's hash chain."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from csirtnet.core import audit


class Command(BaseCommand):
    """
    Walk the whole audit log in sequence order and report the first entry that does not
    hold: altered (its hash does not match its fields), removed or reordered (it does
    not link to the entry before it, or the sequence has a gap). Prints the number of
    entries and the head hash; with `--expect-head`, a head other than the one kept
    elsewhere (the newest entries removed) is a failure too. Exits non-zero on failure.
    """

    help = "Check the audit log's hash chain; report the first broken entry."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--expect-head",
            default="",
            help="head hash kept from an earlier run",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        count, broken, head = audit.verify()
        if broken is not None:
            entry = audit.entry_at(broken.index)
            raise CommandError(
                _("Audit chain broken at entry %(sequence)s (position %(index)d): %(reason)s.")
                % {
                    "sequence": entry.sequence if entry else "?",
                    "index": broken.index + 1,
                    "reason": _REASONS.get(broken.reason, broken.reason),
                }
            )
        expected = options["expect_head"].strip().lower()
        if expected and expected != head:
            raise CommandError(
                _("The chain holds, but its head %(head)s is not the expected %(expected)s: "
                  "entries were removed from its end or it was replaced.")
                % {"head": head, "expected": expected}
            )  # fmt: skip
        self.stdout.write(
            _("%(count)d audit entries, chain intact; head %(head)s")
            % {"count": count, "head": head}
        )


_REASONS = {
    "hash": gettext_lazy("its fields were changed after it was written"),
    "previous_hash": gettext_lazy(
        "it does not link to the entry before it (removed or reordered)"
    ),
    "sequence": gettext_lazy(
        "the sequence has a gap or is out of order (an entry was removed or moved)"
    ),
}
