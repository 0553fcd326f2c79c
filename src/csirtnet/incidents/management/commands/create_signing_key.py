"""`csirtnet create-signing-key`: make the platform's OpenPGP signing key once; print it."""

from __future__ import annotations

from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from csirtnet.core.pgp import PgpError, ensure_signing_key


class Command(BaseCommand):
    """
    Create an Ed25519 signing key with a cv25519 encryption subkey, without passphrase,
    in CSIRTNET_PGP_HOME (created 0700) unless the keyring already has one; print its
    fingerprint (40 hex digits) alone on one line, so that it can be put in
    CSIRTNET_PGP_SIGNING_KEY. Safe to run again: it prints the existing key's.
    """

    help = (
        "Create the platform's PGP signing key for notification e-mail if there is none, "
        "and print its fingerprint."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", default="csirtnet", help="Name of the key's user ID.")
        parser.add_argument(
            "--email", default=None, help="E-mail of the key's user ID (default: the sender)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        email = options["email"] or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
        name = " ".join(str(options["name"]).split())
        if not name or not email or "<" in name or ">" in name:
            raise CommandError(_("Give a name without < > and an e-mail address."))
        try:
            fingerprint, created = ensure_signing_key(
                home=settings.CSIRTNET_PGP_HOME,
                name=name,
                email=email,
                signing_key=settings.CSIRTNET_PGP_SIGNING_KEY,
                gpg_binary=settings.CSIRTNET_GPG_BINARY,
            )
        except PgpError as exc:
            raise CommandError(str(exc)) from exc
        if options["verbosity"] >= 2:
            message = _("Created the signing key.") if created else _("The signing key exists.")
            self.stderr.write(message)
        self.stdout.write(fingerprint)
