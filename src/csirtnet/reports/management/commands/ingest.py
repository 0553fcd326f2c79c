"""`csirtnet ingest FILE...`: turn abuse reports into routed events and queue digests."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from csirtnet.core.text import printable
from csirtnet.directory.models import Organization
from csirtnet.directory.routing import RoutingTable
from csirtnet.reports.parsers import FORMATS, UnknownLayout
from csirtnet.reports.services import IngestSummary, ingest_file
from csirtnet.sharing.tlp import TLP

_SHOWN_REJECTIONS = 20


class Command(BaseCommand):
    """Ingest Shadowserver, abuse.ch (URLhaus, Feodo Tracker, MalwareBazaar, SSLBL) and CSV."""

    help = (
        "Ingest abuse reports: every row becomes an event routed to the responsible "
        "organization; prints rows read, events stored, duplicates skipped, rows rejected."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--format", default="auto", choices=["auto", *FORMATS])
        parser.add_argument("--source", help="who produced the report, e.g. shadowserver")
        parser.add_argument(
            "--tlp", default=TLP.AMBER.value, choices=TLP.values,
            help="TLP 2.0 label of the report (default amber)",
        )  # fmt: skip
        parser.add_argument("--owner", help="short name of the submitting organization")
        parser.add_argument(
            "--to", action="append", default=[], metavar="USERNAME", dest="addressees",
            help="a person a TLP:RED report is addressed to by name (repeat for each); "
            "they alone see its events",
        )  # fmt: skip
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        owner = self._owner(options["owner"])
        options["recipient_people"] = self._addressees(options["addressees"], options["tlp"])
        try:
            table = RoutingTable.build()
        except Organization.DoesNotExist as exc:
            raise CommandError(_("The directory has no secretariat: run load-directory.")) from exc
        total: IngestSummary | None = None
        failures: list[str] = []
        for path in options["files"]:
            try:
                summary = self._ingest(path, table, owner, options)
            except (UnknownLayout, OSError) as exc:
                failures.append(f"{path}: {exc}")
                self.stderr.write(printable(str(exc)))
                continue
            if total is None:
                total = summary
            else:
                total.add(summary)
        if total is not None:
            self.stdout.write(
                _(
                    "ingest: %(files)d files, %(read)d rows read, %(stored)d events stored, "
                    "%(dups)d duplicates skipped, %(rejected)d rows rejected"
                )
                % {
                    "files": len(options["files"]) - len(failures),
                    "read": total.rows_read_count,
                    "stored": total.events_stored_count,
                    "dups": total.duplicates_count,
                    "rejected": total.rejected_count,
                }
            )
        if failures:
            raise CommandError(_("%(n)d files not ingested.") % {"n": len(failures)})

    def _owner(self, short_name: str | None) -> Organization | None:
        if not short_name:
            return None
        try:
            return Organization.objects.get(short_name=short_name)
        except Organization.DoesNotExist as exc:
            raise CommandError(_("No organization %(name)r.") % {"name": short_name}) from exc

    def _addressees(self, usernames: list[str], tlp: str) -> list[Any]:
        """Return the active members named by `--to`; RED needs names, other labels none."""
        if tlp == TLP.RED and not usernames:
            raise CommandError(
                _("A TLP:RED report must name the people it is addressed to: give --to USERNAME.")
            )
        if tlp != TLP.RED and usernames:
            raise CommandError(_("--to is only for TLP:RED reports (--tlp red)."))
        users = []
        for username in usernames:
            user = get_user_model().objects.filter(username=username, is_active=True).first()
            if user is None or not user.memberships.filter(is_active=True).exists():
                raise CommandError(
                    _("No active member with the username %(name)r.") % {"name": username}
                )
            users.append(user)
        return users

    def _ingest(
        self, path: Path, table: RoutingTable, owner: Organization | None, options: dict[str, Any]
    ) -> IngestSummary:
        show = sys.stderr.isatty() and not options["no_progress"]
        bar = None
        if show:
            from tqdm import tqdm

            bar = tqdm(desc=path.name, unit=" rows", file=sys.stderr, leave=False)
        try:
            summary = ingest_file(
                path=path, fmt=options["format"], source=options["source"],
                tlp=TLP(options["tlp"]), submitted_by=owner, table=table,
                recipient_people=options["recipient_people"],
                on_rows=bar.update if bar else None,
            )  # fmt: skip
        finally:
            if bar:
                bar.close()
        for rejection in summary.rejections[:_SHOWN_REJECTIONS]:
            self.stderr.write(f"{path}:{rejection.line}: {printable(rejection.reason)}")
        shown = min(len(summary.rejections), _SHOWN_REJECTIONS)
        if summary.rejected_count > shown:
            self.stderr.write(
                _("%(path)s: %(n)d more rejected rows, listed on the report page.")
                % {"path": path, "n": summary.rejected_count - shown}
            )
        report = summary.report
        if summary.already_complete and (
            report.tlp != options["tlp"]
            or (options["source"] and report.source != options["source"])
        ):
            self.stderr.write(
                _(
                    "%(path)s: already ingested as %(tlp)s from %(source)s; the --tlp and "
                    "--source given now are ignored (only the owner may relabel a report)."
                )
                % {"path": path, "tlp": TLP(report.tlp).label, "source": report.source}
            )
        named = sorted(report.recipient_people.values_list("username", flat=True))
        given = sorted({user.get_username() for user in options["recipient_people"]})
        if summary.already_complete and report.tlp == TLP.RED and given != named:
            self.stderr.write(
                _(
                    "%(path)s: already ingested, addressed to %(named)s; the --to given now "
                    "is ignored (the people named are fixed when a report is first stored)."
                )
                % {"path": path, "named": ", ".join(named)}
            )
        if options["verbosity"] >= 2 or summary.already_complete:
            note = _(" (already ingested)") if summary.already_complete else ""
            self.stdout.write(
                f"{path}: report {summary.report.uuid}{note}: {summary.rows_read_count} read, "
                f"{summary.events_stored_count} stored, {summary.duplicates_count} duplicates, "
                f"{summary.rejected_count} rejected"
            )
        return summary
