"""Sightings recorded in the platform (STIX 2.1 section 5.5): service, API, page, visibility."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from csirtnet.sharing import stix
from csirtnet.sharing.correlation import correlate
from csirtnet.sharing.models import StixObject
from csirtnet.sharing.services import import_stix, record_sighting, sightings_of
from csirtnet.sharing.tlp import TLP
from tests.api.client import Api, token_for

pytestmark = pytest.mark.django_db

INDICATOR_ID = "indicator--5c9e8a0b-3f41-4d2c-8a6e-1b2c3d4e5f60"
ADDRESS = "198.51.100.23"


def _indicator(actor, tlp: str = "amber", **extra: object) -> StixObject:  # type: ignore[no-untyped-def]
    body = {
        "type": "indicator", "spec_version": "2.1", "id": INDICATOR_ID,
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
        "name": "Botnet C2", "pattern": f"[ipv4-addr:value = '{ADDRESS}']",
        "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z", **extra,
    }  # fmt: skip
    report = import_stix(actor=actor, data=json.dumps(body).encode(), source="t", tlp=tlp)
    assert report.stored_count == 1, report.outcomes
    return StixObject.objects.get(owner=actor.organization, stix_id=INDICATOR_ID)


def test_a_sighting_records_who_how_often_and_when_as_valid_stix(owner, recipient):
    indicator = _indicator(owner, tlp="green")
    first = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    last = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

    row = record_sighting(
        actor=recipient, sighted=indicator, count=42, first_seen_at=first, last_seen_at=last,
        note="Seen at the national exchange point",
    )  # fmt: skip

    body = row.body
    assert (row.type, row.owner, row.author) == (
        "sighting",
        recipient.organization,
        recipient.user,
    )
    assert body["sighting_of_ref"] == INDICATOR_ID
    assert body["count"] == 42
    assert (body["first_seen"], body["last_seen"]) == (
        "2026-03-01T08:00:00Z", "2026-03-02T09:30:00Z",
    )  # fmt: skip
    identity = f"identity--{recipient.organization.uuid}"
    assert body["where_sighted_refs"] == [identity] and body["created_by_ref"] == identity
    assert body["description"] == "Seen at the national exchange point"
    assert body["object_marking_refs"] == [stix.TLP2_MARKING_IDS[TLP.GREEN]]
    assert stix.validation_errors(stix.objects_bundle([body])) == []


def test_a_sighting_is_never_looser_than_what_was_seen_and_reaches_its_owner(
    owner, recipient, outsider
):
    indicator = _indicator(owner, tlp="amber")
    indicator.recipient_organizations.add(recipient.organization)

    row = record_sighting(actor=recipient, sighted=indicator, tlp="clear")

    assert row.tlp == TLP.AMBER
    assert list(row.recipient_organizations.all()) == [owner.organization]
    assert [s.pk for s in sightings_of(actor=owner, sighted=indicator)] == [row.pk]
    assert [s.pk for s in sightings_of(actor=recipient, sighted=indicator)] == [row.pk]
    assert sightings_of(actor=outsider, sighted=indicator) == []
    assert correlate(actor=owner, value=ADDRESS).sighting_count == 1
    assert correlate(actor=outsider, value=ADDRESS).sighting_count == 0


def test_nobody_sights_what_they_cannot_see(owner, outsider):
    indicator = _indicator(owner, tlp="amber")
    with pytest.raises(PermissionDenied):
        record_sighting(actor=outsider, sighted=indicator)
    assert not StixObject.objects.filter(type="sighting").exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"count": -1}, "count"),
        ({"count": 1_000_000_000}, "count"),
        ({"first_seen_at": datetime(2026, 3, 2, tzinfo=UTC),
          "last_seen_at": datetime(2026, 3, 1, tzinfo=UTC)}, "first_seen_at"),
        ({"last_seen_at": timezone.now() + timedelta(days=1)}, "last_seen_at"),
        ({"note": "bell\x07"}, "note"),
        ({"note": "\u202egnp.exe"}, "note"),
    ],
)  # fmt: skip
def test_bad_sightings_name_the_field_and_store_nothing(owner, fields, field):
    indicator = _indicator(owner, tlp="green")
    with pytest.raises(ValidationError) as caught:
        record_sighting(actor=owner, sighted=indicator, **fields)
    assert field in caught.value.message_dict
    assert not StixObject.objects.filter(type="sighting").exists()


def test_a_cyber_observable_cannot_be_sighted(owner):
    sco = {"type": "ipv4-addr", "spec_version": "2.1",
           "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "value": ADDRESS}  # fmt: skip
    import_stix(actor=owner, data=json.dumps(sco).encode(), source="t", tlp="green")
    row = StixObject.objects.get(type="ipv4-addr")
    with pytest.raises(ValidationError) as caught:
        record_sighting(actor=owner, sighted=row)
    assert "sighted" in caught.value.message_dict


def test_the_api_records_and_lists_sightings_within_the_tokens_visibility(
    owner, recipient, outsider
):
    indicator = _indicator(owner, tlp="amber")
    indicator.recipient_organizations.add(recipient.organization)
    payload = {"sighting_of": INDICATOR_ID, "count": 3, "first_seen": "2026-03-01T08:00:00Z",
               "last_seen": "2026-03-01T09:00:00Z", "note": "IXP"}  # fmt: skip

    made = Api(token_for(recipient)).post("/sightings", payload)

    assert made.status_code == 201, made.body
    assert made.body["count"] == 3 and made.body["tlp"] == "TLP:AMBER"
    assert made.body["owner"]["short_name"] == recipient.organization.short_name
    assert made.body["first_seen"] == "2026-03-01T08:00:00Z"
    listed = Api(token_for(owner)).get("/sightings", sighting_of=INDICATOR_ID)
    assert [s["id"] for s in listed.body] == [made.body["id"]]
    assert Api(token_for(outsider)).get("/sightings", sighting_of=INDICATOR_ID).body == []
    hidden = Api(token_for(outsider)).post("/sightings", payload)
    missing = Api(token_for(owner)).post(
        "/sightings", {**payload, "sighting_of": "indicator--00000000-0000-4000-8000-000000000000"}
    )
    assert (hidden.status_code, missing.status_code) == (404, 404)
    bad = Api(token_for(recipient)).post(
        "/sightings", {**payload, "last_seen": "2026-02-01T00:00:00Z"}
    )
    assert bad.status_code == 400 and "first" in bad.body["detail"].lower()
    assert Api(token_for(recipient, read_only=True)).post("/sightings", payload).status_code == 403


def test_the_object_page_lists_sightings_and_records_one(client, owner, recipient, outsider):
    indicator = _indicator(owner, tlp="green")
    client.force_login(recipient.user)
    url = reverse("sharing:object", args=[indicator.uuid])

    form = {"count": "7", "first_seen_at": "2026-03-01T08:00",
            "last_seen_at": "2026-03-01T10:00:00", "tlp": "", "note": "<b>x</b>"}  # fmt: skip
    answer = client.post(url, form)

    assert answer.status_code == 302
    sighting = StixObject.objects.get(type="sighting")
    assert sighting.body["count"] == 7 and sighting.body["first_seen"] == "2026-03-01T08:00:00Z"
    page = client.get(url).content.decode()
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    wrong = client.post(url, {"count": "-5"})
    assert wrong.status_code == 400
    client.force_login(outsider.user)
    assert client.get(url).status_code == 200  # GREEN: every member sees it
    amber = _indicator(outsider, tlp="amber")
    client.force_login(recipient.user)
    assert (
        client.post(reverse("sharing:object", args=[amber.uuid]), {"count": "1"}).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("first_seen", "words"),
    [("0001-01-01T00:00:00Z", "1970"), ("2026-01-01T00:00:00", "zone")],
)
def test_times_out_of_range_or_without_a_zone_are_400_not_500(owner, first_seen, words):
    _indicator(owner, tlp="green")
    answer = Api(token_for(owner)).post(
        "/sightings", {"sighting_of": INDICATOR_ID, "first_seen": first_seen}
    )
    assert answer.status_code == 400
    assert words in answer.body["detail"]
