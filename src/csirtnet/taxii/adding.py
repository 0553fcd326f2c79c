"""
The TAXII 2.1 "add objects" request (OASIS TAXII 2.1, section 5.5): store each object of
an envelope as the requesting actor and record the outcome as a status resource.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from csirtnet.accounts.models import Membership
from csirtnet.sharing import stix
from csirtnet.sharing.services import CONFLICT, REJECTED, import_stix, read_json
from csirtnet.sharing.tlp import TLP
from csirtnet.taxii.envelopes import TaxiiError, timestamp
from csirtnet.taxii.models import AddStatus
from csirtnet.taxii.querysets import Collection

SOURCE = "taxii"  # `StixObject.source` of objects added over TAXII


def parse_envelope(data: bytes) -> list[Any]:
    """
    Return the `objects` of an envelope (section 3.7.1).

    Raises:
        TaxiiError: 400 when `data` is not JSON or not an envelope.
    """
    try:
        envelope = read_json(data)
    except ValidationError as error:
        raise TaxiiError(400, _("Bad request"), " ".join(error.messages)) from None
    objects = envelope.get("objects") if isinstance(envelope, dict) else None
    if not isinstance(objects, list):
        raise TaxiiError(400, _("Bad request"), _('Send an envelope: {"objects": […]}.'))
    return objects


@transaction.atomic
def add_objects(*, actor: Membership, collection: Collection, objects: list[Any]) -> AddStatus:
    """
    Store `objects` for `actor`'s organization with `sharing.services.import_stix` and
    return the completed status (section 4.3.1). An object fails when its TLP label
    (its own marking, else TLP:AMBER: unlabelled input is AMBER) is not one that
    `collection` holds, when `import_stix` rejects it, or when another object is stored
    under its id and version; a repeat of a stored version, or a TLP marking definition,
    succeeds without a new row. A success whose label the import raised (a combination
    carries the strictest label of the objects it refers to) says so in its `message`.

    Raises:
        TaxiiError: 400 when `import_stix` cannot read the envelope at all (STIX 2.0
            objects, another spec_version).
    """
    markings = {
        str(obj.get("id")): label
        for obj in objects
        if isinstance(obj, dict) and (label := stix.marking_tlp(obj)) is not None
    }
    status = AddStatus(requester=actor.user, collection_id=collection.id, total_count=len(objects))
    accepted = []
    for obj in objects:
        refusal = _refusal(obj, collection, markings)
        if refusal:
            status.failures.append({**_detail(obj), "message": refusal})
        else:
            accepted.append(obj)
    if accepted:
        _import(actor, accepted, status)
    status.save()
    return status


def _import(actor: Membership, accepted: list[dict[str, Any]], status: AddStatus) -> None:
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": accepted}
    try:
        report = import_stix(actor=actor, data=json.dumps(bundle).encode(), source=SOURCE)
    except ValidationError as exc:
        raise TaxiiError(400, _("Bad request"), " ".join(exc.messages)) from None
    for obj, outcome in zip(accepted, report.outcomes, strict=True):
        detail = _detail(obj)
        if outcome.status in (REJECTED, CONFLICT):
            status.failures.append({**detail, "message": outcome.reason})
        elif outcome.reason:  # e.g. labelled stricter than its marking (`decide_labels`)
            status.successes.append({**detail, "message": outcome.reason})
        else:
            status.successes.append(detail)


def _refusal(obj: Any, collection: Collection, markings: dict[str, TLP]) -> str:
    """Return why `obj` may not be added to `collection`, or "" when it may."""
    if not isinstance(obj, dict) or not obj.get("id") or not obj.get("type"):
        return _("Not a STIX object: no id or type.")
    if stix.marking_tlp(obj) is not None:
        return ""
    label = stix.object_tlp(obj, markings) or TLP.AMBER
    if label not in collection.labels:
        return _("%(label)s objects do not belong in this collection.") % {"label": label.label}
    return ""


def _detail(obj: Any) -> dict[str, str]:
    """Return the status details of `obj` (section 4.3.1): its id and version."""
    if not isinstance(obj, dict):
        return {"id": ""}
    version = stix.object_version(obj)
    detail = {"id": str(obj.get("id", ""))}
    return {**detail, "version": version} if version else detail


def status_resource(status: AddStatus) -> dict[str, Any]:
    """Return the status resource of `status` (section 4.3.1)."""
    return {
        "id": str(status.uuid),
        "status": status.status,
        "request_timestamp": timestamp(status.requested_at),
        "total_count": status.total_count,
        "success_count": len(status.successes),
        "successes": status.successes,
        "failure_count": len(status.failures),
        "failures": status.failures,
        "pending_count": len(status.pendings),
        "pendings": status.pendings,
    }
