"""`taxii_pull.pull` against this project's own TAXII 2.1 server on a live server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from csirtnet.sharing.models import StixObject
from csirtnet.sharing.taxii_pull import PullError, pull, subscribe
from tests.api.client import token_for
from tests.taxii.client import NETWORK
from tests.taxii.factories import indicator_body, row_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def lab(settings):  # type: ignore[no-untyped-def]
    settings.CSIRTNET_FETCH_ALLOW_HTTP = True
    settings.CSIRTNET_FETCH_ALLOWED_HOSTS = ["localhost", "127.0.0.1", "::1"]
    return settings


def _fill(membership, first: int, count: int) -> None:
    start = datetime(2026, 4, 1, tzinfo=UTC) + timedelta(days=first)
    StixObject.objects.bulk_create(
        row_for(indicator_body(n), owner=membership.organization, date_added=start)
        for n in range(first, first + count)
    )


def test_pull_pages_saves_the_position_and_then_finds_nothing_new(
    lab, live_server, owner, recipient
):
    _fill(recipient, 0, 25)
    subscription = subscribe(
        actor=owner, url=f"{live_server.url}/taxii2/csirtnet/", collection_id=NETWORK
    )
    token = token_for(owner)
    first = pull(actor=owner, subscription=subscription, token=token, per_request=10)
    assert first.page_count == 3
    assert (first.stored_count, first.unchanged_count) == (25, 0)  # the puller's own copies
    copies = StixObject.objects.filter(owner=owner.organization)
    assert copies.count() == 25
    assert set(copies.values_list("tlp", flat=True)) == {"amber"}  # unmarked input
    subscription.refresh_from_db()
    assert subscription.added_after.startswith("2026-04-01T00:00:00")
    assert subscription.last_error == ""
    again = pull(actor=owner, subscription=subscription, token=token, per_request=10)
    assert again.stored_count == 0
    _fill(recipient, 100, 5)
    later = pull(actor=owner, subscription=subscription, token=token, per_request=10)
    assert later.stored_count == 5
    assert copies.count() == 30


def test_pull_from_a_refused_address_fails_and_is_saved(settings, owner):
    settings.CSIRTNET_FETCH_ALLOWED_HOSTS = []
    subscription = subscribe(actor=owner, url="https://127.0.0.1/taxii2/r/", collection_id="c")
    with pytest.raises(PullError, match="Refused"):
        pull(actor=owner, subscription=subscription)
    subscription.refresh_from_db()
    assert subscription.last_error.startswith("Refused")
