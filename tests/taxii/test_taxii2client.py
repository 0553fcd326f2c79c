"""The OASIS TAXII 2.1 client (taxii2-client) against the server over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from taxii2client.v21 import Collection, Server, as_pages

from csirtnet.sharing.models import StixObject
from csirtnet.sharing.tlp import TLP
from tests.api.client import token_for
from tests.taxii.client import NETWORK, PUBLIC
from tests.taxii.factories import indicator_body, row_for

pytestmark = pytest.mark.django_db(transaction=True)

TOTAL = 2500
PER_PAGE = 100


def _fill(owner, first: int, count: int, start: datetime) -> list[str]:
    """Store `count` GREEN indicators, ten to a date_added; return their ids."""
    rows = [
        row_for(
            indicator_body(number),
            owner=owner.organization,
            date_added=start + timedelta(milliseconds=(number - first) // 10),
        )
        for number in range(first, first + count)
    ]
    StixObject.objects.bulk_create(rows, batch_size=500)
    return [row.stix_id for row in rows]


def _network(live_server, membership) -> Collection:
    url = f"{live_server.url}/taxii2/csirtnet/collections/{NETWORK}/"
    return Collection(url, user="taxii", password=token_for(membership))


def test_discovery_and_collections_through_the_client(live_server, owner):
    server = Server(f"{live_server.url}/taxii2/", user="taxii", password=token_for(owner))
    assert server.default.url == f"{live_server.url}/taxii2/csirtnet/"
    aliases = {c.alias: (c.can_read, c.can_write) for c in server.default.collections}
    assert aliases == {"network": (True, True), "addressed": (True, True), "public": (True, False)}


def test_client_pages_2500_objects_sharing_date_added_once_each(live_server, owner):
    stored = _fill(owner, 0, TOTAL, datetime(2026, 4, 1, tzinfo=UTC))
    collection = _network(live_server, owner)
    seen = [
        obj["id"]
        for envelope in as_pages(collection.get_objects, per_request=PER_PAGE)
        for obj in envelope.get("objects", [])
    ]
    assert len(seen) == TOTAL
    assert seen == stored


def test_client_pages_while_objects_are_added_without_skip_or_repeat(live_server, owner):
    start = datetime(2026, 4, 1, tzinfo=UTC)
    stored = _fill(owner, 0, 1000, start)
    collection = _network(live_server, owner)
    seen: list[str] = []
    for page, envelope in enumerate(as_pages(collection.get_objects, per_request=PER_PAGE)):
        seen += [obj["id"] for obj in envelope.get("objects", [])]
        if page < 3:  # new objects added now, as the clock goes on, between the pages
            stored += _fill(owner, 1000 + page * 50, 50, datetime.now(UTC))
    assert len(seen) == len(set(seen)) == 1150
    assert set(seen) == set(stored)


def test_client_reads_manifest_and_versions(live_server, owner):
    _fill(owner, 0, 250, datetime(2026, 4, 1, tzinfo=UTC))
    collection = _network(live_server, owner)
    records = [
        record
        for envelope in as_pages(collection.get_manifest, per_request=PER_PAGE)
        for record in envelope["objects"]
    ]
    assert len({record["id"] for record in records}) == 250
    versions = collection.object_versions(records[0]["id"])
    assert versions["versions"] == [records[0]["version"]]


def test_client_adds_objects_and_reads_them_back(live_server, owner):
    collection = _network(live_server, owner)
    green = {
        **indicator_body(1),
        "object_marking_refs": ["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"],
    }
    status = collection.add_objects({"objects": [green]})
    assert (status.status, status.success_count, status.failure_count) == ("complete", 1, 0)
    assert collection.get_object(green["id"])["objects"] == [green]


def test_anonymous_client_reads_the_public_collection(live_server, owner):
    _fill(owner, 0, 3, datetime(2026, 4, 1, tzinfo=UTC))
    StixObject.objects.filter(stix_id=indicator_body(0)["id"]).update(tlp=TLP.CLEAR)
    public = Collection(f"{live_server.url}/taxii2/csirtnet/collections/{PUBLIC}/")
    assert [o["id"] for o in public.get_objects()["objects"]] == [indicator_body(0)["id"]]
