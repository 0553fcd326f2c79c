"""Importing STIX 2.1 files and exporting objects and incidents (services and commands)."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
import stix2
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from csirtnet.incidents.models import Incident
from csirtnet.sharing import stix
from csirtnet.sharing.models import StixObject, StixValue
from csirtnet.sharing.services import (
    export_incident_stix,
    export_objects,
    import_stix,
)
from csirtnet.sharing.tlp import TLP
from tests.incidents.factories import IncidentFactory, ObservableFactory

pytestmark = pytest.mark.django_db


C2 = "stix21/oasis-examples/indicator-for-c2-ip-address.json"
CAMPAIGN = {
    "type": "campaign", "spec_version": "2.1",
    "id": "campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
    "created": "2016-04-06T20:03:00.000Z", "modified": "2016-04-06T20:03:00.000Z",
    "name": "Green Group Attacks Against Finance",
}  # fmt: skip


def _objects(path: Path) -> list[dict]:
    document = json.loads(path.read_bytes())
    return document["objects"] if document["type"] == "bundle" else [document]


def _bundle(*objects: dict, **extra: object) -> bytes:
    return json.dumps(
        {"type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04982",
         "objects": list(objects), **extra}
    ).encode()  # fmt: skip


def _import(actor, data: bytes, **kwargs):  # type: ignore[no-untyped-def]
    return import_stix(actor=actor, data=data, source="test", **kwargs)


SAMPLE_FILES = [
    "misp-stix/test_attributes_collection_stix21.json",
    "misp-stix/test_event1_stix21.json",
    "oasis-examples/apt1.json",
    "oasis-examples/indicator-for-c2-ip-address.json",
    "oasis-examples/indicator-to-campaign-relationship.json",
    "oasis-examples/indicators-for-C2-with-COA.json",
    "oasis-examples/infrastructure.json",
    "oasis-examples/interop-objectmarking-test.json",
    "oasis-examples/malicious-email-indicator-with-attachment.json",
    "oasis-examples/poisonivy.json",
]


def test_the_sample_list_is_complete(samples_dir):
    found = sorted(
        str(p.relative_to(samples_dir / "stix21"))
        for p in (samples_dir / "stix21").glob("*/*.json")
    )
    assert found == SAMPLE_FILES


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_every_stix21_sample_imports_with_the_expected_counts(owner, samples_dir, name):
    path = samples_dir / "stix21" / name
    objects = _objects(path)
    expected = [o for o in objects if stix.marking_tlp(o) is None]
    report = _import(owner, path.read_bytes())
    assert report.stored_count == len(expected)
    assert report.marking_count == len(objects) - len(expected)
    assert (report.unchanged_count, report.rejected_count, report.conflict_count) == (0, 0, 0)
    assert StixObject.objects.count() == len(expected)


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_importing_twice_leaves_everything_unchanged(owner, samples_dir, name):
    data = (samples_dir / "stix21" / name).read_bytes()
    _import(owner, data)
    rows = StixObject.objects.count()
    report = _import(owner, data)
    assert report.unchanged_count == len(_objects(samples_dir / "stix21" / name))
    assert report.stored_count == 0
    assert StixObject.objects.count() == rows


def test_the_two_misp_samples_disagree_on_shared_object_versions(owner, samples_dir):
    first, second = (samples_dir / "stix21" / name for name in SAMPLE_FILES[:2])
    _import(owner, first.read_bytes())
    report = _import(owner, second.read_bytes())
    shared = {o["id"]: o for o in _objects(first)}
    expected_conflicts = [
        o["id"] for o in _objects(second)
        if o["id"] in shared
        and stix.object_version(o) == stix.object_version(shared[o["id"]])
        and o != shared[o["id"]]
    ]  # fmt: skip
    assert expected_conflicts
    assert sorted(p.stix_id for p in report.problems) == sorted(expected_conflicts)
    for stix_id in expected_conflicts:
        assert StixObject.objects.get(stix_id=stix_id).body == shared[stix_id]


def test_a_newer_modified_is_stored_as_a_new_version(owner):
    _import(owner, _bundle(CAMPAIGN))
    newer = {**CAMPAIGN, "modified": "2017-01-01T00:00:00.000Z", "name": "Renamed"}
    report = _import(owner, _bundle(newer))
    assert report.stored_count == 1
    versions = StixObject.objects.filter(stix_id=CAMPAIGN["id"]).order_by("modified_at")
    assert [row.body["name"] for row in versions] == [CAMPAIGN["name"], "Renamed"]


def test_same_modified_with_other_content_is_a_conflict_never_overwritten(owner):
    _import(owner, _bundle(CAMPAIGN))
    changed = {**CAMPAIGN, "name": "Tampered"}
    report = _import(owner, _bundle(changed))
    assert (report.conflict_count, report.stored_count) == (1, 0)
    assert CAMPAIGN["id"] in report.problems[0].reason
    assert StixObject.objects.get(stix_id=CAMPAIGN["id"]).body == CAMPAIGN


def test_stix20_is_rejected_as_a_whole(owner):
    old = {k: v for k, v in CAMPAIGN.items() if k != "spec_version"}
    with pytest.raises(ValidationError, match="STIX 2.0"):
        _import(owner, _bundle(old, spec_version="2.0"))
    with pytest.raises(ValidationError, match="STIX 2.0"):
        _import(owner, _bundle(old))
    assert not StixObject.objects.exists()


def test_stix1_xml_is_rejected_as_a_whole(owner):
    xml = (
        b'<?xml version="1.0"?>\n'
        b'<stix:STIX_Package xmlns:stix="http://stix.mitre.org/stix-1" version="1.2"/>'
    )
    with pytest.raises(ValidationError, match="STIX 1"):
        _import(owner, xml)


def test_bad_json_names_line_and_column(owner):
    with pytest.raises(ValidationError, match="line 2, column"):
        _import(owner, b'{"type": "bundle",\n "objects": [}')


def test_a_nul_byte_in_the_json_is_named_once_with_its_place(owner):
    # Python's message is "Invalid control character at": "at" is not doubled.
    with pytest.raises(ValidationError) as caught:
        _import(owner, b'{"type": "bundle", "id": "x\x00"}')
    assert caught.value.messages == [
        "Not valid JSON: Invalid control character at line 1, column 28."
    ]


def test_an_invalid_object_is_rejected_by_id_and_the_others_stored(owner):
    broken = {**CAMPAIGN, "id": "indicator--33fe3b22-0201-47cf-85d0-97c02164528d",
              "type": "indicator", "pattern": "[ipv4-addr:value = ", "pattern_type": "stix",
              "valid_from": "2014-05-08T09:00:00Z"}  # fmt: skip
    report = _import(owner, _bundle(CAMPAIGN, broken))
    assert (report.stored_count, report.rejected_count) == (1, 1)
    assert broken["id"] in report.problems[0].reason
    assert list(StixObject.objects.values_list("stix_id", flat=True)) == [CAMPAIGN["id"]]


def test_custom_properties_and_objects_are_kept_exactly(owner, samples_dir):
    # the MISP samples carry no x_misp_* property, so one is added as MISP writes them
    path = samples_dir / "stix21/misp-stix/test_event1_stix21.json"
    document = json.loads(path.read_bytes())
    indicator = next(o for o in document["objects"] if o["type"] == "indicator")
    indicator["x_misp_category"] = "Network activity"
    indicator["x_misp_comment"] = "Vérifié \u202e"
    custom_object = {
        "type": "x-misp-object", "spec_version": "2.1",
        "id": "x-misp-object--1cb1a3b5-2e7b-4c6e-9c8a-3a4a5a6a7a8a",
        "created": "2020-10-25T16:22:00.000Z", "modified": "2020-10-25T16:22:00.000Z",
        "x_misp_name": "bank-account", "x_misp_attributes": [{"type": "text", "value": "1"}],
    }  # fmt: skip
    document["objects"].append(custom_object)
    report = _import(owner, json.dumps(document).encode())
    assert report.stored_count == len(document["objects"])
    for obj in (indicator, custom_object):
        row = StixObject.objects.get(stix_id=obj["id"])
        assert json.dumps(row.body, sort_keys=True) == json.dumps(obj, sort_keys=True)
        assert row.content_sha256 == stix.content_sha256(obj)


def test_tlp_comes_from_markings_else_the_argument_else_amber(owner):
    def marked(suffix: str, refs: list[str]) -> dict:
        return {**CAMPAIGN, "id": CAMPAIGN["id"][:-2] + suffix, "object_marking_refs": refs}

    objects = [
        marked("01", [stix2.TLP_WHITE.id]),
        marked("02", [stix.TLP2_MARKING_IDS[TLP.AMBER_STRICT]]),
        marked("03", [stix2.TLP_GREEN.id, stix2.TLP_RED.id]),
        stix.tlp2_marking(TLP.AMBER_STRICT),
    ]
    report = _import(owner, _bundle(*objects))
    assert (report.stored_count, report.marking_count) == (3, 1)
    labels = dict(StixObject.objects.values_list("stix_id", "tlp"))
    assert [labels[o["id"]] for o in objects[:3]] == [TLP.CLEAR, TLP.AMBER_STRICT, TLP.RED]
    _import(owner, _bundle(CAMPAIGN))
    assert StixObject.objects.get(stix_id=CAMPAIGN["id"]).tlp == TLP.AMBER


def test_unmarked_objects_take_the_tlp_argument(owner):
    _import(owner, _bundle(CAMPAIGN), tlp="green")
    assert StixObject.objects.get(stix_id=CAMPAIGN["id"]).tlp == TLP.GREEN


def test_the_oasis_tlp_red_campaign_is_red(owner, samples_dir):
    path = samples_dir / "stix21/oasis-examples/interop-objectmarking-test.json"
    _import(owner, path.read_bytes(), tlp="clear")
    assert StixObject.objects.get().tlp == TLP.RED


def test_values_of_the_c2_indicator_are_stored(owner, samples_dir):
    _import(owner, (samples_dir / C2).read_bytes())
    values = StixValue.objects.values_list("stix_object__stix_id", "type", "value")
    assert list(values) == [
        ("indicator--33fe3b22-0201-47cf-85d0-97c02164528d", "ipv4", "10.0.0.0")
    ]


def test_owner_and_author_are_the_actor(owner, samples_dir):
    _import(owner, (samples_dir / C2).read_bytes())
    row = StixObject.objects.get()
    assert (row.owner, row.author, row.source) == (owner.organization, owner.user, "test")


def test_round_trip_exports_the_same_objects_validator_clean(owner, samples_dir):
    for name in ("oasis-examples/poisonivy.json", "misp-stix/test_event1_stix21.json"):
        path = samples_dir / "stix21" / name
        _import(owner, path.read_bytes())
        ids = [o["id"] for o in _objects(path)]
        bundle = export_objects(actor=owner, ids=ids)
        assert stix.validation_errors(bundle) == []
        exported = {o["id"]: o for o in bundle["objects"]}
        assert [exported[o["id"]] for o in _objects(path)] == _objects(path)


def test_export_objects_gives_the_latest_version_only(owner):
    _import(owner, _bundle(CAMPAIGN))
    newer = {**CAMPAIGN, "modified": "2017-01-01T00:00:00.000Z", "name": "Renamed"}
    _import(owner, _bundle(newer))
    bundle = export_objects(actor=owner)
    assert [o for o in bundle["objects"] if o["id"] == CAMPAIGN["id"]] == [newer]


def test_outsider_does_not_export_amber_objects_and_nobody_exports_red(owner, outsider):
    red = {**CAMPAIGN, "id": CAMPAIGN["id"][:-2] + "99", "object_marking_refs": [stix2.TLP_RED.id]}
    _import(owner, _bundle(CAMPAIGN, red))
    assert export_objects(actor=outsider)["objects"] == []
    assert [o["id"] for o in export_objects(actor=owner)["objects"]] == [CAMPAIGN["id"]]


def test_incident_export_has_its_observables_as_indicators(owner, recipient):
    incident = IncidentFactory(
        owner=owner.organization, recipient_organizations=[recipient.organization]
    )
    ObservableFactory(incident=incident, type="domain", value="c2.example")
    bundle = export_incident_stix(actor=recipient, incident_reference=incident.reference)
    assert stix.validation_errors(bundle) == []
    patterns = [o["pattern"] for o in bundle["objects"] if o["type"] == "indicator"]
    assert patterns == ["[domain-name:value = 'c2.example']"]


def test_outsider_cannot_export_an_amber_incident(owner, outsider):
    incident = IncidentFactory(owner=owner.organization, tlp=TLP.AMBER)
    with pytest.raises(Incident.DoesNotExist):
        export_incident_stix(actor=outsider, incident_reference=incident.reference)
    with pytest.raises(CommandError, match="No such incident"):
        call_command("export", incident=incident.reference, as_org="CERT-MX", stdout=StringIO())


def test_red_incident_is_never_exported_even_to_its_author(owner):
    incident = IncidentFactory(owner=owner.organization, tlp=TLP.RED, author=owner.user)
    with pytest.raises(Incident.DoesNotExist):
        export_incident_stix(actor=owner, incident_reference=incident.reference)


def test_export_command_writes_the_bundle(owner):
    incident = IncidentFactory(owner=owner.organization)
    out = StringIO()
    call_command("export", incident=incident.reference, format="stix", as_org="CERTuy", stdout=out)
    bundle = json.loads(out.getvalue())
    assert bundle["type"] == "bundle"
    assert stix.validation_errors(bundle) == []


def test_export_command_answers_no_such_incident_in_misp_too(owner):
    with pytest.raises(CommandError, match="No such incident"):
        call_command("export", incident="INC-1", format="misp", as_org="CERTuy")


def test_import_command_prints_the_summary_line(owner, samples_dir, tmp_path):
    bad = tmp_path / "bad.json"
    bundle_id = "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d"
    bad.write_text(json.dumps({"type": "bundle", "id": bundle_id, "objects": [
        CAMPAIGN, {**CAMPAIGN, "id": "campaign--not-a-uuid"}]}))  # fmt: skip
    out, err = StringIO(), StringIO()
    call_command(
        "import", str(samples_dir / C2), str(bad), owner="CERTuy", tlp="green",
        stdout=out, stderr=err,
    )  # fmt: skip
    assert out.getvalue().splitlines() == [
        f"{samples_dir / C2}: 1 stored, 0 unchanged, 0 rejected, 0 conflicts",
        f"{bad}: 1 stored, 0 unchanged, 1 rejected, 0 conflicts",
    ]
    assert "campaign--not-a-uuid" in err.getvalue()
    assert StixObject.objects.get(stix_id=CAMPAIGN["id"]).tlp == TLP.GREEN


def test_import_command_fails_on_bad_misp_and_unknown_files(owner, samples_dir, tmp_path):
    misp_event = tmp_path / "event.json"
    misp_event.write_text(json.dumps({"Event": {"info": "x", "Attribute": []}}))
    xml = tmp_path / "package.xml"
    xml.write_text('<stix:STIX_Package xmlns:stix="http://stix.mitre.org/stix-1"/>')
    err = StringIO()
    with pytest.raises(CommandError, match="2 files not imported"):
        call_command(
            "import", str(misp_event), str(xml), owner="CERTuy", stdout=StringIO(), stderr=err
        )
    assert "The MISP event has no valid" in err.getvalue()
    assert "STIX 1.x" in err.getvalue()


def test_import_command_needs_an_existing_owner(owner, samples_dir):
    with pytest.raises(CommandError, match="No organization"):
        call_command("import", str(samples_dir / C2), owner="NOPE")


def test_two_organizations_importing_one_bundle_each_get_their_own_copy(
    owner, outsider, samples_dir
):
    from csirtnet.sharing.services import import_stix

    data = (samples_dir / C2).read_bytes()
    mine = import_stix(actor=owner, data=data, source="test")
    theirs = import_stix(actor=outsider, data=data, source="test")
    assert (mine.stored_count, theirs.stored_count) == (1, 1)
    assert StixObject.objects.visible_to(outsider).filter(owner=outsider.organization).count() == 1
    assert not StixObject.objects.visible_to(outsider).filter(owner=owner.organization).exists()


def test_hostile_files_are_clear_errors_not_crashes(owner):
    deep = (
        b'{"type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04982", "x": '
        + (b"[" * 5000 + b"]" * 5000)
        + b"}"
    )
    with pytest.raises(ValidationError, match="nested too deeply"):
        _import(owner, deep)
    with pytest.raises(ValidationError, match="NaN is not a JSON value"):
        _import(owner, _bundle(CAMPAIGN).replace(b'"Green', b'NaN, "x": "Green'))
    assert not StixObject.objects.exists()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"id": None}, "type--UUID"),
        ({"id": "x-acme--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}, "type--UUID"),
        ({"modified": "2016-04-06T20:03:00.000Z" * 200}, "not a timestamp"),
        ({"modified": "0001-01-01T00:00:00+14:00"}, "not a timestamp"),
        ({"object_marking_refs": "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"},
         "not a list"),
        ({"description": "\ud800"}, "not valid Unicode"),
    ],
)  # fmt: skip
def test_unfit_objects_are_rejected_by_name_and_the_rest_stored(owner, change, reason):
    good = {**CAMPAIGN, "id": "campaign--11111111-2222-4333-8444-555555555555"}
    bad = {key: value for key, value in {**CAMPAIGN, **change}.items() if value is not None}
    report = _import(owner, json.dumps({
        "type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04982",
        "objects": [good, bad],
    }).encode("utf-8", "surrogatepass"))  # fmt: skip
    assert (report.stored_count, report.rejected_count) == (1, 1)
    assert reason in report.outcomes[1].reason


def test_a_granular_red_marking_makes_the_whole_object_red(owner):
    red = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
    marked = {**CAMPAIGN, "granular_markings": [{"marking_ref": red, "selectors": ["name"]}]}
    _import(owner, _bundle(marked), tlp="green")
    assert StixObject.objects.get(stix_id=CAMPAIGN["id"]).tlp == TLP.RED


# --- the JSON API: POST /api/v1/imports ------------------------------------------------------


def test_the_api_imports_a_stix_bundle_and_reports_each_object(owner, samples_dir):
    from tests.api.client import Api, token_for

    data = (samples_dir / "stix21/oasis-examples/indicator-for-c2-ip-address.json").read_bytes()
    api = Api(token_for(owner))

    first = api.post("/imports?tlp=TLP:GREEN&source=c2.json", json.loads(data))
    again = api.post("/imports", json.loads(data))

    assert first.status_code == 200, first.body
    assert first.body["format"] == "stix"
    stored = [o for o in first.body["outcomes"] if o["status"] == "stored"]
    assert first.body["stored_count"] == len(stored) > 0
    assert again.body["stored_count"] == 0
    assert again.body["unchanged_count"] == first.body["stored_count"]
    rows = StixObject.objects.filter(owner=owner.organization)
    assert set(rows.values_list("tlp", flat=True)) == {"green"}
    assert set(rows.values_list("source", flat=True)) == {"c2.json"}


def test_the_api_imports_a_misp_event(owner, samples_dir):
    from tests.api.client import Api, token_for

    data = (samples_dir / "misp/intelmq_misp_event.json").read_bytes()
    answer = Api(token_for(owner)).post("/imports", json.loads(data))
    assert answer.status_code == 200, answer.body
    assert answer.body["format"] == "misp" and answer.body["stored_count"] > 0


def test_the_api_keeps_valid_objects_and_names_the_rejected_ones(owner):
    from tests.api.client import Api, token_for

    good = {"type": "indicator", "spec_version": "2.1",
            "id": "indicator--0c6b4c1a-4f44-4e77-9d2c-5c5d0e6f7a8b",
            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
            "pattern": "[ipv4-addr:value = '203.0.113.9']", "pattern_type": "stix",
            "valid_from": "2026-01-01T00:00:00Z"}  # fmt: skip
    bad = {**good, "id": "indicator--1d7c5d2b-5a55-4f88-8e3d-6d6e1f7a8b9c", "pattern": "[nope"}
    bundle = {"type": "bundle", "id": "bundle--2e8d6e3c-6b66-4a99-9f4e-7e7f2a8b9cad",
              "objects": [good, bad]}  # fmt: skip

    answer = Api(token_for(owner)).post("/imports", bundle)

    assert answer.status_code == 200
    assert [(o["id"], o["status"]) for o in answer.body["outcomes"]] == [
        (good["id"], "stored"), (bad["id"], "rejected"),
    ]  # fmt: skip
    assert bad["id"] in answer.body["outcomes"][1]["reason"]
    assert StixObject.objects.filter(stix_id=good["id"]).count() == 1


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"type": "bundle", "id": "bundle--2e8d6e3c-6b66-4a99-9f4e-7e7f2a8b9cad", "objects": [',
         "line 1"),
        (b'{"type": "bundle", "spec_version": "2.0", '
         b'"id": "bundle--2e8d6e3c-6b66-4a99-9f4e-7e7f2a8b9cad", "objects": []}', "STIX 2.0"),
        (b"<stix:STIX_Package/>", "STIX 1.x"),
        (b"\xff\xfe{}", "UTF-8"),
    ],
)  # fmt: skip
def test_the_api_refuses_unreadable_documents_clearly(owner, body, words):
    from django.test import Client

    from tests.api.client import assert_matches_document, token_for

    answer = Client().post(
        "/api/v1/imports", data=body, content_type="application/json",
        headers={"Authorization": f"Bearer {token_for(owner)}"},
    )  # fmt: skip
    assert answer.status_code == 400
    assert words in assert_matches_document(answer)["detail"]
    assert not StixObject.objects.exists()


def test_the_api_import_needs_a_writing_token(owner):
    from tests.api.client import Api, token_for

    bundle = {
        "type": "bundle",
        "id": "bundle--2e8d6e3c-6b66-4a99-9f4e-7e7f2a8b9cad",
        "objects": [],
    }
    assert Api(token_for(owner, read_only=True)).post("/imports", bundle).status_code == 403
    assert Api().post("/imports", bundle).status_code == 401


def test_an_object_marked_only_by_a_statement_is_labelled_by_default_and_says_so(owner):
    statement = {"type": "marking-definition", "spec_version": "2.1",
                 "id": "marking-definition--3f3c5d8e-1a2b-4c3d-8e4f-5a6b7c8d9e0f",
                 "created": "2026-01-01T00:00:00.000Z", "definition_type": "statement",
                 "definition": {"statement": "Copyright 2026, Example"}}  # fmt: skip
    indicator = {"type": "indicator", "spec_version": "2.1",
                 "id": "indicator--4a4d6e9f-2b3c-4d4e-9f5a-6b7c8d9e0f1a",
                 "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
                 "pattern": "[ipv4-addr:value = '203.0.113.7']", "pattern_type": "stix",
                 "valid_from": "2026-01-01T00:00:00Z",
                 "object_marking_refs": [statement["id"]]}  # fmt: skip
    bundle = {"type": "bundle", "id": "bundle--5b5e7f0a-3c4d-4e5f-8a6b-7c8d9e0f1a2b",
              "objects": [statement, indicator]}  # fmt: skip

    report = import_stix(actor=owner, data=json.dumps(bundle).encode(), source="t")

    noted = report.outcomes[1]
    assert (noted.status, report.outcomes[0].status) == ("stored", "stored")
    assert statement["id"] in noted.reason and "TLP:AMBER" in noted.reason
    assert StixObject.objects.get(stix_id=indicator["id"]).tlp == TLP.AMBER
    assert report.outcomes[0].reason == ""


def test_a_deeply_nested_custom_property_is_stored_not_a_server_error(owner):
    deep: object = 1
    for _level in range(450):
        deep = [deep]
    obj = {"type": "indicator", "spec_version": "2.1",
           "id": "indicator--6c6f7a0b-4d5e-4f60-8a7b-9c0d1e2f3a4b",
           "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
           "pattern": "[ipv4-addr:value = '203.0.113.8']", "pattern_type": "stix",
           "valid_from": "2026-01-01T00:00:00Z", "x_deep": deep}  # fmt: skip
    report = import_stix(actor=owner, data=json.dumps(obj).encode(), source="t")
    assert report.stored_count + report.rejected_count == 1
