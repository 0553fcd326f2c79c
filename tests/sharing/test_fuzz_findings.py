"""
Inputs that fuzzing (`fuzz/`, and the same inputs tried on PostgreSQL) found to crash
sharing's importers and API, kept as regression tests: each is now imported, rejected
by name or refused with a 400, never a server error.
"""

from __future__ import annotations

import contextlib
import json
import uuid

import pytest
from django.core.exceptions import ValidationError

from csirtnet.sharing import services
from tests.api.client import token_for

pytestmark = pytest.mark.django_db


EVENT_UUID = "5758ebf5-c898-48e6-9fe9-5665c0a83866"
ATTRIBUTE = {
    "uuid": "575c8598-f1f0-4c16-a94a-0612c0a83866", "type": "url", "category": "Payload delivery",
    "value": "http://fake.website.com/malware/is/here", "to_ids": False, "timestamp": "1465681304",
}  # fmt: skip


def test_misp_event_without_a_date_is_imported_or_refused_cleanly(owner):
    event = {"uuid": EVENT_UUID, "info": "A Random Event", "Attribute": [ATTRIBUTE]}
    data = json.dumps({"Event": event}).encode()
    try:
        report = services.import_misp(actor=owner, data=data, source="fuzz")
    except ValidationError:
        return
    assert report.stored_count >= 1


def _indicator(name: str) -> dict[str, str]:
    return {
        "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
        "name": name, "pattern_type": "stix", "pattern": "[ipv4-addr:value = '200.7.84.65']",
        "valid_from": "2026-01-01T00:00:00Z",
    }  # fmt: skip


def test_stix_object_with_a_nul_is_stored_or_rejected_cleanly(owner):
    data = json.dumps(_indicator("C2\x00 server")).encode()
    report = services.import_stix(actor=owner, data=data, source="fuzz")
    assert report.rejected_count == 1
    assert "NUL" in report.outcomes[0].reason


def test_misp_event_with_a_nul_is_stored_or_refused_cleanly(owner):
    attribute = {**ATTRIBUTE, "value": "Locky\x00", "type": "text", "category": "Other"}
    event = {"uuid": EVENT_UUID, "info": "A\x00B", "date": "2026-01-01", "Attribute": [attribute]}
    data = json.dumps({"Event": event}).encode()
    with contextlib.suppress(ValidationError):
        services.import_misp(actor=owner, data=data, source="fuzz")


def test_sightings_of_a_value_with_a_nul_is_no_server_error(client, owner):
    response = client.get(
        "/api/v1/sightings",
        {"sighting_of": "indicator--\x00"},
        headers={"Authorization": f"Bearer {token_for(owner)}"},
    )
    assert response.status_code == 400


def test_misp_tags_that_are_not_a_list_are_refused_by_name(owner):
    event = {"uuid": EVENT_UUID, "info": "x", "date": "2026-01-01",
             "Attribute": [{**ATTRIBUTE, "Tag": True}]}  # fmt: skip
    with pytest.raises(ValidationError, match="MISP event|`Tag`"):
        services.import_misp(actor=owner, data=json.dumps({"Event": event}).encode(), source="f")
