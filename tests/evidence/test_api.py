"""The evidence API: upload, read, custody chain, transfer, accept, examine, release, download."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from csirtnet.evidence.models import Evidence
from tests.api.client import Api, assert_matches_document, token_for
from tests.evidence.conftest import CSV_SAMPLE

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_owner(owner):  # type: ignore[no-untyped-def]
    return Api(token_for(owner))


@pytest.fixture
def as_recipient(recipient):  # type: ignore[no-untyped-def]
    return Api(token_for(recipient))


@pytest.fixture
def as_outsider(outsider):  # type: ignore[no-untyped-def]
    return Api(token_for(outsider))


def _upload(api, incident, content: bytes, name="scan_ssh.csv", **fields):  # type: ignore[no-untyped-def]
    response = api.client.post(
        f"/api/v1/incidents/{incident.uuid}/evidence",
        {"file": SimpleUploadedFile(name, content, "text/csv"), **fields},
        headers=api.headers,
    )
    response.body = assert_matches_document(response)
    return response


def test_upload_then_read_list_and_custody(as_owner, owner, incident, sample):
    data = sample(CSV_SAMPLE)
    created = _upload(as_owner, incident, data, description="honeypot log")
    assert created.status_code == 201, created.body
    body = created.body
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert (body["size"], body["content_type"], body["name"]) == (
        len(data),
        "text/csv",
        "scan_ssh.csv",
    )
    assert body["incident"] == str(incident.uuid) and body["assistance_request"] is None
    assert body["custodian"]["short_name"] == owner.organization.short_name
    listed = as_owner.get(f"/incidents/{incident.uuid}/evidence")
    assert [item["uuid"] for item in listed.body["items"]] == [body["uuid"]]
    chain = as_owner.get(f"/evidence/{body['uuid']}/custody").body
    assert chain["count"] == 1
    assert chain["items"][0]["action"] == "collected"
    assert chain["items"][0]["hash"] == body["head_hash"]


def test_transfer_accept_examine_release_through_the_api(
    as_owner, as_recipient, as_outsider, incident, sample
):
    uuid = _upload(as_owner, incident, sample()).body["uuid"]
    transfer = {"receiving_organization": "CERT.ar", "reason": "analysis"}
    assert as_owner.post(f"/evidence/{uuid}/transfer", transfer).status_code == 201
    assert as_owner.get(f"/evidence/{uuid}").body["custodian"]["short_name"] == "CERTuy"
    again = as_owner.post(
        f"/evidence/{uuid}/transfer", transfer | {"receiving_organization": "CERT-MX"}
    )
    assert again.status_code == 400
    assert as_owner.post(f"/evidence/{uuid}/accept", {}).status_code == 403  # not the receiver
    accepted = as_recipient.post(f"/evidence/{uuid}/accept", {"reason": "received"})
    assert accepted.status_code == 201
    assert accepted.body["action"] == "accepted"
    assert as_recipient.get(f"/evidence/{uuid}").body["custodian"]["short_name"] == "CERT.ar"
    assert as_owner.post(f"/evidence/{uuid}/examine", {"reason": "x"}).status_code == 403
    assert as_recipient.post(f"/evidence/{uuid}/examine", {"reason": "YARA"}).status_code == 201
    released = as_recipient.post(f"/evidence/{uuid}/release", {"reason": "to the court"})
    assert released.status_code == 201
    actions = [e["action"] for e in as_owner.get(f"/evidence/{uuid}/custody").body["items"]]
    assert actions == ["collected", "transferred", "accepted", "examined", "released"]


def test_the_chain_can_be_verified_from_the_api_alone(as_owner, as_recipient, incident, sample):
    uuid = _upload(as_owner, incident, sample()).body["uuid"]
    as_owner.post(
        f"/evidence/{uuid}/transfer", {"receiving_organization": "CERT.ar", "reason": "ñ"}
    )
    as_recipient.post(f"/evidence/{uuid}/accept", {})
    previous = "0" * 64
    for event in as_owner.get(f"/evidence/{uuid}/custody").body["items"]:
        receiving = event["receiving_organization"]
        record = {
            "evidence": event["evidence"], "event": event["uuid"], "sequence": event["sequence"],
            "action": event["action"], "actor": event["actor"],
            "organization": event["organization"]["uuid"],
            "receiving_organization": receiving["uuid"] if receiving else None,
            "occurred_at": event["occurred_at"], "reason": event["reason"],
            "sha256": event["sha256"],
        }  # fmt: skip
        if event["sequence"] == 1:
            item = as_owner.get(f"/evidence/{uuid}").body
            record["item"] = {
                "parent": f"incident:{item['incident']}", "name": item["name"],
                "size": item["size"], "content_type": item["content_type"],
                "description": item["description"],
            }  # fmt: skip
        text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        computed = hashlib.sha256(f"{previous}\n{text}".encode()).hexdigest()
        assert event["previous_hash"] == previous
        assert event["hash"] == computed
        previous = computed
    assert as_owner.get(f"/evidence/{uuid}").body["head_hash"] == previous


def test_download_headers_are_attachment_and_nosniff(as_owner, incident, sample):
    data = sample()
    uuid = _upload(as_owner, incident, data).body["uuid"]
    response = as_owner.client.get(f"/api/v1/evidence/{uuid}/download", headers=as_owner.headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == 'attachment; filename="scan_ssh.csv"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == data


def test_an_outsider_gets_404_everywhere(as_owner, as_outsider, incident, sample):
    uuid = _upload(as_owner, incident, sample()).body["uuid"]
    for path in (
        f"/evidence/{uuid}",
        f"/evidence/{uuid}/custody",
        f"/incidents/{incident.uuid}/evidence",
    ):
        assert as_outsider.get(path).status_code == 404
    for verb in ("accept", "examine", "release"):
        assert as_outsider.post(f"/evidence/{uuid}/{verb}", {"reason": "x"}).status_code == 404
    download = as_outsider.client.get(
        f"/api/v1/evidence/{uuid}/download", headers=as_outsider.headers
    )
    assert download.status_code == 404
    upload = _upload(as_outsider, incident, b"x")
    assert upload.status_code == 404
    assert Evidence.objects.count() == 1


@pytest.mark.parametrize(
    ("content", "fields", "named"),
    [
        (b"", {}, "file: "),
        (b"x" * 11, {}, "file: "),
        (b"MZ\x90\x00", {"content_type": "application/pdf"}, "content_type: "),
    ],
)
def test_bad_uploads_answer_400_naming_the_field(
    as_owner, incident, settings, content, fields, named
):
    settings.CSIRTNET_EVIDENCE_MAX_BYTES = 10
    response = _upload(as_owner, incident, content, **fields)
    assert response.status_code == 400
    assert response.body["detail"].startswith(named), response.body
    assert not Evidence.objects.exists()


def test_a_read_only_token_cannot_upload(owner, incident, sample):
    api = Api(token_for(owner, read_only=True))
    assert _upload(api, incident, sample()).status_code == 403


def test_a_multipart_body_without_a_boundary_is_a_400(owner, incident):
    from django.test import Client

    from tests.api.client import token_for

    answer = Client().post(
        f"/api/v1/incidents/{incident.uuid}/evidence", data=b"--x\r\n\r\n",
        content_type="multipart/form-data",
        headers={"Authorization": f"Bearer {token_for(owner)}"},
    )  # fmt: skip
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid"
