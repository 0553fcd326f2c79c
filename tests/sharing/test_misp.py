"""MISP import and export: events and feeds to STIX objects, incidents to MISP events."""

from __future__ import annotations

import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from pymisp import MISPEvent

from csirtnet.incidents.models import Incident
from csirtnet.sharing.correlation import correlate
from csirtnet.sharing.models import StixObject
from csirtnet.sharing.services import (
    export_incident_misp,
    export_misp_event,
    import_misp,
    import_misp_feed,
)
from csirtnet.sharing.tlp import TLP
from tests.incidents.factories import IncidentFactory, ObservableFactory

pytestmark = pytest.mark.django_db

EVENT_SAMPLES = [
    "misp/intelmq_misp_event.json",
    "misp/pymisp/57c4445b-c548-4654-af0b-4be3950d210f.json",
    "misp/pymisp/existing_event.json",
    "misp/pymisp/misp_event.json",
    "misp/pymisp/sighting_1.json",
    "misp-feed/56bf399d-c46c-4fdb-a9cf-d9bb02de0b81.json",
]
FRAGMENTS = {
    "misp/pymisp/galaxy.json": "galaxy",
    "misp/pymisp/sighting.json": "sighting",
    "misp/pymisp/sharing_groups.json": "sharing groups",
    "misp/pymisp/event_obj_attr_tag.json": "without their event",
}
EVENT_UUID = "4f1c7d0e-8a2b-4c3d-9e4f-5a6b7c8d9e0f"
DOMAIN_UUID = "0b7e6c2a-1d3f-4e5a-8b9c-0d1e2f3a4b5c"
DOMAIN = "c2.example.org"


def _expected_objects(path: Path) -> int:
    """One object per attribute, one grouping per MISP object with attributes, one event."""
    document = json.loads(path.read_bytes())
    event = document.get("Event", document)
    objects = [o for o in event.get("Object") or [] if o.get("Attribute")]
    return (
        len(event.get("Attribute") or [])
        + sum(len(o["Attribute"]) for o in objects)
        + (len(objects) + 1)
    )


def _event(*tags: str, attributes: list[dict] | None = None) -> bytes:
    attribute = {
        "uuid": DOMAIN_UUID, "type": "domain", "category": "Network activity",
        "value": DOMAIN, "to_ids": True, "timestamp": "1767225600",
    }  # fmt: skip
    return json.dumps({"Event": {
        "uuid": EVENT_UUID, "info": "C2 domain", "date": "2026-01-01",
        "timestamp": "1767225600", "threat_level_id": "2", "analysis": "1",
        "distribution": "1", "Attribute": attributes or [attribute],
        "Tag": [{"name": tag} for tag in tags],
    }}).encode()  # fmt: skip


@pytest.mark.parametrize("sample", EVENT_SAMPLES)
def test_every_sample_event_imports_and_reimports_unchanged(owner, samples_dir, sample):
    path = samples_dir / sample
    expected = _expected_objects(path)
    report = import_misp(actor=owner, data=path.read_bytes(), source=path.name)
    assert (report.stored_count, report.rejected_count, report.conflict_count) == (expected, 0, 0)
    event_uuid = json.loads(path.read_bytes()).get("Event", {}).get("uuid")
    if event_uuid:
        grouping = StixObject.objects.get(stix_id=f"grouping--{event_uuid}")
        assert grouping.body["x_misp_uuid"] == event_uuid
        assert "x_misp_threat_level_id" in grouping.body
    again = import_misp(actor=owner, data=path.read_bytes(), source=path.name)
    assert (again.unchanged_count, again.stored_count) == (expected, 0)


@pytest.mark.parametrize(("sample", "words"), FRAGMENTS.items())
def test_fragments_are_refused_by_name(owner, samples_dir, sample, words):
    with pytest.raises(ValidationError, match=f"{words}.*not a MISP event"):
        import_misp(actor=owner, data=(samples_dir / sample).read_bytes(), source="x")
    assert not StixObject.objects.exists()


def test_the_feed_folder_imports_and_a_missing_event_is_a_rejection(owner, samples_dir, tmp_path):
    feed = samples_dir / "misp-feed"
    event_file = next(p for p in feed.glob("*.json") if p.name != "manifest.json")
    report = import_misp_feed(actor=owner, folder=feed)
    assert (report.stored_count, report.rejected_count) == (_expected_objects(event_file), 0)
    assert StixObject.objects.get(type="grouping").tlp == TLP.CLEAR  # tlp:white
    copy = tmp_path / "feed"
    shutil.copytree(feed, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest[EVENT_UUID] = {"info": "gone"}
    (copy / "manifest.json").write_text(json.dumps(manifest))
    again = import_misp_feed(actor=owner, folder=copy)
    assert (again.unchanged_count, again.rejected_count) == (_expected_objects(event_file), 1)
    assert f"{EVENT_UUID}.json" in again.problems[0].reason


@pytest.mark.parametrize(
    ("tag", "tlp", "label"),
    [
        ("tlp:white", None, TLP.CLEAR),
        ("tlp:clear", None, TLP.CLEAR),
        ("tlp:green", None, TLP.GREEN),
        ("tlp:amber+strict", None, TLP.AMBER_STRICT),
        ("TLP:RED", None, TLP.RED),
        ("PAP:GREEN", None, TLP.AMBER),
        ("PAP:GREEN", "green", TLP.GREEN),
    ],
)
def test_tlp_tags_set_the_label(owner, tag, tlp, label):
    import_misp(actor=owner, data=_event(tag), source="x", tlp=tlp)
    rows = StixObject.objects.all()
    assert {row.tlp for row in rows} == {label}
    grouping = rows.get(type="grouping")
    assert tag in grouping.body["labels"]


def test_a_domain_to_ids_is_an_indicator_held_by_correlation(owner):
    import_misp(actor=owner, data=_event('rsit:malicious-code="c2-server"'), source="x")
    indicator = StixObject.objects.get(stix_id=f"indicator--{DOMAIN_UUID}")
    assert indicator.body["pattern"] == f"[domain-name:value = '{DOMAIN}']"
    assert correlate(actor=owner, value=DOMAIN).stix_objects == [indicator]


def test_an_amber_import_is_invisible_to_another_organization(owner, outsider):
    import_misp(actor=owner, data=_event("tlp:amber"), source="x")
    assert StixObject.objects.visible_to(owner).count() == 2
    assert not StixObject.objects.visible_to(outsider).exists()
    assert correlate(actor=outsider, value=DOMAIN).stix_objects == []


def test_a_bad_attribute_is_named_and_nothing_is_written(owner):
    bad = {"uuid": DOMAIN_UUID, "type": "AS", "category": "Network activity",
           "value": "not-a-number", "to_ids": True}  # fmt: skip
    with pytest.raises(ValidationError, match=f"{DOMAIN_UUID} \\(AS\\)"):
        import_misp(actor=owner, data=_event(attributes=[bad]), source="x")
    assert not StixObject.objects.exists()


def test_an_incident_round_trips_through_pymisp(owner, samples_dir):
    sample = samples_dir / EVENT_SAMPLES[1]
    import_misp(actor=owner, data=sample.read_bytes(), source=sample.name)
    incident = IncidentFactory(owner=owner.organization, tlp=TLP.AMBER_STRICT, pap="green")
    values = {
        "ipv4": "192.0.2.7", "domain": "c2.example.org", "url": "http://c2.example.org/a",
        "email": "bad@example.org", "md5": "0" * 32, "sha1": "1" * 40, "sha256": "2" * 64,
        "asn": "64496",
    }  # fmt: skip
    for kind, value in values.items():
        ObservableFactory(incident=incident, type=kind, value=value)
    exported = export_incident_misp(actor=owner, incident_reference=incident.reference)
    event = MISPEvent()
    event.load(json.dumps(exported))
    assert event.uuid == str(incident.uuid)
    assert event.info == incident.title
    assert sorted((a.type, a.value) for a in event.attributes) == sorted([
        ("ip-dst", "192.0.2.7"), ("domain", "c2.example.org"),
        ("url", "http://c2.example.org/a"), ("email-src", "bad@example.org"),
        ("md5", "0" * 32), ("sha1", "1" * 40), ("sha256", "2" * 64), ("AS", "64496"),
    ])  # fmt: skip
    assert all(a.to_ids for a in event.attributes)
    assert [t.name for t in event.tags] == [
        "tlp:amber+strict",
        "PAP:GREEN",
        'rsit:malicious-code="c2-server"',
    ]
    again = import_misp(actor=owner, data=json.dumps(exported).encode(), source="export")
    assert (again.stored_count, again.rejected_count) == (len(values) + 1, 0)
    assert StixObject.objects.get(stix_id=f"grouping--{incident.uuid}").tlp == TLP.AMBER_STRICT


def test_an_outsider_cannot_export_an_amber_incident_as_misp(owner, outsider):
    incident = IncidentFactory(owner=owner.organization, tlp=TLP.AMBER)
    with pytest.raises(Incident.DoesNotExist):
        export_incident_misp(actor=outsider, incident_reference=incident.reference)


def test_the_commands_import_misp_files_and_feeds_and_export_misp(owner, samples_dir):
    event, feed = samples_dir / EVENT_SAMPLES[1], samples_dir / "misp-feed"
    out = StringIO()
    call_command("import", str(event), str(feed), owner="CERTuy", stdout=out, stderr=StringIO())
    assert out.getvalue().splitlines() == [
        f"{event}: {_expected_objects(event)} stored, 0 unchanged, 0 rejected, 0 conflicts",
        f"{feed}: 2 stored, 0 unchanged, 0 rejected, 0 conflicts",
    ]
    incident = IncidentFactory(owner=owner.organization)
    ObservableFactory(incident=incident, value="192.0.2.9")
    out = StringIO()
    call_command("export", incident=incident.reference, format="misp", as_org="CERTuy", stdout=out)
    exported = json.loads(out.getvalue())
    assert exported["Event"]["Attribute"][0]["value"] == "192.0.2.9"


def _attribute_keys(event: MISPEvent) -> set[tuple]:
    """Every attribute of an event (its own and its objects'), as comparable tuples."""
    attributes = [(None, a) for a in event.attributes] + [
        (o.uuid, a) for o in event.objects for a in o.attributes
    ]
    return {
        (
            parent,
            a.uuid,
            a.type,
            a.category,
            str(a.value),
            bool(a.to_ids),
            a.comment or "",
            getattr(a, "object_relation", None),
            tuple(sorted(t.name for t in a.tags)),
        )  # fmt: skip
        for parent, a in attributes
    }


def _loaded(document: dict) -> MISPEvent:
    event = MISPEvent()
    event.load(document)
    return event


@pytest.mark.parametrize("sample", EVENT_SAMPLES)
def test_every_sample_event_round_trips_with_the_same_attributes(owner, samples_dir, sample):
    path = samples_dir / sample
    original = _loaded(json.loads(path.read_bytes()))
    import_misp(actor=owner, data=path.read_bytes(), source=sample, tlp="green")

    exported = export_misp_event(actor=owner, event_uuid=original.uuid)

    again = _loaded(exported)
    assert again.uuid == original.uuid
    assert again.info == original.info
    assert again.date == original.date
    assert sorted(t.name for t in again.tags) == sorted(t.name for t in original.tags)
    assert {o.uuid: o.name for o in again.objects} == {
        o.uuid: o.name for o in original.objects if o.attributes
    }
    assert _attribute_keys(again) == _attribute_keys(original)
    assert len(_attribute_keys(again)) == len(original.attributes) + sum(
        len(o.attributes) for o in original.objects
    )


def test_a_misp_event_exports_only_to_whom_may_see_it(owner, outsider):
    import_misp(actor=owner, data=_event("tlp:amber"), source="t")

    with pytest.raises(StixObject.DoesNotExist):
        export_misp_event(actor=outsider, event_uuid=EVENT_UUID)
    assert export_misp_event(actor=owner, event_uuid=EVENT_UUID)["Event"]["uuid"] == EVENT_UUID
