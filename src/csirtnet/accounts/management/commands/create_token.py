"""`csirtnet create-token USERNAME [--name NAME] [--read-only]`: a personal API token."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from csirtnet.accounts.services import create_api_token


class Command(BaseCommand):
    """Create an API token for a user and print it, once, alone on standard output."""

    help = (
        "Create a personal API token for USERNAME and print it once on standard output "
        "(the summary goes to standard error, so TOKEN=$(csirtnet create-token alice) "
        "works); only its SHA-256 is stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """Add USERNAME, --name and --read-only."""
        parser.add_argument("username", help="the user the token acts for")
        parser.add_argument("--name", default="command line", help="what the token is for")
        parser.add_argument(
            "--read-only", action="store_true", help="the token may only read (GET)"
        )

    def handle(
        self, *args: Any, username: str, name: str, read_only: bool, **options: Any
    ) -> None:
        """
        Create the token, print a summary line on standard error and the token on
        standard output.

        Raises:
            CommandError: the user is unknown or inactive, or the name is invalid.
        """
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        try:
            token, plaintext = create_api_token(user=user, name=name, read_only=read_only)
        except PermissionDenied as error:
            raise CommandError(f"The user {username!r} is not active.") from error
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        access = "read-only" if token.is_read_only else "read-write"
        self.stderr.write(
            f"{access} API token {token.name!r} for {username} created; shown once, store it now:"
        )
        self.stdout.write(plaintext)
