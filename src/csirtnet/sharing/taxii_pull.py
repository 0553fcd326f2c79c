"""Pull a TAXII 2.1 collection of another server into sharing, page by page, resumably."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import requests
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from taxii2client.common import _HTTPConnection
from taxii2client.exceptions import InvalidJSONError, TAXIIServiceException
from taxii2client.v21 import Collection, as_pages

from csirtnet.core.http import FetchRefused, hardened_session
from csirtnet.sharing.models import TaxiiSubscription
from csirtnet.sharing.services import ImportReport, import_stix

if TYPE_CHECKING:
    from csirtnet.accounts.models import Membership

PER_REQUEST = 100
DATE_ADDED_LAST = "X-TAXII-Date-Added-Last"


class PullError(Exception):
    """A pull stopped: refused address, TLS, HTTP status, not TAXII 2.1, bad answer."""


@dataclass
class PullReport:
    """What one pull did: pages imported, per-object counts, the saved position."""

    subscription: TaxiiSubscription
    page_count: int = 0
    imports: list[ImportReport] = field(default_factory=list)

    def _sum(self, name: str) -> int:
        return sum(getattr(report, name) for report in self.imports)

    @property
    def stored_count(self) -> int:
        """Objects (versions) written."""
        return self._sum("stored_count")

    @property
    def unchanged_count(self) -> int:
        """Objects already stored with the same content."""
        return self._sum("unchanged_count")

    @property
    def rejected_count(self) -> int:
        """Objects that are not valid STIX 2.1."""
        return self._sum("rejected_count")

    @property
    def conflict_count(self) -> int:
        """Objects whose version is stored with other content."""
        return self._sum("conflict_count")


def subscribe(*, actor: Membership, url: str, collection_id: str) -> TaxiiSubscription:
    """Return the subscription of `actor`'s organization to the collection, made if new."""
    subscription, _created = TaxiiSubscription.objects.get_or_create(
        owner=actor.organization, url=url, collection_id=collection_id
    )
    return subscription


def pull(
    *,
    actor: Membership,
    subscription: TaxiiSubscription,
    token: str | None = None,
    username: str | None = None,
    password: str | None = None,
    tlp: str | None = None,
    per_request: int = PER_REQUEST,
) -> PullReport:
    """
    Fetch the objects of `subscription`'s collection added after its position (Get
    Objects, TAXII 2.1 section 5.3, paged with `limit`/`next`, sections 3.4 and 3.5)
    and import each page for `actor`'s organization (`services.import_stix`, `source`
    the collection URL, `tlp` for objects without a TLP marking). After each page the
    objects and the new position (the page's `X-TAXII-Date-Added-Last`) commit together,
    so a crash resumes after the last page stored. The request asks for objects added
    from one microsecond before the position, so objects sharing the last timestamp
    are not skipped: they come again and are `unchanged`. Authentication: `token`
    (Bearer), else `username` and `password` (HTTP Basic), else none. Every request
    goes through `core.http.hardened_session`.

    Raises:
        PullError: the pull stopped (the message says why); it is saved as
            `last_error`, pages stored before stay stored.
        PermissionDenied, ValidationError: from `import_stix`.
    """
    report = PullReport(subscription=subscription)
    last_header: dict[str, str] = {}

    def remember(response: Any, *args: Any, **kwargs: Any) -> None:
        last_header["value"] = response.headers.get(DATE_ADDED_LAST, "")

    try:
        collection = _collection(subscription.collection_url, token, username, password)
        collection._conn.session.hooks["response"].append(remember)
        pages = as_pages(
            collection.get_objects,
            per_request=per_request,
            added_after=_query_after(subscription.added_after),
        )
        for envelope in pages:
            _store_page(report, actor, envelope, last_header.get("value", ""), tlp)
    except (FetchRefused, requests.RequestException, TAXIIServiceException, ValueError) as exc:
        message = describe(exc)
        _finish(subscription, message)
        raise PullError(message) from exc
    _finish(subscription, "")
    return report


def _collection(url: str, token: str | None, username: str | None, password: str | None) -> Any:
    conn = _HTTPConnection(version="2.1")
    conn.session = hardened_session()
    if token:
        conn.session.headers["Authorization"] = f"Bearer {token}"
    elif username and password:
        conn.session.auth = requests.auth.HTTPBasicAuth(username, password)
    return Collection(url, conn=conn)


def _query_after(position: str) -> str | None:
    if not position:
        return None
    moment = datetime.fromisoformat(position.replace("Z", "+00:00")) - timedelta(microseconds=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _store_page(
    report: PullReport, actor: Membership, envelope: Any, position: str, tlp: str | None
) -> None:
    if not isinstance(envelope, dict) or not isinstance(envelope.get("objects", []), list):
        raise ValueError(_("The answer is not a TAXII 2.1 envelope."))
    subscription = report.subscription
    with transaction.atomic():
        objects = envelope.get("objects", [])
        if objects:
            bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}
            report.imports.append(
                import_stix(
                    actor=actor,
                    data=json.dumps(bundle).encode(),
                    source=subscription.collection_url[:300],
                    tlp=tlp,
                )
            )
        if position:
            subscription.added_after = position
            subscription.save(update_fields=["added_after"])
    report.page_count += 1


def _finish(subscription: TaxiiSubscription, error: str) -> None:
    subscription.last_pulled_at = timezone.now()
    subscription.last_error = error
    subscription.save(update_fields=["last_pulled_at", "last_error"])


def describe(exc: Exception) -> str:
    """Return a one-line reason for a failed fetch: refusal, TLS, HTTP status, not TAXII."""
    if isinstance(exc, FetchRefused):
        return _("Refused: %(reason)s") % {"reason": exc}
    if isinstance(exc, requests.exceptions.SSLError):
        return _("TLS error: %(reason)s") % {"reason": exc}
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return _("HTTP status %(status)d from %(url)s") % {
            "status": exc.response.status_code,
            "url": exc.response.url,
        }
    if isinstance(exc, TAXIIServiceException | InvalidJSONError | ValueError):
        return _("Not a TAXII 2.1 server: %(reason)s") % {"reason": str(exc).splitlines()[0]}
    return _("Connection failed: %(reason)s") % {"reason": exc}
