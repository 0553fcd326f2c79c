"""JSON endpoints of sharing, mounted under /api/v1/: correlation, imports, sightings."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from ninja import Query, Router
from ninja.responses import Status

from csirtnet.api.errors import INVALID, ApiError, error_responses, reject_unknown_parameters
from csirtnet.core import audit
from csirtnet.sharing.correlation import Correlation, correlate, record_correlation_reads
from csirtnet.sharing.models import StixObject
from csirtnet.sharing.schemas import (
    CorrelationOut,
    CorrelationQuery,
    ImportQuery,
    ImportReportOut,
    SightingIn,
    SightingOut,
    SightingQuery,
)
from csirtnet.sharing.services import detect_format, import_document, record_sighting

router = Router(tags=["sharing"])


@router.get("/correlation", response={200: CorrelationOut, **error_responses(400, 401, 403)})
def correlate_value(request: HttpRequest, query: Query[CorrelationQuery]) -> Correlation:
    """
    Return the incidents, STIX objects and sightings that hold `value` (normalized:
    IDN to punycode, IPv6 compressed, hashes lower-case), only among those the token's
    organization may see under the TLP rule.
    """
    reject_unknown_parameters(request, CorrelationQuery.model_fields)
    try:
        found = correlate(
            actor=request.actor,  # type: ignore[attr-defined]
            value=query.value,
            kind=query.type.value if query.type else None,
        )
    except ValueError as error:
        raise ApiError(400, INVALID, f"value: {error}") from None
    record_correlation_reads(actor=request.actor, found=found)  # type: ignore[attr-defined]
    return found


@router.post(
    "/imports",
    response={200: ImportReportOut, **error_responses(400, 401, 403, 413)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": (
                'A STIX 2.1 bundle or object, or a MISP event (`{"Event": ...}`), as JSON; '
                "at most 5 MiB (larger files: `csirtnet import`)."
            ),
            "content": {
                media: {"schema": {"type": "object"}}
                for media in ("application/json", "application/stix+json;version=2.1")
            },
        }
    },
)
def import_objects(request: HttpRequest, query: Query[ImportQuery]) -> dict[str, Any]:
    """
    Import a STIX 2.1 bundle or a MISP event (told apart as `csirtnet import` does) for
    the token's organization and return what became of each object: stored, unchanged,
    rejected (with the reason), conflict, or marking. Valid objects are stored even when
    others are rejected; a document that cannot be read at all answers 400.
    """
    reject_unknown_parameters(request, ImportQuery.model_fields)
    actor = request.actor  # type: ignore[attr-defined]
    data = request.body
    try:
        report = import_document(actor=actor, data=data, source=query.source, tlp=query.tlp)
    except ValidationError as error:
        raise ApiError(400, INVALID, " ".join(error.messages)) from None
    return {
        "format": detect_format(data),
        **{name: getattr(report, name) for name in _COUNTS},
        "outcomes": report.outcomes,
    }


_COUNTS = ("stored_count", "unchanged_count", "rejected_count", "conflict_count", "marking_count")


@router.post("/sightings", response={201: SightingOut, **error_responses(400, 401, 403, 404)})
def create_sighting(request: HttpRequest, payload: SightingIn) -> Status[StixObject]:
    """
    Record that the token's organization saw an object (an indicator or another STIX
    domain object it may see; hidden and missing both answer 404) `count` times between
    `first_seen` and `last_seen`. The sighting is labelled at least as strictly as the
    object and, under TLP:AMBER, addressed to the object's owner.
    """
    actor = request.actor  # type: ignore[attr-defined]
    sighted = StixObject.objects.visible_to(actor).filter(stix_id=payload.sighting_of)
    found = sighted.latest_versions().first()
    if found is None:
        raise Http404
    sighting = record_sighting(
        actor=actor, sighted=found, count=payload.count, first_seen_at=payload.first_seen,
        last_seen_at=payload.last_seen, tlp=payload.tlp, note=payload.note,
    )  # fmt: skip
    return Status(201, StixObject.objects.select_related("owner__state").get(pk=sighting.pk))


@router.get("/sightings", response={200: list[SightingOut], **error_responses(400, 401, 403)})
def list_sightings(request: HttpRequest, query: Query[SightingQuery]) -> list[StixObject]:
    """
    Return the sightings of an object (any version, any organization's copy) that the
    token may see, newest first, at most 500: who saw it, how often, first and last seen.
    """
    reject_unknown_parameters(request, SightingQuery.model_fields)
    actor = request.actor  # type: ignore[attr-defined]
    rows = StixObject.objects.visible_to(actor).filter(
        type="sighting", body__sighting_of_ref=query.sighting_of
    )
    found = list(rows.select_related("owner__state").order_by("-date_added", "-pk")[:500])
    audit.record_reads(actor=actor, rows=found, action="stix.read")
    return found
