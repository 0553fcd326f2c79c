"""
`csirtnet export (--incident REF | --misp-event UUID) --format stix|misp --as ORG`: an
incident, or an imported MISP event, as a STIX 2.1 bundle or a MISP event.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from csirtnet.accounts.models import Membership
from csirtnet.core.text import printable
from csirtnet.directory.models import Organization
from csirtnet.incidents.models import Incident
from csirtnet.sharing.models import StixObject
from csirtnet.sharing.services import (
    command_actor,
    export_incident_misp,
    export_incident_stix,
    export_misp_event,
    export_objects,
    latest_exportable,
)


class Command(BaseCommand):
    """
    Write the STIX 2.1 bundle (`--format stix`) or the MISP event JSON (`--format misp`,
    MISP core format) of an incident, or of a MISP event imported earlier (`--misp-event`,
    its uuid: the same attributes, objects and tags come back), to standard output, as
    the organization `--as` sees it (its first active admin, else handler): one hidden
    from it, or labelled TLP:RED, is "no such incident" / "no such event".
    """

    help = (
        "Export an incident or an imported MISP event as a STIX 2.1 bundle or a MISP event "
        "(JSON on standard output)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--incident", help="incident reference")
        which.add_argument("--misp-event", help="uuid of an imported MISP event")
        parser.add_argument("--format", default="stix", choices=["stix", "misp"])
        parser.add_argument(
            "--as", dest="as_org", required=True, help="short name of the organization acting"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = _actor(options["as_org"])
        if options["misp_event"]:
            self.stdout.write(json.dumps(_event(actor, options), indent=2, ensure_ascii=False))
            return
        export = export_incident_misp if options["format"] == "misp" else export_incident_stix
        try:
            bundle = export(actor=actor, incident_reference=options["incident"])
        except Incident.DoesNotExist as exc:
            raise CommandError(_("No such incident.")) from exc
        self.stdout.write(json.dumps(bundle, indent=2, ensure_ascii=False))


def _event(actor: Membership, options: dict[str, Any]) -> dict[str, Any]:
    event_uuid = str(options["misp_event"]).strip().lower()
    try:
        if options["format"] == "misp":
            return export_misp_event(actor=actor, event_uuid=event_uuid)
        grouping = export_misp_event(actor=actor, event_uuid=event_uuid)["Event"]
    except StixObject.DoesNotExist as exc:
        raise CommandError(_("No such MISP event.")) from exc
    ids = [f"grouping--{grouping['uuid']}"]
    ids += [f"grouping--{o['uuid']}" for o in grouping.get("Object") or []]
    rows = latest_exportable(actor=actor, ids=ids)
    refs = [ref for row in rows.values() for ref in row.body.get("object_refs") or []]
    return export_objects(actor=actor, ids=ids + refs)


def _actor(short_name: str) -> Membership:
    try:
        return command_actor(short_name=short_name)
    except (Organization.DoesNotExist, Membership.DoesNotExist) as exc:
        raise CommandError(
            _("No organization %(name)s with an active admin or handler.")
            % {"name": printable(repr(short_name))}
        ) from exc
