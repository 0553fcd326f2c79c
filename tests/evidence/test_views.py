"""The evidence pages: the panel on the incident page, upload, detail, actions, download."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from csirtnet.evidence import services
from csirtnet.evidence.models import Evidence
from tests.evidence.conftest import CSV_SAMPLE

pytestmark = pytest.mark.django_db


def _signed_in(client, member):  # type: ignore[no-untyped-def]
    client.force_login(member.user)
    return client


def _url(name: str, evidence: Evidence) -> str:
    return reverse(f"evidence:{name}", args=[evidence.uuid])


def _upload_url(incident) -> str:  # type: ignore[no-untyped-def]
    return reverse("evidence:upload", args=["incident", incident.uuid])


def test_incident_page_shows_the_panel_with_items_and_the_upload_form(
    client, owner, incident, add
):
    evidence = add(owner, incident)
    page = _signed_in(client, owner).get(reverse("incidents:detail", args=[incident.uuid]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="evidence"' in html
    assert evidence.name in html and evidence.sha256 in html
    assert _upload_url(incident) in html
    assert _url("download", evidence) in html
    assert "Collected" in html  # the custody table


def test_panel_in_spanish(client, owner, incident, add):
    add(owner, incident)
    client = _signed_in(client, owner)
    page = client.get(
        reverse("incidents:detail", args=[incident.uuid]), headers={"accept-language": "es"}
    )
    assert page.status_code == 200


def test_upload_through_the_page_goes_back_to_the_incident(client, recipient, incident, sample):
    data = sample(CSV_SAMPLE)
    upload = SimpleUploadedFile("scan_ssh.csv", data, "text/csv")
    response = _signed_in(client, recipient).post(
        _upload_url(incident), {"file": upload, "description": "from CERT.ar"}
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"/incidents/{incident.uuid}/#evidence")
    evidence = Evidence.objects.get()
    assert (evidence.owner, evidence.size) == (recipient.organization, len(data))


def test_a_mismatched_upload_comes_back_with_the_error_on_its_field(client, owner, incident):
    upload = SimpleUploadedFile("invoice.pdf", b"MZ\x90\x00program", "application/pdf")
    response = _signed_in(client, owner).post(_upload_url(incident), {"file": upload})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "is a program, not application/pdf" in errors["content_type"][0]
    assert not Evidence.objects.exists()


def test_an_oversized_upload_comes_back_with_the_error_on_the_file(
    client, owner, incident, settings
):
    settings.CSIRTNET_EVIDENCE_MAX_BYTES = 4
    upload = SimpleUploadedFile("a.txt", b"12345", "text/plain")
    response = _signed_in(client, owner).post(_upload_url(incident), {"file": upload})
    assert response.context["form"].errors["file"] == ["Evidence files are limited to 4 bytes."]
    assert not Evidence.objects.exists()


def test_detail_page_shows_the_chain_and_the_custodian_s_actions(client, owner, incident, add):
    evidence = add(owner, incident)
    page = _signed_in(client, owner).get(_url("detail", evidence))
    html = page.content.decode()
    assert page.status_code == 200
    assert evidence.head_hash[:14] in html
    for name in ("transfer", "examine", "release"):
        assert _url(name, evidence) in html
    assert _url("accept", evidence) not in html


def test_transfer_and_accept_through_the_pages(client, owner, recipient, incident, add):
    evidence = add(owner, incident)
    client = _signed_in(client, owner)
    response = client.post(
        _url("transfer", evidence), {"receiving_organization": "CERT.ar", "reason": "analysis"}
    )
    assert response.status_code == 302
    evidence.refresh_from_db()
    assert (evidence.custodian, evidence.pending_receiver) == (
        owner.organization, recipient.organization,
    )  # fmt: skip
    assert client.post(_url("accept", evidence)).status_code == 403  # the sender cannot
    client = _signed_in(client, recipient)
    assert _url("accept", evidence) in client.get(_url("detail", evidence)).content.decode()
    assert client.post(_url("accept", evidence)).status_code == 302
    evidence.refresh_from_db()
    assert evidence.custodian == recipient.organization


def test_an_action_without_a_reason_comes_back_with_the_error(client, owner, incident, add):
    evidence = add(owner, incident)
    response = _signed_in(client, owner).post(_url("examine", evidence), {"reason": ""})
    assert response.status_code == 200
    assert response.context["examine_form"].errors["reason"]
    assert evidence.custody.count() == 1


def test_download_is_an_attachment_with_nosniff(client, owner, incident):
    evidence = services.add_evidence(
        actor=owner, parent=incident, name="page.html",
        content=SimpleUploadedFile("page.html", b"<html><script>alert(1)</script>"),
        content_type="text/html",
    )  # fmt: skip
    response = _signed_in(client, owner).get(_url("download", evidence))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == 'attachment; filename="page.html"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == b"<html><script>alert(1)</script>"


def test_an_outsider_gets_404_for_page_download_actions_and_upload(
    client, owner, outsider, incident, add
):
    evidence = add(owner, incident)
    client = _signed_in(client, outsider)
    for name in ("detail", "download"):
        assert client.get(_url(name, evidence)).status_code == 404
    for name in ("transfer", "accept", "examine", "release"):
        assert client.post(_url(name, evidence), {"reason": "x"}).status_code == 404
    upload = SimpleUploadedFile("a.txt", b"x", "text/plain")
    assert client.post(_upload_url(incident), {"file": upload}).status_code == 404
    assert Evidence.objects.count() == 1
    assert evidence.custody.count() == 1


def test_a_missing_item_answers_404_as_a_hidden_one(client, owner):
    import uuid

    response = _signed_in(client, owner).get(reverse("evidence:detail", args=[uuid.uuid4()]))
    assert response.status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, owner, incident, add):
    evidence = add(owner, incident)
    response = client.get(_url("download", evidence))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_actions_refuse_get(client, owner, incident, add):
    evidence = add(owner, incident)
    client = _signed_in(client, owner)
    for name in ("transfer", "accept", "examine", "release"):
        assert client.get(_url(name, evidence)).status_code == 405


def test_a_pending_receiver_sees_the_item_but_not_the_title_of_its_parent(
    client, owner, outsider, incident, add
):
    from csirtnet.core.models import AuditEntry

    incident.title = "Secret operation CANARY-7f3e"
    incident.tlp = "red"
    incident.save()
    evidence = add(owner, incident)
    services.transfer_evidence(
        actor=owner, evidence=evidence, receiving_organization=outsider.organization,
        reason="For your examination",
    )  # fmt: skip

    page = _signed_in(client, outsider).get(_url("detail", evidence))

    html = page.content.decode()
    assert page.status_code == 200
    assert evidence.name in html
    assert "CANARY-7f3e" not in html and incident.reference not in html
    read = AuditEntry.objects.filter(action="evidence.read").last()
    assert read is not None and (read.username, read.tlp) == (outsider.user.username, "red")


def test_a_refused_custody_action_gets_a_403_page_about_evidence(
    client, owner, recipient, incident, add
):
    evidence = add(owner, incident)
    services.transfer_evidence(
        actor=owner, evidence=evidence, receiving_organization=recipient.organization,
        reason="analysis",
    )  # fmt: skip
    response = _signed_in(client, owner).post(
        _url("accept", evidence), headers={"Accept-Language": "en"}
    )
    assert response.status_code == 403
    assert (
        "You can see this evidence, but your organization may not do what you asked: only "
        "the organization holding an item transfers, examines or releases it, only the "
        "organization a transfer is offered to accepts it, and only the organizations "
        "taking part in an incident or a request add evidence."
    ) in response.content.decode()
