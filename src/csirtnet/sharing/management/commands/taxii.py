"""`csirtnet taxii pull URL --collection ID --owner ORG`: import another server's collection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from csirtnet.accounts.models import Membership
from csirtnet.core.text import printable
from csirtnet.directory.models import Organization
from csirtnet.sharing.services import command_actor
from csirtnet.sharing.taxii_pull import PullError, pull, subscribe
from csirtnet.sharing.tlp import TLP


class Command(BaseCommand):
    """
    `taxii pull`: fetch the objects of a TAXII 2.1 collection (API root URL and
    collection id) added since the last pull and import them for `--owner`, acting as
    its first active admin, else handler (`services.command_actor`). Secrets are read
    from files (`--token-file`, or `--user` with `--password-file`). Prints one summary
    line; a failed pull raises `CommandError` with the reason (refused address, TLS,
    HTTP status, not TAXII 2.1).
    """

    help = "TAXII 2.1 client: `pull` imports the new objects of another server's collection."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        pull_parser = commands.add_parser("pull", help="import a collection's new objects")
        pull_parser.add_argument("url", help="the TAXII 2.1 API root URL")
        pull_parser.add_argument("--collection", required=True, help="the collection id")
        pull_parser.add_argument("--owner", required=True, help="short name of the organization")
        pull_parser.add_argument("--user", help="user name for HTTP Basic authentication")
        pull_parser.add_argument("--password-file", type=Path)
        pull_parser.add_argument("--token-file", type=Path, help="file holding a Bearer token")
        pull_parser.add_argument(
            "--tlp", type=str.lower, choices=TLP.values,
            help="TLP 2.0 label of objects without a TLP marking (default amber)",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        actor = _actor(options["owner"])
        token = _secret(options["token_file"])
        password = _secret(options["password_file"])
        if options["user"] and not password:
            raise CommandError(_("--user needs --password-file."))
        subscription = subscribe(
            actor=actor, url=options["url"], collection_id=options["collection"]
        )
        try:
            report = pull(
                actor=actor, subscription=subscription, token=token,
                username=options["user"], password=password, tlp=options["tlp"],
            )  # fmt: skip
        except PullError as exc:
            raise CommandError(printable(str(exc))) from exc
        self.stdout.write(
            _("%(pages)d pages: %(stored)d stored, %(unchanged)d unchanged, %(rejected)d "
              "rejected, %(conflicts)d conflicts; position %(position)s")
            % {
                "pages": report.page_count, "stored": report.stored_count,
                "unchanged": report.unchanged_count, "rejected": report.rejected_count,
                "conflicts": report.conflict_count,
                "position": subscription.added_after or "-",
            }
        )  # fmt: skip


def _secret(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError as exc:
        raise CommandError(
            _("%(file)s cannot be read: %(error)s")
            % {"file": printable(str(path)), "error": printable(str(exc))}
        ) from exc


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
