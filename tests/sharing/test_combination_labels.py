"""
A combination carries the strictest label of its parts (DESIGN.md's TLP rule): at import,
a grouping, report, relationship or sighting is labelled at least as strictly as the
objects it refers to, in the same import or already stored, and the report says so.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from csirtnet.sharing.models import StixObject
from csirtnet.sharing.services import import_misp, import_stix
from csirtnet.sharing.services.sightings import record_sighting
from csirtnet.sharing.tlp import TLP
from tests.api.client import token_for
from tests.taxii.client import ADDRESSED, NETWORK, PUBLIC, Taxii, collection_url

pytestmark = pytest.mark.django_db

MISP_SAMPLE = "misp/pymisp/57c4445b-c548-4654-af0b-4be3950d210f.json"  # tlp:white, 9 attributes
EVENT_GROUPING = "grouping--57c4445b-c548-4654-af0b-4be3950d210f"
RED_ATTRIBUTE = "57c4448b-454c-4d17-90d1-4d2f950d210f"  # the md5, to_ids: an indicator
RED_INDICATOR = f"indicator--{RED_ATTRIBUTE}"
RELATIONSHIP_SAMPLE = "stix21/oasis-examples/indicator-to-campaign-relationship.json"
CAMPAIGN = "campaign--b549a58c-afd9-4847-85c3-5be13d56d3cc"
INDICATOR = "indicator--c43a0a05-e8d2-4f64-ae37-3f3fb153f8d9"
RELATIONSHIP = "relationship--eca24e47-2259-4850-9705-fd1065c77236"


def _raised(label: str, own: str, *refs: str) -> str:
    return (
        f"Labelled {label}, not {own}: the strictest of the objects it refers to "
        f"({', '.join(refs)})."
    )


def _clear_event_with_a_red_attribute(samples_dir: Any) -> bytes:
    document = json.loads((samples_dir / MISP_SAMPLE).read_bytes())
    for attribute in document["Event"]["Attribute"]:
        if attribute["uuid"] == RED_ATTRIBUTE:
            attribute["Tag"] = [{"name": "tlp:red"}]
    return json.dumps(document).encode()


def _listed(taxii: Taxii, collection: str) -> set[str]:
    answer = taxii.get(collection_url(collection, "objects/"), {"limit": 1000})
    assert answer.status_code == 200
    return {obj["id"] for obj in answer.json().get("objects", [])}


def test_a_clear_misp_event_with_a_red_attribute_is_a_red_grouping(owner, outsider, samples_dir):
    report = import_misp(
        actor=owner, data=_clear_event_with_a_red_attribute(samples_dir), source="event.json"
    )

    labels = dict(StixObject.objects.values_list("stix_id", "tlp"))
    clear = {stix_id for stix_id, label in labels.items() if label == TLP.CLEAR}
    assert (report.stored_count, len(labels), len(clear)) == (10, 10, 8)
    assert {stix_id: labels[stix_id] for stix_id in labels.keys() - clear} == {
        EVENT_GROUPING: TLP.RED,
        RED_INDICATOR: TLP.RED,
    }
    reasons = {outcome.stix_id: outcome.reason for outcome in report.outcomes}
    assert reasons[EVENT_GROUPING] == _raised("TLP:RED", "TLP:CLEAR", RED_INDICATOR)
    assert {reasons[stix_id] for stix_id in reasons.keys() - {EVENT_GROUPING}} == {""}
    body = StixObject.objects.get(stix_id=EVENT_GROUPING).body
    assert RED_INDICATOR in body["object_refs"]  # the body is kept as received

    assert _listed(Taxii(), PUBLIC) == clear
    mx = Taxii(token_for(outsider))
    assert (_listed(mx, PUBLIC), _listed(mx, NETWORK), _listed(mx, ADDRESSED)) == (
        clear,
        clear,
        set(),
    )
    for hidden in (EVENT_GROUPING, RED_INDICATOR):
        for taxii in (Taxii(), mx):
            url = collection_url(PUBLIC, f"objects/{hidden}/")
            assert taxii.get(url).status_code == 404
        assert mx.get(collection_url(ADDRESSED, f"objects/{hidden}/")).status_code == 404
    assert _listed(Taxii(token_for(owner)), ADDRESSED) == {EVENT_GROUPING, RED_INDICATOR}


def test_a_red_attribute_of_a_misp_object_raises_its_grouping_and_the_event(owner):
    red = {"uuid": "2f1e0d9c-8b7a-4c6d-9e5f-4a3b2c1d0e9f", "type": "domain",
           "category": "Network activity", "value": "red.example.org", "to_ids": True,
           "object_relation": "domain", "Tag": [{"name": "tlp:red"}]}  # fmt: skip
    clear = {**red, "uuid": "3a2b1c0d-9e8f-4a7b-8c6d-5e4f3a2b1c0d", "value": "clear.example.org",
             "object_relation": "ip", "type": "hostname", "Tag": []}  # fmt: skip
    event = {"Event": {
        "uuid": "4b3c2d1e-0f9a-4b8c-9d7e-6f5a4b3c2d1e", "info": "Nested", "date": "2026-01-01",
        "timestamp": "1767225600", "Tag": [{"name": "tlp:clear"}],
        "Object": [{"uuid": "5c4d3e2f-1a0b-4c9d-8e7f-6a5b4c3d2e1f", "name": "domain-ip",
                    "timestamp": "1767225600", "Attribute": [red, clear]}],
    }}  # fmt: skip

    report = import_misp(actor=owner, data=json.dumps(event).encode(), source="x")

    red_indicator = f"indicator--{red['uuid']}"
    object_grouping = "grouping--5c4d3e2f-1a0b-4c9d-8e7f-6a5b4c3d2e1f"
    event_grouping = "grouping--4b3c2d1e-0f9a-4b8c-9d7e-6f5a4b3c2d1e"
    assert dict(StixObject.objects.values_list("stix_id", "tlp")) == {
        red_indicator: TLP.RED,
        f"indicator--{clear['uuid']}": TLP.CLEAR,
        object_grouping: TLP.RED,
        event_grouping: TLP.RED,
    }
    assert [(o.stix_id, o.reason) for o in report.outcomes if o.reason] == [
        (object_grouping, _raised("TLP:RED", "TLP:CLEAR", red_indicator)),
        (event_grouping, _raised("TLP:RED", "TLP:CLEAR", object_grouping)),
    ]


def test_a_relationship_to_an_object_stored_red_is_red(owner, samples_dir):
    data = (samples_dir / RELATIONSHIP_SAMPLE).read_bytes()
    campaign = next(o for o in json.loads(data)["objects"] if o["id"] == CAMPAIGN)
    import_stix(actor=owner, data=json.dumps(campaign).encode(), source="first", tlp="red")

    report = import_stix(actor=owner, data=data, source="second", tlp="green")

    assert [(o.stix_id, o.status, o.reason) for o in report.outcomes] == [
        (CAMPAIGN, "unchanged", ""),
        (INDICATOR, "stored", ""),
        (RELATIONSHIP, "stored", _raised("TLP:RED", "TLP:GREEN", CAMPAIGN)),
    ]
    assert dict(StixObject.objects.values_list("stix_id", "tlp")) == {
        CAMPAIGN: TLP.RED,
        INDICATOR: TLP.GREEN,
        RELATIONSHIP: TLP.RED,
    }


def test_a_bundle_whose_parts_are_all_green_stays_green(owner, samples_dir):
    data = (samples_dir / RELATIONSHIP_SAMPLE).read_bytes()

    report = import_stix(actor=owner, data=data, source="x", tlp="green")

    assert [(o.stix_id, o.status, o.reason) for o in report.outcomes] == [
        (CAMPAIGN, "stored", ""),
        (INDICATOR, "stored", ""),
        (RELATIONSHIP, "stored", ""),
    ]
    assert dict(StixObject.objects.values_list("stix_id", "tlp")) == {
        CAMPAIGN: TLP.GREEN,
        INDICATOR: TLP.GREEN,
        RELATIONSHIP: TLP.GREEN,
    }


def test_an_object_hidden_from_the_importer_or_unknown_changes_nothing(
    owner, outsider, samples_dir
):
    data = (samples_dir / RELATIONSHIP_SAMPLE).read_bytes()
    objects = json.loads(data)["objects"]
    import_stix(actor=outsider, data=json.dumps(objects[0]).encode(), source="x", tlp="red")

    bundle = {**json.loads(data), "objects": objects[1:]}  # not the campaign: CERT-MX's

    report = import_stix(actor=owner, data=json.dumps(bundle).encode(), source="x", tlp="clear")

    assert [(o.stix_id, o.reason) for o in report.outcomes] == [
        (INDICATOR, ""),
        (RELATIONSHIP, ""),
    ]
    rows = StixObject.objects.filter(owner=owner.organization)
    assert dict(rows.values_list("stix_id", "tlp")) == {
        INDICATOR: TLP.CLEAR,
        RELATIONSHIP: TLP.CLEAR,
    }


def test_an_imported_sighting_is_never_looser_than_the_sighted_object(owner, recipient):
    indicator = {"type": "indicator", "spec_version": "2.1",
                 "id": "indicator--6d5e4f3a-2b1c-4d0e-9f8a-7b6c5d4e3f2a",
                 "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
                 "pattern": "[ipv4-addr:value = '203.0.113.5']", "pattern_type": "stix",
                 "valid_from": "2026-01-01T00:00:00Z"}  # fmt: skip
    import_stix(actor=owner, data=json.dumps(indicator).encode(), source="x", tlp="amber")
    sighted = StixObject.objects.get(stix_id=indicator["id"])
    sighted.recipient_organizations.add(recipient.organization)
    recorded = record_sighting(actor=recipient, sighted=sighted, tlp="green")
    imported = {**recorded.body, "id": "sighting--7e6f5a4b-3c2d-4e1f-8a9b-0c1d2e3f4a5b"}
    imported.pop("object_marking_refs")

    report = import_stix(actor=recipient, data=json.dumps(imported).encode(), source="x",
                         tlp="green")  # fmt: skip

    assert recorded.tlp == TLP.AMBER
    assert report.outcomes[0].reason == _raised("TLP:AMBER", "TLP:GREEN", indicator["id"])
    assert StixObject.objects.get(stix_id=imported["id"]).tlp == TLP.AMBER
