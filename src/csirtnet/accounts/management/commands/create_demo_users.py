"""`csirtnet create-demo-users [--print]`: demo logins for a few national CSIRTs and CICTE."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from csirtnet.accounts.services import (
    DemoLogin,
    create_demo_users,
    demo_logins_path,
    read_demo_logins,
)
from csirtnet.directory.models import Organization


class Command(BaseCommand):
    """Create the demo logins (idempotent); `--print` shows them with their passwords."""

    help = (
        "Create one demo login per national CSIRT of US, CA, BR, CL, MX, VE and "
        "a staff login for the secretariat; passwords are random and kept in "
        "VAR_DIR/demo-logins.txt (mode 0600) with the TOTP key of each login that must "
        "use a second factor."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """Add --print and --reset-passwords."""
        parser.add_argument(
            "--print",
            action="store_true",
            dest="print_table",
            help=(
                "print username, organization, state, password and, for those who must "
                "use a second factor, the TOTP key of every demo login"
            ),
        )
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="give every demo login a new random password",
        )

    def handle(self, *args: Any, print_table: bool, reset_passwords: bool, **options: Any) -> None:
        """Create the logins, print one summary line and, with --print, the table."""
        try:
            logins = create_demo_users(reset_passwords=reset_passwords)
        except Organization.DoesNotExist as exc:
            raise CommandError("Load the directory first: csirtnet load-directory") from exc
        created = sum(login.is_created for login in logins)
        self.stdout.write(
            f"demo users: {len(logins)} ({created} created); logins in {demo_logins_path()}"
        )
        if print_table:
            recorded = read_demo_logins()
            self.stdout.write(_table(recorded))
            if any(login.totp_key for login in recorded):
                self.stdout.write(
                    "Logins with a TOTP key ask for a code after the password: add the key "
                    "to an authenticator app as a time-based key (6 digits, 30 seconds)."
                )


def _table(logins: list[DemoLogin]) -> str:
    """Format the logins as aligned columns; an unknown password shows how to reset it."""
    rows = [("username", "organization", "state", "password", "TOTP key")]
    rows += [
        (
            login.username,
            login.organization,
            login.state or "-",
            login.password or "(unknown: --reset-passwords)",
            login.totp_key or "-",
        )
        for login in logins
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
