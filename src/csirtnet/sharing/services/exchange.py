"""
STIX 2.1 bundles and MISP events in and out: incidents, selections of stored objects,
MISP events and feeds (stored through `import_stix`), and any document by its format.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from csirtnet.core.text import printable
from csirtnet.incidents.models import Incident
from csirtnet.sharing import misp, misp_export, stix
from csirtnet.sharing.models import StixObject
from csirtnet.sharing.services.importing import (
    REJECTED,
    ImportReport,
    ObjectOutcome,
    detect_format,
    import_stix,
    read_json,
)

if TYPE_CHECKING:
    from csirtnet.accounts.models import Membership


def export_incident_stix(*, actor: Membership, incident_reference: str) -> dict[str, Any]:
    """
    Return the STIX 2.1 bundle of an incident `actor` may export (see
    `stix.incident_bundle`); TLP:RED incidents are never exported (DESIGN.md).

    Raises:
        Incident.DoesNotExist: no such incident, hidden from `actor`, or TLP:RED.
    """
    incident = (
        Incident.objects.exportable_to(actor)
        .select_related("owner")
        .prefetch_related("observables")
        .get(reference=incident_reference)
    )
    return stix.incident_bundle(incident)


def export_objects(*, actor: Membership, ids: list[str] | None = None) -> dict[str, Any]:
    """
    Return a STIX 2.1 bundle (section 8) of the latest stored version of each object
    `actor` may export (never TLP:RED), bodies as stored; `ids` (STIX ids) narrows it,
    ids hidden or unknown are left out. The latest version is the greatest `modified`,
    then the last stored.
    """
    latest = latest_exportable(actor=actor, ids=ids)
    ordered = sorted(latest.values(), key=lambda row: (row.date_added, row.pk))
    return stix.objects_bundle(row.body for row in ordered)


def latest_exportable(*, actor: Membership, ids: list[str] | None = None) -> dict[str, StixObject]:
    """
    Return `{STIX id: row}` of the latest stored version of each object `actor` may
    export (never TLP:RED), narrowed to `ids` when given: the greatest `modified`, then
    the last stored; ids hidden or unknown are absent.
    """
    rows = StixObject.objects.exportable_to(actor)
    if ids is not None:
        rows = rows.filter(stix_id__in=ids)
    latest: dict[str, StixObject] = {}
    for row in rows.order_by("stix_id", "modified_at", "date_added", "pk"):
        previous = latest.get(row.stix_id)
        if previous is None or _newer(row, previous):
            latest[row.stix_id] = row
    return latest


def _newer(row: StixObject, previous: StixObject) -> bool:
    if row.modified_at is None or previous.modified_at is None:
        return True
    return row.modified_at >= previous.modified_at


# --- MISP core format (sharing/misp.py maps; import_stix stores) ---------------------------


@transaction.atomic
def import_misp(
    *, actor: Membership, data: bytes, source: str, tlp: str | None = None
) -> ImportReport:
    """
    Store the MISP events of `data` (JSON: `{"Event": {...}}`, a bare event, or
    `{"response": [...]}`) as STIX 2.1 objects (see `sharing.misp` for the mapping) for
    `actor`'s organization, through `import_stix`: same outcomes, same versioning (a
    re-import of the same event is unchanged), same TLP rule (an event's `tlp:*` tag,
    else `tlp`, else AMBER; a grouping raised to the strictest label of its members by
    `importing.decide_labels`).

    Raises:
        PermissionDenied: `actor` is not an active membership.
        ValidationError: not UTF-8 JSON, not a MISP event (a galaxy, sightings, sharing
            groups... say so), or an attribute that cannot be mapped (the message names
            its uuid and type); nothing is written then.
    """
    if not actor.is_active:
        raise PermissionDenied
    objects = [
        obj
        for event in misp.load_events(_json_document(data))
        for obj in misp.event_objects(event)
    ]
    return _store_mapped(actor, objects, source, tlp)


def _store_mapped(
    actor: Membership, objects: list[dict[str, Any]], source: str, tlp: str | None
) -> ImportReport:
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}
    return import_stix(actor=actor, data=json.dumps(bundle).encode(), source=source, tlp=tlp)


def _json_document(data: bytes) -> Any:
    return read_json(data)


_FEED_UUID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


@transaction.atomic
def import_misp_feed(
    *, actor: Membership, folder: Path, source: str = "", tlp: str | None = None
) -> ImportReport:
    """
    Store the events of a MISP feed folder (`manifest.json`: event uuid to event
    metadata, and one `<uuid>.json` per event, as MISP writes feeds) like `import_misp`,
    in one transaction. An event whose file is missing or cannot be imported is one
    rejected outcome (its id the event uuid, the reason naming the file); nothing of it
    is written, the other events are.

    Raises:
        PermissionDenied: `actor` is not an active membership.
        ValidationError: no readable `manifest.json`, or it is not an object of event uuids.
    """
    if not actor.is_active:
        raise PermissionDenied
    try:
        manifest = _json_document((folder / "manifest.json").read_bytes())
    except OSError as exc:
        raise ValidationError(_("No readable manifest.json: not a MISP feed folder.")) from exc
    if not isinstance(manifest, dict) or not all(_FEED_UUID.fullmatch(k) for k in manifest):
        raise ValidationError(_("manifest.json is not an object of MISP event uuids."))
    rejected: list[ObjectOutcome] = []
    objects: list[dict[str, Any]] = []
    for event_uuid in manifest:
        name = f"{event_uuid}.json"
        try:
            document = _json_document((folder / name).read_bytes())
            events = misp.load_events(document)
            objects.extend(obj for event in events for obj in misp.event_objects(event))
        except FileNotFoundError:
            reason = _("%(file)s: listed in manifest.json but missing.") % {"file": name}
            rejected.append(ObjectOutcome(event_uuid, REJECTED, reason))
        except (OSError, ValidationError) as exc:
            reason = _("%(file)s: %(error)s") % {"file": name, "error": _error_text(exc)}
            rejected.append(ObjectOutcome(event_uuid, REJECTED, printable(reason)))
    report = (
        _store_mapped(actor, objects, source or folder.name, tlp) if objects else ImportReport()
    )
    report.outcomes.extend(rejected)
    return report


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(str(message) for message in exc.messages)
    return str(exc)


def export_incident_misp(*, actor: Membership, incident_reference: str) -> dict[str, Any]:
    """
    Return an incident `actor` may export as MISP event JSON (`{"Event": {...}}`, MISP
    core format; see `misp_export.incident_to_misp`); TLP:RED incidents are never exported.

    Raises:
        Incident.DoesNotExist: no such incident, hidden from `actor`, or TLP:RED.
    """
    incident = (
        Incident.objects.exportable_to(actor)
        .prefetch_related("observables")
        .get(reference=incident_reference)
    )
    return {"Event": json.loads(misp_export.incident_to_misp(incident).to_json())}


def export_misp_event(*, actor: Membership, event_uuid: str) -> dict[str, Any]:
    """
    Return a MISP event that was imported (`import_misp`, `import_misp_feed`, or a STIX
    grouping made by them) as MISP event JSON (`{"Event": {...}}`), from the latest
    versions of its grouping and members that `actor` may export (see
    `misp_export.grouping_to_misp`). A member hidden from `actor` is left out.

    Raises:
        StixObject.DoesNotExist: no such event stored, hidden from `actor`, or TLP:RED.
    """
    grouping_id = f"grouping--{event_uuid}"
    grouping = latest_exportable(actor=actor, ids=[grouping_id]).get(grouping_id)
    if grouping is None or "x_misp_uuid" not in grouping.body:
        raise StixObject.DoesNotExist
    refs = [str(ref) for ref in grouping.body.get("object_refs") or []]
    members = {sid: row.body for sid, row in latest_exportable(actor=actor, ids=refs).items()}
    nested = [
        str(ref)
        for body in members.values()
        if body.get("type") == "grouping"
        for ref in body.get("object_refs") or []
    ]
    members |= {sid: row.body for sid, row in latest_exportable(actor=actor, ids=nested).items()}
    event = misp_export.grouping_to_misp(grouping.body, members)
    return {"Event": json.loads(event.to_json())}


def import_document(
    *, actor: Membership, data: bytes, source: str, tlp: str | None = None
) -> ImportReport:
    """
    Store a STIX 2.1 bundle or object or a MISP event (`detect_format`) for `actor`'s
    organization with `import_stix` or `import_misp`; return the per-object report.

    Raises:
        PermissionDenied: `actor` is not an active membership.
        ValidationError: the document cannot be read (see `load_stix`, `import_misp`).
    """
    if detect_format(data) == "misp":
        return import_misp(actor=actor, data=data, source=source, tlp=tlp)
    return import_stix(actor=actor, data=data, source=source, tlp=tlp)
