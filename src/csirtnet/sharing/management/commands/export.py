"""`csirtnet export --incident REF --format stix|misp --as ORG`: an incident as STIX or MISP."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from csirtnet.accounts.models import Membership
from csirtnet.core.text import printable
from csirtnet.directory.models import Organization
from csirtnet.incidents.models import Incident
from csirtnet.sharing.services import (
    command_actor,
    export_incident_misp,
    export_incident_stix,
)


class Command(BaseCommand):
    """
    Write the STIX 2.1 bundle (`--format stix`) or the MISP event JSON (`--format misp`,
    MISP core format) of an incident to standard output, as the organization
    `--as` sees it (its first active admin, else handler): an incident hidden from it,
    or labelled TLP:RED, is "no such incident".
    """

    help = "Export an incident as a STIX 2.1 bundle or a MISP event (JSON on standard output)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--incident", required=True, help="incident reference")
        parser.add_argument("--format", default="stix", choices=["stix", "misp"])
        parser.add_argument(
            "--as", dest="as_org", required=True, help="short name of the organization acting"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = _actor(options["as_org"])
        export = export_incident_misp if options["format"] == "misp" else export_incident_stix
        try:
            bundle = export(actor=actor, incident_reference=options["incident"])
        except Incident.DoesNotExist as exc:
            raise CommandError(_("No such incident.")) from exc
        self.stdout.write(json.dumps(bundle, indent=2, ensure_ascii=False))


def _actor(short_name: str) -> Membership:
    try:
        return command_actor(short_name=short_name)
    except (Organization.DoesNotExist, Membership.DoesNotExist) as exc:
        raise CommandError(
            _("No organization %(name)s with an active admin or handler.")
            % {"name": printable(repr(short_name))}
        ) from exc
