"""STIX 2.1 mapping: TLP markings, values held by objects, export bundles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import stix2

from csirtnet.sharing import stix
from csirtnet.sharing.tlp import TLP
from tests.incidents.factories import IncidentFactory, ObservableFactory

TLP2 = stix.TLP2_MARKING_IDS


def test_tlp1_markings_map_to_tlp2_labels_white_becoming_clear():
    assert stix.object_tlp({"object_marking_refs": [stix2.TLP_WHITE.id]}) == TLP.CLEAR
    assert stix.object_tlp({"object_marking_refs": [stix2.TLP_GREEN.id]}) == TLP.GREEN
    assert stix.object_tlp({"object_marking_refs": [stix2.TLP_AMBER.id]}) == TLP.AMBER
    assert stix.object_tlp({"object_marking_refs": [stix2.TLP_RED.id]}) == TLP.RED


@pytest.mark.parametrize("label", list(TLP))
def test_tlp2_markings_map_to_their_label(label):
    assert stix.object_tlp({"object_marking_refs": [TLP2[label]]}) == label
    assert stix.marking_tlp(stix.tlp2_marking(label)) == label


def test_the_strictest_of_several_tlp_markings_wins():
    refs = [stix2.TLP_GREEN.id, TLP2[TLP.AMBER_STRICT], "marking-definition--" + "0" * 36]
    assert stix.object_tlp({"object_marking_refs": refs}) == TLP.AMBER_STRICT


def test_an_object_without_tlp_marking_has_no_label_of_its_own():
    assert stix.object_tlp({"type": "campaign"}) is None
    statement = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ec"
    assert stix.object_tlp({"object_marking_refs": [statement]}) is None


def test_a_tlp1_definition_under_another_id_is_a_tlp_marking():
    marking = {
        "type": "marking-definition",
        "id": "marking-definition--11111111-1111-4111-8111-111111111111",
        "definition_type": "tlp", "definition": {"tlp": "white"},
    }  # fmt: skip
    assert stix.marking_tlp(marking) == TLP.CLEAR
    other = {"type": "marking-definition", "definition_type": "statement", "definition": {}}
    assert stix.marking_tlp(other) is None


def test_equality_comparisons_of_a_pattern_become_normalized_values():
    indicator = {
        "type": "indicator",
        "pattern_type": "stix",
        "pattern": "[ipv4-addr:value = '198.51.100.7' OR domain-name:value = 'EVIL.Example.'] "
        "AND [file:hashes.'SHA-256' = '" + "AB" * 32 + "'] "
        "AND [url:value != 'http://not.example/'] AND [autonomous-system:number = 64496] "
        "AND [email-addr:value = 'x@bad'] AND [ipv4-addr:value = '203.0.113.0/24']",
    }
    assert sorted(stix.object_values(indicator)) == [
        ("asn", "64496"),
        ("cidr", "203.0.113.0/24"),
        ("domain", "evil.example"),
        ("ipv4", "198.51.100.7"),
        ("sha256", "ab" * 32),
    ]


def test_cyber_observables_give_their_value():
    assert stix.object_values({"type": "ipv6-addr", "value": "2001:DB8::0:1"}) == [
        ("ipv6", "2001:db8::1")
    ]
    assert stix.object_values({"type": "autonomous-system", "number": 15169}) == [("asn", "15169")]
    file_hashes = {"MD5": "A" * 32, "SHA-1": "b" * 40, "SHA-512": "c" * 128}
    assert stix.object_values({"type": "file", "hashes": file_hashes}) == [
        ("md5", "a" * 32),
        ("sha1", "b" * 40),
    ]
    assert stix.object_values({"type": "campaign", "name": "x"}) == []


def test_values_are_extracted_from_the_oasis_c2_indicator(samples_dir: Path):
    bundle = json.loads(
        (samples_dir / "stix21/oasis-examples/indicator-for-c2-ip-address.json").read_text()
    )
    assert stix.object_values(bundle["objects"][0]) == [("ipv4", "10.0.0.0")]


def test_an_unparsable_pattern_holds_no_values():
    assert stix.object_values({"type": "indicator", "pattern": "[ipv4-addr:value = "}) == []


def test_canonical_content_ignores_key_order_and_spacing():
    assert stix.content_sha256({"a": 1, "b": [1, 2]}) == stix.content_sha256({"b": [1, 2], "a": 1})
    assert stix.content_sha256({"a": 1}) != stix.content_sha256({"a": 2})


def test_tlp2_marking_objects_are_the_published_ones():
    marking = stix.tlp2_marking(TLP.AMBER_STRICT)
    assert marking["id"] == "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
    assert marking["name"] == "TLP:AMBER+STRICT"
    extension = marking["extensions"][stix.TLP2_EXTENSION_ID]
    assert extension == {"extension_type": "property-extension", "tlp_2_0": "amber+strict"}
    definition = stix.tlp2_extension_definition()
    stix2.parse(definition, allow_custom=True, version="2.1")
    stix2.parse(marking, allow_custom=True, version="2.1")


@pytest.mark.django_db
def test_incident_bundle_is_validator_clean_with_observables_as_indicators(owner):
    incident = IncidentFactory(owner=owner.organization, tlp=TLP.AMBER_STRICT, description="C2")
    values = [
        ("ipv4", "192.0.2.10"), ("ipv6", "2001:db8::1"), ("cidr", "198.51.100.0/24"),
        ("domain", "c2.example"), ("url", "http://c2.example/it's"), ("email", "a@c2.example"),
        ("md5", "a" * 32), ("sha1", "b" * 40), ("sha256", "c" * 64), ("asn", "64496"),
    ]  # fmt: skip
    for kind, value in values:
        ObservableFactory(incident=incident, type=kind, value=value)

    bundle = stix.incident_bundle(incident)

    assert stix.validation_errors(bundle) == []
    by_type: dict[str, list[dict]] = {}
    for obj in bundle["objects"]:
        by_type.setdefault(obj["type"], []).append(obj)
    assert [o["name"] for o in by_type["identity"]] == [owner.organization.name]
    (sdo,) = by_type["incident"]
    assert sdo["name"] == incident.title
    assert sdo["labels"] == ['rsit:malicious-code="c2-server"']
    assert sdo["object_marking_refs"] == [TLP2[TLP.AMBER_STRICT]]
    assert [m["id"] for m in by_type["marking-definition"]] == [TLP2[TLP.AMBER_STRICT]]
    assert by_type["extension-definition"][0]["id"] == stix.TLP2_EXTENSION_ID
    indicators = by_type["indicator"]
    assert len(indicators) == len(values)
    held = {pair for indicator in indicators for pair in stix.object_values(indicator)}
    assert held >= {pair for pair in values if pair[0] != "cidr"}
    verbs = sorted(r["relationship_type"] for r in by_type["relationship"])
    assert verbs == ["indicates"] * len(values) + ["related-to"] * len(values)
    for obj in bundle["objects"]:
        stix2.parse(obj, allow_custom=True, version="2.1")


@pytest.mark.django_db
def test_incident_bundle_ids_are_stable(owner):
    incident = IncidentFactory(owner=owner.organization)
    ObservableFactory(incident=incident)
    first = [o["id"] for o in stix.incident_bundle(incident)["objects"]]
    assert first == [o["id"] for o in stix.incident_bundle(incident)["objects"]]


def test_objects_bundle_adds_the_tlp2_markings_it_refers_to():
    body = {
        "type": "campaign", "spec_version": "2.1",
        "id": "campaign--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
        "created": "2016-05-12T08:17:27.000Z", "modified": "2016-05-12T08:17:27.000Z",
        "name": "x", "object_marking_refs": [TLP2[TLP.GREEN]],
    }  # fmt: skip
    bundle = stix.objects_bundle([body])
    assert [o["id"] for o in bundle["objects"]] == [
        stix.TLP2_EXTENSION_ID,
        TLP2[TLP.GREEN],
        body["id"],
    ]
    assert bundle["objects"][-1] == body
    assert stix.validation_errors(bundle) == []
