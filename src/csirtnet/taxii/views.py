"""
TAXII 2.1 endpoints (OASIS TAXII 2.1, sections 4 and 5) as plain function views. Every
row a view shows comes from `Collection.rows(actor)`, that is `visible_to` (STYLE §5).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from csirtnet.core import audit
from csirtnet.taxii import adding
from csirtnet.taxii.auth import Requester, authenticate, require_write
from csirtnet.taxii.envelopes import (
    STIX_MEDIA_TYPE,
    TAXII_MEDIA_TYPE,
    TaxiiError,
    check_accept,
    check_content_type,
    error_response,
    max_content_length,
    paginate,
    taxii_response,
    timestamp,
)
from csirtnet.taxii.models import AddStatus
from csirtnet.taxii.querysets import Collection, collections, find_collection, match_filters

API_ROOT = "csirtnet"  # the one API root, /taxii2/csirtnet/

View = Callable[..., HttpResponse]


def taxii_view(*methods: str) -> Callable[[View], View]:
    """
    Make a TAXII endpoint of `view(request, requester, **kwargs)`: open to the
    authentication of section 1.6.6 instead of the login page, `Accept` checked
    (section 1.6.8.1), other methods refused (405) and every `TaxiiError` answered
    as an error message (section 3.6.1).
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            try:
                if request.method not in methods:
                    raise TaxiiError(405, _("Method not allowed"))
                check_accept(request)
                return view(request, authenticate(request), **kwargs)
            except TaxiiError as error:
                return error_response(error)

        return login_not_required(csrf_exempt(wrapper))

    return decorator


@taxii_view("GET")
def discovery(request: HttpRequest, requester: Requester) -> HttpResponse:
    """Return the discovery resource (section 4.1.1)."""
    root = request.build_absolute_uri(reverse("taxii:api_root", args=[API_ROOT]))
    return taxii_response(
        {
            "title": _("CSIRT network of the Americas"),
            "description": _("STIX 2.1 objects shared under TLP 2.0 by the network's CSIRTs."),
            "default": root,
            "api_roots": [root],
        }
    )


@taxii_view("GET")
def api_root(request: HttpRequest, requester: Requester, root: str) -> HttpResponse:
    """Return the API root resource (section 4.2.1)."""
    _check_root(root)
    return taxii_response(
        {
            "title": _("CSIRT network of the Americas"),
            "versions": [TAXII_MEDIA_TYPE],
            "max_content_length": max_content_length(),
        }
    )


@taxii_view("GET")
def status(request: HttpRequest, requester: Requester, root: str, status_id: str) -> HttpResponse:
    """Return the status of an add request, to the user who made it only (section 4.3)."""
    _check_root(root)
    if requester.actor is None:
        raise TaxiiError(401, _("Unauthorized"), _("Send a valid API token."))
    status_uuid = _uuid_or_none(status_id)
    found = (
        status_uuid
        and AddStatus.objects.filter(uuid=status_uuid, requester=requester.actor.user).first()
    )
    if not found:
        raise TaxiiError(404, _("Not found"), _("No such status."))
    return taxii_response(adding.status_resource(found))


@taxii_view("GET")
def collection_list(request: HttpRequest, requester: Requester, root: str) -> HttpResponse:
    """Return the collections `requester` may read (section 5.1)."""
    _check_root(root)
    listed = [c.resource(requester) for c in collections() if c.can_read(requester)]
    return taxii_response({"collections": listed})


@taxii_view("GET")
def collection(
    request: HttpRequest, requester: Requester, root: str, collection_id: str
) -> HttpResponse:
    """Return one collection resource (section 5.2)."""
    _check_root(root)
    return taxii_response(find_collection(collection_id, requester).resource(requester))


@taxii_view("GET")
def manifest(
    request: HttpRequest, requester: Requester, root: str, collection_id: str
) -> HttpResponse:
    """Return a page of manifest records of the matching objects (section 5.3)."""
    _check_root(root)
    rows = find_collection(collection_id, requester).rows(requester.actor)
    page = paginate(match_filters(rows, request.GET), request)
    records = [
        {
            "id": row.stix_id,
            "date_added": timestamp(row.date_added),
            "version": row.version or timestamp(row.date_added),
            "media_type": STIX_MEDIA_TYPE,
        }
        for row in page.rows
    ]
    audit.record_reads(actor=requester.actor, rows=page.rows, action="taxii.manifest_read")
    return page.respond("objects", records)


@taxii_view("GET", "POST")
def objects(
    request: HttpRequest, requester: Requester, root: str, collection_id: str
) -> HttpResponse:
    """Return a page of the matching objects (section 5.4) or add objects (section 5.5)."""
    _check_root(root)
    found = find_collection(collection_id, requester)
    if request.method == "POST":
        return _add(request, requester, found)
    page = paginate(match_filters(found.rows(requester.actor), request.GET), request)
    audit.record_reads(actor=requester.actor, rows=page.rows, action="taxii.objects_read")
    return page.respond("objects", [row.body for row in page.rows])


@taxii_view("GET")
def object_detail(
    request: HttpRequest, requester: Requester, root: str, collection_id: str, object_id: str
) -> HttpResponse:
    """Return the matching versions of one object (section 5.6); 404 when none is visible."""
    _check_root(root)
    rows = find_collection(collection_id, requester).rows(requester.actor)
    rows = rows.filter(stix_id=object_id)
    if not rows.exists():
        raise TaxiiError(404, _("Not found"), _("No such object in this collection."))
    page = paginate(match_filters(rows, request.GET), request)
    audit.record_reads(actor=requester.actor, rows=page.rows, action="taxii.object_read")
    return page.respond("objects", [row.body for row in page.rows])


@taxii_view("GET")
def object_versions(
    request: HttpRequest, requester: Requester, root: str, collection_id: str, object_id: str
) -> HttpResponse:
    """Return the versions of one object, oldest added first (section 5.8)."""
    _check_root(root)
    rows = find_collection(collection_id, requester).rows(requester.actor)
    rows = rows.filter(stix_id=object_id)
    if not rows.exists():
        raise TaxiiError(404, _("Not found"), _("No such object in this collection."))
    page = paginate(match_filters(rows, request.GET, versions=False), request)
    return page.respond(
        "versions", [row.version or timestamp(row.date_added) for row in page.rows]
    )


def _add(request: HttpRequest, requester: Requester, target: Collection) -> HttpResponse:
    require_write(request, requester)
    if not target.can_write(requester) or requester.actor is None:
        raise TaxiiError(403, _("Forbidden"), _("This collection does not accept objects."))
    check_content_type(request)
    too_large = TaxiiError(413, _("Request too large"), _("See max_content_length."))
    try:
        body = request.body
    except RequestDataTooBig:
        raise too_large from None
    if len(body) > max_content_length():
        raise too_large
    found = adding.add_objects(
        actor=requester.actor, collection=target, objects=adding.parse_envelope(body)
    )
    return taxii_response(adding.status_resource(found), status=202)


def _check_root(root: str) -> None:
    if root != API_ROOT:
        raise TaxiiError(404, _("Not found"), _("No such API root."))


def _uuid_or_none(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None
