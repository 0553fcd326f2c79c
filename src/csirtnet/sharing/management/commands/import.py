# ruff: noqa: N999 (the command is `csirtnet import`: the module is named after it)
"""`csirtnet import FILE...`: store STIX 2.1 bundles and objects, MISP events and feeds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from csirtnet.accounts.models import Membership
from csirtnet.core.text import printable
from csirtnet.directory.models import Organization
from csirtnet.sharing.services import (
    STORED,
    ImportReport,
    command_actor,
    detect_format,
    import_misp,
    import_misp_feed,
    import_stix,
)
from csirtnet.sharing.tlp import TLP


class Command(BaseCommand):
    """
    Import STIX 2.1 files, MISP event files (`services.import_misp`) and MISP feed
    folders (`services.import_misp_feed`) for an organization (`--owner`), acting as its
    first active admin, else handler (`services.command_actor`). Prints one line per file; rejected
    and conflicting objects follow at verbosity 1 and above. Fails (non-zero exit) when
    a file could not be imported at all.
    """

    help = (
        "Import STIX 2.1 bundles or objects, MISP events (JSON) and MISP feed folders: "
        "prints per file the objects stored, unchanged, rejected and in conflict."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument(
            "--owner", required=True, help="short name of the organization importing"
        )
        parser.add_argument(
            "--tlp", type=str.lower, choices=TLP.values,
            help="TLP 2.0 label of objects without a TLP marking (default amber)",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        actor = _actor(options["owner"])
        failed = 0
        for path in options["files"]:
            try:
                report = self._import(path, actor, options["tlp"])
            except (ValidationError, OSError) as exc:
                failed += 1
                self.stderr.write(f"{printable(str(path))}: {printable(_message(exc))}")
                continue
            self._print(path, report, options["verbosity"])
        if failed:
            raise CommandError(_("%(n)d files not imported.") % {"n": failed})

    def _import(self, path: Path, actor: Membership, tlp: str | None) -> ImportReport:
        if path.is_dir():
            if (path / "manifest.json").is_file():
                return import_misp_feed(actor=actor, folder=path, source=path.name, tlp=tlp)
            raise ValidationError(_("A folder that is not a MISP feed."))
        data = path.read_bytes()
        if detect_format(data) == "misp":
            return import_misp(actor=actor, data=data, source=path.name, tlp=tlp)
        return import_stix(actor=actor, data=data, source=path.name, tlp=tlp)

    def _print(self, path: Path, report: ImportReport, verbosity: int) -> None:
        self.stdout.write(
            _("%(file)s: %(stored)d stored, %(unchanged)d unchanged, %(rejected)d rejected, "
              "%(conflicts)d conflicts")
            % {
                "file": printable(str(path)), "stored": report.stored_count,
                "unchanged": report.unchanged_count, "rejected": report.rejected_count,
                "conflicts": report.conflict_count,
            }
        )  # fmt: skip
        if verbosity >= 1:
            for problem in report.problems:
                self.stderr.write(f"{printable(str(path))}: {printable(problem.reason)}")
            for noted in report.outcomes:
                if noted.status == STORED and noted.reason:
                    self.stderr.write(f"{printable(str(path))}: {noted.stix_id}: {noted.reason}")
        if verbosity >= 2 and report.marking_count:
            self.stdout.write(
                _("%(file)s: %(n)d TLP marking definitions read, not stored.")
                % {"file": printable(str(path)), "n": report.marking_count}
            )


def _actor(short_name: str) -> Membership:
    try:
        return command_actor(short_name=short_name)
    except Organization.DoesNotExist as exc:
        raise CommandError(
            _("No organization %(name)s.") % {"name": printable(repr(short_name))}
        ) from exc
    except Membership.DoesNotExist as exc:
        raise CommandError(
            _("%(name)s has no active admin or handler to act as.")
            % {"name": printable(short_name)}
        ) from exc


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(str(message) for message in exc.messages)
    return str(exc)
