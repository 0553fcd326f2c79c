"""Evidence belongs to exactly one incident or assistance request, and follows its audience."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction

from csirtnet.assistance.models import AssistanceRequest
from csirtnet.evidence.models import Evidence
from tests.api.client import Api, token_for

pytestmark = pytest.mark.django_db

SENT_AT = datetime(2026, 3, 14, 9, 0, tzinfo=UTC)


@pytest.fixture
def assistance_request(owner, recipient):  # type: ignore[no-untyped-def]
    """A sent technical-assistance request from `owner`'s organization to `recipient`'s."""
    return AssistanceRequest.objects.create(
        request_type="technical_assistance",
        status="sent",
        title="Help with a ransomware sample",
        legal_basis="CICTE declaration (2016), clause 15",
        requester=owner.organization,
        requested=recipient.organization,
        author=owner.user,
        sent_at=SENT_AT,
        acknowledge_due_at=SENT_AT + timedelta(hours=24),
        respond_due_at=SENT_AT + timedelta(days=7),
    )


def test_evidence_of_a_request_is_seen_by_both_parties_only(
    owner, recipient, outsider, assistance_request, add
):
    evidence = add(owner, assistance_request)
    assert evidence.assistance_request == assistance_request
    assert evidence.incident is None
    visible = Evidence.objects.visible_to
    assert evidence in visible(owner)
    assert evidence in visible(recipient)
    assert evidence not in visible(outsider)


def test_the_requested_party_may_add_and_list_through_the_api(
    recipient, outsider, assistance_request, sample
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    api = Api(token_for(recipient))
    path = f"/api/v1/assistance-requests/{assistance_request.uuid}/evidence"
    upload = SimpleUploadedFile("scan_ssh.csv", sample(), "text/csv")
    created = api.client.post(path, {"file": upload}, headers=api.headers)
    assert created.status_code == 201
    listed = api.get(path)
    assert listed.body["count"] == 1
    assert listed.body["items"][0]["assistance_request"] == str(assistance_request.uuid)
    assert Api(token_for(outsider)).get(path).status_code == 404


def test_the_database_wants_exactly_one_parent(owner, incident, assistance_request, add):
    evidence = add(owner, incident)
    for incident_id, request_id in ((incident.pk, assistance_request.pk), (None, None)):
        with pytest.raises(IntegrityError), transaction.atomic():
            Evidence.objects.filter(pk=evidence.pk).update(
                incident_id=incident_id, assistance_request_id=request_id
            )


def test_pages_of_request_evidence_work_for_both_parties(
    client, owner, recipient, outsider, assistance_request, sample
):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    upload_url = reverse("evidence:upload", args=["request", assistance_request.uuid])
    client.force_login(recipient.user)
    upload = SimpleUploadedFile("scan_ssh.csv", sample(), "text/csv")
    assert client.post(upload_url, {"file": upload}).status_code == 302
    evidence = Evidence.objects.get(assistance_request=assistance_request)
    page = reverse("evidence:detail", args=[evidence.uuid])
    assert client.get(page).status_code == 200
    client.force_login(owner.user)
    assert client.get(page).status_code == 200
    client.force_login(outsider.user)
    assert client.get(page).status_code == 404
    assert client.post(upload_url, {"file": upload}).status_code == 404


def test_an_unknown_parent_kind_answers_404(client, owner, incident):
    from django.urls import reverse

    client.force_login(owner.user)
    url = reverse("evidence:upload", args=["case", incident.uuid])
    assert client.post(url).status_code == 404


# --- a request in a final status takes no more evidence ------------------------------


def _close(assistance_request, status):  # type: ignore[no-untyped-def]
    AssistanceRequest.objects.filter(pk=assistance_request.pk).update(
        status=status, decline_reason="Out of scope" if status == "declined" else ""
    )
    assistance_request.refresh_from_db()
    return assistance_request


def _refusal(label: str) -> str:
    return f"This assistance request is closed (status: {label}); no evidence can be added to it."


@pytest.mark.parametrize(
    ("status", "label"),
    [
        ("declined", "Declined"),
        ("fulfilled", "Fulfilled"),
        ("partially_fulfilled", "Partially fulfilled"),
        ("withdrawn", "Withdrawn"),
    ],
)
def test_evidence_cannot_be_added_to_a_request_in_a_final_status(
    owner, recipient, assistance_request, add, status, label
):
    from django.core.exceptions import ValidationError

    _close(assistance_request, status)
    for actor in (owner, recipient):
        with pytest.raises(ValidationError) as refused:
            add(actor, assistance_request)
        assert refused.value.messages == [_refusal(label)]
        assert refused.value.code == "parent_closed"
    assert not Evidence.objects.exists()


def test_the_status_is_checked_again_under_the_request_lock(owner, assistance_request, add):
    from django.core.exceptions import ValidationError

    stale = AssistanceRequest.objects.get(pk=assistance_request.pk)
    _close(assistance_request, "withdrawn")
    assert stale.status == "sent"
    with pytest.raises(ValidationError) as refused:
        add(owner, stale)
    assert refused.value.messages == [_refusal("Withdrawn")]
    assert not Evidence.objects.exists()


@pytest.mark.parametrize("status", ["draft", "acknowledged", "accepted", "in_progress", "expired"])
def test_a_request_not_yet_final_still_takes_evidence(owner, assistance_request, add, status):
    AssistanceRequest.objects.filter(pk=assistance_request.pk).update(status=status)
    assistance_request.refresh_from_db()
    assert add(owner, assistance_request).assistance_request == assistance_request


def test_the_api_refuses_evidence_for_a_withdrawn_request_with_400(
    recipient, assistance_request, sample
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    _close(assistance_request, "withdrawn")
    api = Api(token_for(recipient))
    path = f"/api/v1/assistance-requests/{assistance_request.uuid}/evidence"
    upload = SimpleUploadedFile("scan_ssh.csv", sample(), "text/csv")
    refused = api.client.post(path, {"file": upload}, headers=api.headers)
    assert refused.status_code == 400
    assert refused.json() == {"detail": _refusal("Withdrawn"), "code": "invalid"}
    assert not Evidence.objects.exists()


def test_the_upload_page_shows_the_refusal_for_a_withdrawn_request(
    client, owner, assistance_request, sample
):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    _close(assistance_request, "withdrawn")
    client.force_login(owner.user)
    upload_url = reverse("evidence:upload", args=["request", assistance_request.uuid])
    upload = SimpleUploadedFile("scan_ssh.csv", sample(), "text/csv")
    response = client.post(upload_url, {"file": upload})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [_refusal("Withdrawn")]
    assert _refusal("Withdrawn") in response.content.decode()
    assert not Evidence.objects.exists()


def test_the_panel_offers_no_upload_once_the_request_is_final(owner, assistance_request):
    from csirtnet.evidence.panel import panel_context

    assert panel_context(owner, assistance_request)["can_add"] is True
    _close(assistance_request, "fulfilled")
    assert panel_context(owner, assistance_request)["can_add"] is False
