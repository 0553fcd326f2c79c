"""
The collections of the TAXII 2.1 server, one per sharing scope, and the rows each
shows to an actor, always through `StixObject.objects.visible_to` (STYLE §5).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from csirtnet.accounts.models import Membership
from csirtnet.core.text import CONTROL_RE
from csirtnet.sharing.models import StixObject
from csirtnet.sharing.tlp import TLP
from csirtnet.taxii.auth import Requester
from csirtnet.taxii.envelopes import STIX_MEDIA_TYPE, TaxiiError, parse_timestamp


@dataclass(frozen=True)
class Collection:
    """
    A TAXII 2.1 collection (section 5.2.1): a fixed id, the TLP labels it holds, and
    whether anonymous clients may read it and members may add objects to it.
    """

    id: uuid.UUID
    slug: str
    title: str
    description: str
    labels: tuple[TLP, ...]
    is_public: bool
    is_writable: bool

    def can_read(self, requester: Requester) -> bool:
        """Return whether `requester` may read the objects (section 5.2.1, can_read)."""
        return self.is_public or not requester.is_anonymous

    def can_write(self, requester: Requester) -> bool:
        """Return whether `requester` may add objects (section 5.2.1, can_write)."""
        return self.is_writable and requester.can_write

    def resource(self, requester: Requester) -> dict[str, Any]:
        """Return the collection resource (section 5.2.1)."""
        return {
            "id": str(self.id),
            "title": self.title,
            "description": self.description,
            "alias": self.slug,
            "can_read": self.can_read(requester),
            "can_write": self.can_write(requester),
            "media_types": [STIX_MEDIA_TYPE],
        }

    def rows(self, actor: Membership | None) -> QuerySet[StixObject]:
        """
        Return the rows of this collection that `actor` may see (TLP 2.0), one per object
        version: when several organizations hold a copy of the same `(id, version)` (each
        imported one public bundle), the first stored copy the actor sees stands for all,
        since a collection lists each object version once (its manifest, TAXII 2.1 5.3).
        """
        visible = StixObject.objects.visible_to(actor).filter(tlp__in=self.labels)
        first_copy = visible.filter(stix_id=OuterRef("stix_id"), version=OuterRef("version"))
        return visible.filter(pk=Subquery(first_copy.order_by("pk").values("pk")[:1]))


def collections() -> list[Collection]:
    """Return the collections of the API root, in the order they are listed."""
    return [
        Collection(
            id=uuid.UUID("5a2b9f1c-6a43-4d2e-9b1f-2f9d6c1e0a01"),
            slug="network",
            title=_("Network"),
            description=_("Objects labelled TLP:CLEAR or TLP:GREEN, for every member."),
            labels=(TLP.CLEAR, TLP.GREEN),
            is_public=False,
            is_writable=True,
        ),
        Collection(
            id=uuid.UUID("5a2b9f1c-6a43-4d2e-9b1f-2f9d6c1e0a02"),
            slug="addressed",
            title=_("Addressed"),
            description=_(
                "Objects labelled TLP:AMBER, TLP:AMBER+STRICT or TLP:RED that your "
                "organization owns or was addressed, or that name you (TLP:RED)."
            ),
            labels=(TLP.AMBER, TLP.AMBER_STRICT, TLP.RED),
            is_public=False,
            is_writable=True,
        ),
        Collection(
            id=uuid.UUID("5a2b9f1c-6a43-4d2e-9b1f-2f9d6c1e0a03"),
            slug="public",
            title=_("Public"),
            description=_("Objects labelled TLP:CLEAR; readable without a token."),
            labels=(TLP.CLEAR,),
            is_public=True,
            is_writable=False,
        ),
    ]


def find_collection(collection_id: str, requester: Requester) -> Collection:
    """
    Return the collection `collection_id` (its id or alias) that `requester` may read.

    Raises:
        TaxiiError: 404 for an unknown collection; 401 for an anonymous client on a
            collection that is not public.
    """
    for collection in collections():
        if collection_id in (str(collection.id), collection.slug):
            if not collection.can_read(requester):
                raise TaxiiError(401, _("Unauthorized"), _("Send a valid API token."))
            return collection
    raise TaxiiError(404, _("Not found"), _("No such collection."))


def match_filters(
    rows: QuerySet[StixObject], params: Any, *, versions: bool = True
) -> QuerySet[StixObject]:
    """
    Apply `added_after`, `match[id]`, `match[type]`, `match[spec_version]` and, when
    `versions`, `match[version]` (default `last`) of the query `params` to `rows`
    (sections 3.4, 3.4.1, 3.4.2). Lists are comma-separated; values are ORed. Every
    `match[version]` timestamp is checked even where it selects nothing more (beside
    `all`) or is not applied (the versions endpoint, section 5.8).

    Raises:
        TaxiiError: 400 for an invalid timestamp or version.
    """
    if ids := _values(params, "match[id]"):
        rows = rows.filter(stix_id__in=ids)
    if types := _values(params, "match[type]"):
        rows = rows.filter(type__in=types)
    if spec_versions := _values(params, "match[spec_version]"):
        rows = rows.filter(spec_version__in=spec_versions)
    version_filter = _version_filter(rows, _values(params, "match[version]") or ["last"])
    if versions:
        rows = rows.filter(version_filter)
    if added_after := params.get("added_after"):
        rows = rows.filter(date_added__gt=parse_timestamp(added_after, name="added_after"))
    return rows


def _version_filter(rows: QuerySet[StixObject], wanted: list[str]) -> Q:
    """
    Select the versions `wanted` names among `rows`: first, last, all or timestamps.

    Raises:
        TaxiiError: 400 for a value that is none of these, even beside `all`.
    """
    moments = {
        value: parse_timestamp(value, name="match[version]")
        for value in wanted
        if value not in ("first", "last", "all")
    }
    if "all" in wanted:
        return Q()
    query = Q(pk__in=[])
    newest: list[Any] = [F("modified_at").desc(nulls_last=True), "-version", "-date_added", "-pk"]
    oldest: list[Any] = [F("modified_at").asc(nulls_first=True), "version", "date_added", "pk"]
    for value in wanted:
        if value in ("first", "last"):
            same_object = rows.filter(stix_id=OuterRef("stix_id"))
            order = oldest if value == "first" else newest
            query |= Q(pk=Subquery(same_object.order_by(*order).values("pk")[:1]))
        else:
            query |= Q(modified_at=moments[value]) | Q(modified_at__isnull=True, version=value)
    return query


def _values(params: Any, name: str) -> list[str]:
    """
    Return the comma-separated values of `name`.

    Raises:
        TaxiiError: 400 when a value holds a control character (NUL included): no id,
            type or version has one.
    """
    values = [value.strip() for value in params.get(name, "").split(",") if value.strip()]
    if any(CONTROL_RE.search(value) for value in values):
        raise TaxiiError(
            400, _("Invalid parameter"), _("%(name)s holds a control character.") % {"name": name}
        )
    return values
