"""Correlation: what holds a value, only within what the asking actor may see."""

from __future__ import annotations

import pytest
from django.test import override_settings

from csirtnet.incidents import services
from csirtnet.sharing.correlation import correlate
from csirtnet.sharing.models import StixObject, StixValue
from csirtnet.sharing.tlp import TLP

pytestmark = pytest.mark.django_db

ADDRESS = "190.210.0.1"
INDICATOR = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"


def _stix(owner, stix_id, body, *, tlp=TLP.AMBER, values=(), recipients=()):
    row = StixObject.objects.create(
        stix_id=stix_id, type=body["type"], version=body.get("modified", ""), body=body,
        content_sha256=stix_id[-64:].rjust(64, "0"), tlp=tlp, owner=owner.organization,
        author=owner.user,
    )  # fmt: skip
    for kind, value in values:
        StixValue.objects.create(stix_object=row, type=kind, value=value)
    row.recipient_organizations.set([r.organization for r in recipients])
    return row


def _indicator(owner, *, tlp=TLP.AMBER, recipients=()):
    body = {
        "type": "indicator", "spec_version": "2.1", "id": INDICATOR,
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
        "pattern": f"[ipv4-addr:value = '{ADDRESS}']", "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
    }  # fmt: skip
    return _stix(
        owner, INDICATOR, body, tlp=tlp, values=[("ipv4", ADDRESS)], recipients=recipients
    )


def _sighting(owner, *, tlp=TLP.AMBER):
    stix_id = "sighting--6b0e8e2f-0b1e-4a8a-9d1c-4b1b6b8f2c11"
    body = {
        "type": "sighting", "spec_version": "2.1", "id": stix_id,
        "created": "2026-01-02T00:00:00.000Z", "modified": "2026-01-02T00:00:00.000Z",
        "sighting_of_ref": INDICATOR, "count": 3,
    }  # fmt: skip
    return _stix(owner, stix_id, body, tlp=tlp)


def _incident(owner, *, tlp=TLP.AMBER):
    with override_settings(
        TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    ):
        return services.create_incident(
            actor=owner, title="C2", taxonomy_predicate="malicious-code",
            taxonomy_value="c2-server", severity=3, observables=[ADDRESS], tlp=tlp,
            affected_states=[],
        )  # fmt: skip


def test_owner_sees_every_holder_of_the_value(owner):
    incident = _incident(owner)
    indicator = _indicator(owner)
    sighting = _sighting(owner)
    found = correlate(actor=owner, value=" 190.210.0.1 ")
    assert (found.type, found.value) == ("ipv4", ADDRESS)
    assert found.incidents == [incident]
    assert found.stix_objects == [indicator]
    assert found.sightings == [sighting]
    assert (found.incident_count, found.stix_object_count, found.sighting_count) == (1, 1, 1)


def test_amber_holders_never_reach_another_organization(owner, recipient, outsider):
    _incident(owner)
    _indicator(owner, recipients=[recipient])
    _sighting(owner)
    for actor in (outsider, None):
        found = correlate(actor=actor, value=ADDRESS)
        assert (found.incidents, found.stix_objects, found.sightings) == ([], [], [])
    addressed = correlate(actor=recipient, value=ADDRESS)
    assert [row.stix_id for row in addressed.stix_objects] == [INDICATOR]
    assert addressed.incidents == []  # the incident addressed nobody in Argentina
    assert addressed.sightings == []  # the sighting was addressed to nobody


def test_green_holders_reach_every_member(owner, outsider):
    _indicator(owner, tlp=TLP.GREEN)
    _sighting(owner, tlp=TLP.GREEN)
    found = correlate(actor=outsider, value=ADDRESS)
    assert (found.stix_object_count, found.sighting_count) == (1, 1)


def test_a_value_written_another_way_is_the_same_value(owner):
    with override_settings(
        TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    ):
        services.create_incident(
            actor=owner, title="v6", taxonomy_predicate="malicious-code",
            taxonomy_value="c2-server", severity=3, observables=["2001:DB8::1", "Bücher.example"],
            affected_states=[],
        )  # fmt: skip
    assert correlate(actor=owner, value="2001:0db8:0000:0000::0001").incident_count == 1
    assert correlate(actor=owner, value="xn--bcher-kva.EXAMPLE.").incident_count == 1
    with pytest.raises(ValueError, match="not an observable"):
        correlate(actor=owner, value="no such thing")


def test_the_api_answers_within_the_tokens_visibility(owner, outsider):
    from tests.api.client import Api, token_for

    _incident(owner)
    _indicator(owner)
    mine = Api(token_for(owner)).get("/correlation", value=ADDRESS)
    assert mine.status_code == 200
    body = mine.json()
    assert (body["type"], body["value"], body["incident_count"]) == ("ipv4", ADDRESS, 1)
    assert [hit["id"] for hit in body["stix_objects"]] == [INDICATOR]
    theirs = Api(token_for(outsider)).get("/correlation", value=ADDRESS).json()
    assert (theirs["incident_count"], theirs["stix_object_count"]) == (0, 0)
    bad = Api(token_for(owner)).get("/correlation", value="no such thing")
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid")


def test_the_search_page_shows_hits_and_says_when_a_value_is_no_observable(
    client, owner, outsider
):
    incident = _incident(owner)
    client.force_login(owner.user)
    page = client.get("/sharing/search/", {"q": ADDRESS})
    assert page.status_code == 200
    assert incident.reference in page.content.decode()
    bad = client.get("/sharing/search/", {"q": "<script>x</script>"})
    assert bad.status_code == 400
    assert b"<script>x" not in bad.content
    client.force_login(outsider.user)
    assert (
        incident.reference not in client.get("/sharing/search/", {"q": ADDRESS}).content.decode()
    )
