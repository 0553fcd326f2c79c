"""
TAXII 2.1 wire shapes: media types, JSON responses, error messages, timestamps and the
opaque pagination cursor (OASIS TAXII 2.1, sections 1.6.8, 3.2, 3.5, 3.6, 3.7).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from csirtnet.sharing.models import StixObject

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"  # section 1.6.8.1
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"  # section 1.6.8.2
DEFAULT_LIMIT = 100  # objects per page when the client gives no `limit` (section 3.4)
MAX_LIMIT = 1000  # a larger `limit` is lowered to this, as section 3.5 allows


class TaxiiError(Exception):
    """A failure answered as a TAXII error message (section 3.6.1)."""

    def __init__(self, http_status: int, title: str, description: str = "") -> None:
        super().__init__(title)
        self.http_status = http_status
        self.title = title
        self.description = description


def taxii_response(body: dict[str, Any], *, status: int = 200) -> HttpResponse:
    """Return `body` as JSON with the TAXII 2.1 media type (section 1.6.8.1)."""
    return HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type=TAXII_MEDIA_TYPE
    )


def error_response(error: TaxiiError) -> HttpResponse:
    """Return the error message resource of `error` (section 3.6.1)."""
    body: dict[str, Any] = {"title": error.title, "http_status": str(error.http_status)}
    if error.description:
        body["description"] = error.description
    response = taxii_response(body, status=error.http_status)
    if error.http_status == 401:  # RFC 9110, section 11.6.1
        response["WWW-Authenticate"] = 'Basic realm="csirtnet", Bearer realm="csirtnet"'
    return response


def max_content_length() -> int:
    """
    Return the largest add-objects request in bytes (section 4.2.1): Django's limit on
    request bodies, `DATA_UPLOAD_MAX_MEMORY_SIZE`, or 10 MiB when that limit is off.
    """
    limit: int | None = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return limit or 10 * 1024 * 1024


def check_accept(request: HttpRequest) -> None:
    """
    Refuse a request whose `Accept` header allows no TAXII 2.1 answer (section 1.6.8.1):
    `application/taxii+json;version=2.1`, `application/taxii+json` (the latest version,
    2.1 here) and wildcards are acceptable; no header means anything.

    Raises:
        TaxiiError: 406 otherwise.
    """
    header = request.headers.get("Accept", "").strip()
    if not header:
        return
    for item in header.split(","):
        media_type, *parameters = (part.strip().lower() for part in item.split(";"))
        params = dict(p.partition("=")[::2] for p in parameters if p)
        if params.get("q", "1").strip() in {"0", "0.0", "0.00", "0.000"}:
            continue
        if media_type in {"*/*", "application/*"}:
            return
        if media_type == "application/taxii+json" and params.get("version", "2.1") == "2.1":
            return
    raise TaxiiError(
        406,
        _("Not acceptable"),
        _("This server answers %(type)s.") % {"type": TAXII_MEDIA_TYPE},
    )


def check_content_type(request: HttpRequest) -> None:
    """
    Refuse a request body that is not `application/taxii+json;version=2.1` (section 5.5).

    Raises:
        TaxiiError: 415 otherwise.
    """
    media_type, *parameters = (
        part.strip().lower() for part in request.headers.get("Content-Type", "").split(";")
    )
    params = dict(p.partition("=")[::2] for p in parameters if p)
    if media_type != "application/taxii+json" or params.get("version") != "2.1":
        raise TaxiiError(
            415,
            _("Unsupported media type"),
            _("Send the envelope as %(type)s.") % {"type": TAXII_MEDIA_TYPE},
        )


def timestamp(value: datetime) -> str:
    """Return `value` as TAXII shows it: RFC 3339, UTC, microseconds (section 3.2)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(text: str, *, name: str) -> datetime:
    """
    Return the aware UTC datetime of an RFC 3339 timestamp with a zone (section 3.2).

    Raises:
        TaxiiError: 400 naming the parameter `name`.
    """
    try:
        value = datetime.fromisoformat(text.strip())
        if value.tzinfo is not None:
            return value.astimezone(UTC)
    except (ValueError, OverflowError):  # not a time, or outside years 1-9999 in UTC
        pass
    raise TaxiiError(
        400,
        _("Invalid parameter"),
        _("%(name)s must be an RFC 3339 timestamp, e.g. 2026-01-01T00:00:00.000000Z.")
        % {"name": name},
    )


def encode_cursor(row: StixObject) -> str:
    """Return the opaque `next` value after `row`: its (date_added, pk) (section 3.5)."""
    raw = f"{row.date_added.astimezone(UTC).isoformat()}|{row.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def after_cursor(cursor: str) -> Q:
    """
    Select the rows after `cursor` in (date_added, pk) order, so that rows sharing a
    date_added, and rows added while a client pages, are neither skipped nor repeated.

    Raises:
        TaxiiError: 400 when `cursor` was not made by `encode_cursor`.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        added, _sep, pk = raw.partition("|")
        date_added, row_pk = datetime.fromisoformat(added), int(pk)
        if date_added.tzinfo is None or not 0 < row_pk < 2**63:
            raise ValueError(raw)
        date_added = date_added.astimezone(UTC)
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise TaxiiError(400, _("Invalid parameter"), _("Unknown next value.")) from None
    return Q(date_added__gt=date_added) | Q(date_added=date_added, pk__gt=row_pk)


@dataclass
class Page:
    """One page of rows in (date_added, pk) order and the TAXII paging fields (section 3.5)."""

    rows: Sequence[StixObject]
    more: bool
    next: str

    def envelope(self, key: str, items: list[Any]) -> dict[str, Any]:
        """Return the resource `{key: items, "more": …, "next": …}`; `more`, `next` as needed."""
        body: dict[str, Any] = {"more": self.more}
        if self.more:
            body["next"] = self.next
        if items:
            body[key] = items
        return body

    def respond(self, key: str, items: list[Any]) -> HttpResponse:
        """Return the envelope with X-TAXII-Date-Added-First and -Last (section 3.5)."""
        response = taxii_response(self.envelope(key, items))
        if self.rows:
            response["X-TAXII-Date-Added-First"] = timestamp(self.rows[0].date_added)
            response["X-TAXII-Date-Added-Last"] = timestamp(self.rows[-1].date_added)
        return response


def paginate(rows: QuerySet[StixObject], request: HttpRequest) -> Page:
    """
    Return the page of `rows` that `limit` and `next` of `request` select (sections 3.3, 3.5).

    Raises:
        TaxiiError: 400 for a `limit` that is not a positive integer or an unknown `next`.
    """
    limit = _limit(request.GET.get("limit"))
    cursor = request.GET.get("next")
    if cursor:
        rows = rows.filter(after_cursor(cursor))
    found = list(rows.order_by("date_added", "pk")[: limit + 1])
    more = len(found) > limit
    found = found[:limit]
    return Page(rows=found, more=more, next=encode_cursor(found[-1]) if more else "")


def _limit(text: str | None) -> int:
    if text is None or text == "":
        return DEFAULT_LIMIT
    try:
        limit = int(text)
    except ValueError:
        limit = 0
    if limit < 1:
        raise TaxiiError(400, _("Invalid parameter"), _("limit must be a positive integer."))
    return min(limit, MAX_LIMIT)
