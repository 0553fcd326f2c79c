"""`csirtnet set-contact-key`: put a point of contact's OpenPGP public key on file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from csirtnet.core.pgp import PgpError
from csirtnet.directory.models import ContactRole, Organization, PointOfContact
from csirtnet.directory.services import set_contact_key


class Command(BaseCommand):
    """
    Read an ASCII-armored OpenPGP public key (RFC 4880) from KEY_FILE ("-" for standard
    input) and put it, with its fingerprint, on the point of contact of ORGANIZATION
    (short name) in ROLE (default csirt_24_7). Prints the contact and the fingerprint.
    """

    help = "Put an OpenPGP public key on an organization's point of contact."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("organization", help="Short name, e.g. CERT.br.")
        parser.add_argument("key_file", help='ASCII-armored public key file, or "-".')
        parser.add_argument("--role", default=ContactRole.CSIRT_24_7, choices=ContactRole.values)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            organization = Organization.objects.get(short_name=options["organization"])
        except Organization.DoesNotExist:
            raise CommandError(
                _("No organization %(name)s.") % {"name": options["organization"][:60]}
            ) from None
        source = options["key_file"]
        try:
            text = sys.stdin.read() if source == "-" else Path(source).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(_("Cannot read the key: %(error)s") % {"error": error}) from None
        try:
            contact = set_contact_key(
                organization=organization, role=options["role"], armored_key=text,
                gpg_binary=settings.CSIRTNET_GPG_BINARY,
            )  # fmt: skip
        except PointOfContact.DoesNotExist:
            raise CommandError(
                _("%(org)s has no %(role)s point of contact.")
                % {"org": organization.short_name, "role": options["role"]}
            ) from None
        except PgpError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"{contact.organization.short_name}\t{contact.role}\t{contact.pgp_fingerprint}"
        )
