"""
JSON endpoints of evidence (mounted under /api/v1/ by `csirtnet.api`): list and upload
the evidence of an incident or an assistance request, read an item and its chain of
custody, transfer, accept, examine, release, download. Every item is fetched through
`EvidenceQuerySet.visible_to`; hidden and missing answer 404 alike.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, UploadedFile
from ninja.responses import Status

from csirtnet.accounts.models import Membership
from csirtnet.api.errors import error_responses, reject_unknown_parameters
from csirtnet.core import audit
from csirtnet.directory.models import Organization
from csirtnet.evidence import services
from csirtnet.evidence.models import CustodyEvent, Evidence
from csirtnet.evidence.panel import INCIDENT, REQUEST, evidence_of, visible_parent
from csirtnet.evidence.schemas import (
    CustodyEventOut,
    CustodyListOut,
    EvidenceListOut,
    EvidenceOut,
    PageQuery,
    ReasonIn,
    TransferIn,
)
from csirtnet.evidence.storage import evidence_path
from csirtnet.evidence.views import attachment_response

router = Router(tags=["evidence"])

_DOWNLOAD = {
    "responses": {
        200: {
            "description": "The file's bytes, as a download (`Content-Disposition: attachment`).",
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    }
}


# --- lists and uploads ---------------------------------------------------------------


@router.get(
    "/incidents/{incident_uuid}/evidence",
    response={200: EvidenceListOut, **error_responses(400, 401, 403, 404)},
)
def list_incident_evidence(
    request: HttpRequest, incident_uuid: UUID, page: Query[PageQuery]
) -> dict[str, Any]:
    """List the evidence of an incident the token's organization sees, oldest first."""
    return _list(request, INCIDENT, incident_uuid, page)


@router.post(
    "/incidents/{incident_uuid}/evidence",
    response={201: EvidenceOut, **error_responses(400, 401, 403, 404, 413)},
)
def add_incident_evidence(
    request: HttpRequest,
    incident_uuid: UUID,
    file: File[UploadedFile],
    content_type: Form[str] = "",
    description: Form[str] = "",
) -> Status[Evidence]:
    """
    Upload a file (multipart/form-data: `file`, `content_type` declared media type,
    defaulting to the part's own, `description`) as evidence of an incident; custody
    event "collected". Owner, lead or participant only (else 403).
    """
    return _add(request, INCIDENT, incident_uuid, file, content_type, description)


@router.get(
    "/assistance-requests/{request_uuid}/evidence",
    response={200: EvidenceListOut, **error_responses(400, 401, 403, 404)},
)
def list_request_evidence(
    request: HttpRequest, request_uuid: UUID, page: Query[PageQuery]
) -> dict[str, Any]:
    """List the evidence of an assistance request the token's organization sees."""
    return _list(request, REQUEST, request_uuid, page)


@router.post(
    "/assistance-requests/{request_uuid}/evidence",
    response={201: EvidenceOut, **error_responses(400, 401, 403, 404, 413)},
)
def add_request_evidence(
    request: HttpRequest,
    request_uuid: UUID,
    file: File[UploadedFile],
    content_type: Form[str] = "",
    description: Form[str] = "",
) -> Status[Evidence]:
    """
    Upload a file as evidence of an assistance request (as for incidents); the
    requesting or the requested organization only (else 403).
    """
    return _add(request, REQUEST, request_uuid, file, content_type, description)


# --- one item ------------------------------------------------------------------------


@router.get(
    "/evidence/{evidence_uuid}", response={200: EvidenceOut, **error_responses(401, 403, 404)}
)
def get_evidence(request: HttpRequest, evidence_uuid: UUID) -> Evidence:
    """Return one evidence item."""
    return _get(request, evidence_uuid)


@router.get(
    "/evidence/{evidence_uuid}/custody",
    response={200: CustodyListOut, **error_responses(401, 403, 404)},
)
def list_custody(request: HttpRequest, evidence_uuid: UUID) -> dict[str, Any]:
    """Return the item's whole chain of custody, first event first, with every hashed value."""
    events = _events(_get(request, evidence_uuid))
    return {"count": len(events), "items": events}


@router.post(
    "/evidence/{evidence_uuid}/transfer",
    response={201: CustodyEventOut, **error_responses(400, 401, 403, 404)},
)
def transfer_evidence(
    request: HttpRequest, evidence_uuid: UUID, payload: TransferIn
) -> Status[CustodyEvent]:
    """
    Offer the item to another organization (custodian only, else 403); it takes effect
    when a member of that organization accepts. One pending transfer at a time (400).
    """
    evidence = _get(request, evidence_uuid)
    receiver = Organization.objects.filter(short_name=payload.receiving_organization).first()
    if receiver is None:
        raise ValidationError({"receiving_organization": _("Unknown organization.")})
    event = services.transfer_evidence(
        actor=_actor(request), evidence=evidence, receiving_organization=receiver,
        reason=payload.reason,
    )  # fmt: skip
    return Status(201, _event(event))


@router.post(
    "/evidence/{evidence_uuid}/accept",
    response={201: CustodyEventOut, **error_responses(400, 401, 403, 404)},
)
def accept_transfer(
    request: HttpRequest, evidence_uuid: UUID, payload: ReasonIn
) -> Status[CustodyEvent]:
    """Accept the transfer offered to the token's organization (another answers 403)."""
    evidence = _get(request, evidence_uuid)
    event = services.accept_transfer(
        actor=_actor(request), evidence=evidence, reason=payload.reason
    )
    return Status(201, _event(event))


@router.post(
    "/evidence/{evidence_uuid}/examine",
    response={201: CustodyEventOut, **error_responses(400, 401, 403, 404)},
)
def examine_evidence(
    request: HttpRequest, evidence_uuid: UUID, payload: ReasonIn
) -> Status[CustodyEvent]:
    """Record an examination by the custodian (else 403); `reason` says what was done."""
    evidence = _get(request, evidence_uuid)
    event = services.record_examination(
        actor=_actor(request), evidence=evidence, reason=payload.reason
    )
    return Status(201, _event(event))


@router.post(
    "/evidence/{evidence_uuid}/release",
    response={201: CustodyEventOut, **error_responses(400, 401, 403, 404)},
)
def release_evidence(
    request: HttpRequest, evidence_uuid: UUID, payload: ReasonIn
) -> Status[CustodyEvent]:
    """Release the item (custodian only, else 403), closing its chain."""
    evidence = _get(request, evidence_uuid)
    event = services.release_evidence(
        actor=_actor(request), evidence=evidence, reason=payload.reason
    )
    return Status(201, _event(event))


@router.get(
    "/evidence/{evidence_uuid}/download",
    response={200: None, **error_responses(401, 403, 404)},
    openapi_extra=_DOWNLOAD,
)
def download_evidence(request: HttpRequest, evidence_uuid: UUID) -> FileResponse:
    """
    Download the file: `application/octet-stream`, `Content-Disposition: attachment`,
    `X-Content-Type-Options: nosniff`; never rendered. 404 also when gone from storage.
    """
    evidence = _get(request, evidence_uuid)
    try:
        content = evidence_path(evidence.sha256).open("rb")
    except FileNotFoundError:
        raise Http404 from None
    audit.record(actor=_actor(request), action="evidence.downloaded", target=evidence)
    return attachment_response(content, evidence)


# --- helpers -------------------------------------------------------------------------


def _actor(request: HttpRequest) -> Membership:
    """Return the membership the token authentication set (never None past it)."""
    actor: Membership = request.actor  # type: ignore[attr-defined]
    return actor


def _parent(request: HttpRequest, kind: str, parent_uuid: UUID) -> Any:
    """Return the visible incident or request, else raise Http404 (hidden and missing alike)."""
    parent = visible_parent(_actor(request), kind, parent_uuid)
    if parent is None:
        raise Http404
    return parent


def _list(request: HttpRequest, kind: str, parent_uuid: UUID, page: PageQuery) -> dict[str, Any]:
    reject_unknown_parameters(request, PageQuery.model_fields)
    items = evidence_of(_actor(request), _parent(request, kind, parent_uuid)).select_related(
        "incident", "assistance_request", "owner__state", "custodian__state",
        "pending_receiver__state",
    )  # fmt: skip
    shown = list(items[page.offset : page.offset + page.limit])
    audit.record_reads(actor=_actor(request), rows=shown, action="evidence.listed")
    return {"count": items.count(), "items": shown}


def _add(
    request: HttpRequest,
    kind: str,
    parent_uuid: UUID,
    upload: UploadedFile,
    content_type: str,
    description: str,
) -> Status[Evidence]:
    parent = _parent(request, kind, parent_uuid)
    evidence = services.add_evidence(
        actor=_actor(request), parent=parent, name=upload.name or "", content=upload,
        content_type=content_type or upload.content_type or "application/octet-stream",
        description=description,
    )  # fmt: skip
    return Status(201, _get(request, evidence.uuid))


def _get(request: HttpRequest, evidence_uuid: UUID) -> Evidence:
    """Return the item if the token's organization sees it; else raise Http404."""
    visible = Evidence.objects.visible_to(_actor(request)).select_related(
        "incident", "assistance_request", "owner__state", "custodian__state",
        "pending_receiver__state", "added_by",
    )  # fmt: skip
    evidence = get_object_or_404(visible, uuid=evidence_uuid)
    audit.record_reads(actor=_actor(request), rows=[evidence], action="evidence.read")
    return evidence


def _events(evidence: Evidence) -> list[CustodyEvent]:
    return list(
        evidence.custody.select_related(
            "evidence", "actor", "organization__state", "receiving_organization__state"
        ).order_by("sequence")
    )


def _event(event: CustodyEvent) -> CustodyEvent:
    return CustodyEvent.objects.select_related(
        "evidence", "actor", "organization__state", "receiving_organization__state"
    ).get(pk=event.pk)
