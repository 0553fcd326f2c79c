"""Token authentication of the JSON API, read-only tokens, and the one error shape."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from csirtnet.accounts.models import ApiToken, Membership
from csirtnet.accounts.services import create_api_token, revoke_api_token
from csirtnet.incidents import services
from csirtnet.incidents.models import Incident, TimelineEntry
from tests.api.client import Api, openapi, report, token_for

pytestmark = pytest.mark.django_db

NEW_INCIDENT = {
    "title": "Phishing kit",
    "taxonomy_predicate": "fraud",
    "taxonomy_value": "phishing",
    "severity": 2,
}


def test_request_without_token_answers_401_json_not_a_login_redirect(directory):
    response = Api().get("/incidents")
    assert response.status_code == 401
    assert response.body["code"] == "not_authenticated"
    assert "Bearer" in response.body["detail"]
    assert response["WWW-Authenticate"] == 'Bearer realm="csirtnet"'


def test_unknown_token_answers_401(directory):
    response = Api("cn_not-a-real-token").get("/incidents")
    assert response.status_code == 401
    assert response.body["code"] == "not_authenticated"


def test_token_in_another_scheme_answers_401(client, owner):
    token = token_for(owner)
    response = client.get("/api/v1/incidents", headers={"Authorization": f"Token {token}"})
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Send a valid API token: Authorization: Bearer <token>.",
        "code": "not_authenticated",
    }


def test_revoked_token_answers_401(owner):
    token, plaintext = create_api_token(user=owner.user, name="ci", read_only=False)
    assert Api(plaintext).get("/incidents").status_code == 200
    revoke_api_token(user=owner.user, token=token)
    response = Api(plaintext).get("/incidents")
    assert response.status_code == 401
    assert response.body["code"] == "not_authenticated"


def test_token_of_an_inactive_user_answers_401(owner):
    token = token_for(owner)
    owner.user.is_active = False
    owner.user.save()
    assert Api(token).get("/incidents").status_code == 401


def test_token_of_a_user_without_active_membership_answers_403(owner):
    token = token_for(owner)
    Membership.objects.filter(pk=owner.pk).update(is_active=False)
    response = Api(token).get("/incidents")
    assert response.status_code == 403
    assert response.body["code"] == "no_membership"


def test_signed_in_session_without_token_answers_401(client, owner):
    client.force_login(owner.user)
    response = Api(client=client).get("/incidents")
    assert response.status_code == 401


def test_use_of_a_token_records_when_it_was_last_used(owner):
    token = token_for(owner)
    before = timezone.now()
    Api(token).get("/incidents")
    last_used_at = ApiToken.objects.get(user=owner.user).last_used_at
    assert last_used_at is not None
    assert before <= last_used_at <= timezone.now()


def test_read_only_token_reads(owner):
    incident = report(owner)
    api = Api(token_for(owner, read_only=True))
    assert api.get("/incidents").body["count"] == 1
    assert api.get(f"/incidents/{incident.uuid}").body["reference"] == incident.reference


def test_read_only_token_cannot_create_and_nothing_is_written(owner):
    response = Api(token_for(owner, read_only=True)).post("/incidents", NEW_INCIDENT)
    assert response.status_code == 403
    assert response.body["code"] == "read_only_token"
    assert not Incident.objects.exists()


def test_read_only_token_cannot_patch_comment_or_change_status(owner):
    incident = report(owner)
    entries = TimelineEntry.objects.filter(incident=incident).count()
    api = Api(token_for(owner, read_only=True))
    path = f"/incidents/{incident.uuid}"
    answers = [
        api.patch(path, {"title": "Changed"}),
        api.post(path + "/timeline", {"text": "hello"}),
        api.post(path + "/status", {"status": "triaged"}),
        api.post(path + "/observables", {"observables": ["198.51.100.7"]}),
        api.post("/affected-states", {"observables": ["190.210.0.1"]}),
    ]
    assert [answer.status_code for answer in answers] == [403] * 5
    assert {answer.body["code"] for answer in answers} == {"read_only_token"}
    incident.refresh_from_db()
    assert incident.title == "C2 server in Argentina"
    assert incident.status == "new"
    assert TimelineEntry.objects.filter(incident=incident).count() == entries
    assert incident.observables.count() == 1


def test_unknown_path_under_api_answers_404_json(directory):
    for path in [
        "/api/",
        "/api/v1/",
        "/api/v2/incidents",
        "/api/v1/nothing-here",
        "/api/v1/incidents/",
    ]:
        response = Api().get(path)
        assert response.status_code == 404
        assert response.body == {"detail": "Not found.", "code": "not_found"}


def test_unknown_incident_answers_404(owner):
    response = Api(token_for(owner)).get("/incidents/4b0f9f5e-2a51-4bb4-9f2a-5a3bb1c7d9a1")
    assert response.status_code == 404
    assert response.body["code"] == "not_found"


def test_malformed_uuid_answers_404_like_a_missing_incident(owner):
    response = Api(token_for(owner)).get("/incidents/not-a-uuid")
    assert response.status_code == 404
    assert response.body == {"detail": "Not found.", "code": "not_found"}


def test_method_the_path_does_not_take_answers_405_json(owner):
    incident = report(owner)
    response = Api(token_for(owner)).delete(f"/incidents/{incident.uuid}")
    assert response.status_code == 405
    assert response.body["code"] == "method_not_allowed"
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "PATCH"}
    assert Incident.objects.filter(pk=incident.pk).exists()


def test_body_that_is_not_json_answers_400(client, owner):
    response = client.post(
        "/api/v1/incidents",
        data="{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {token_for(owner)}"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed"


def test_body_over_the_size_limit_answers_413(owner, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {**NEW_INCIDENT, "description": "x" * 2000}
    response = Api(token_for(owner)).post("/incidents", body)
    assert response.status_code == 413
    assert response.body["code"] == "payload_too_large"
    assert not Incident.objects.exists()


def test_unexpected_failure_answers_500_json_without_traceback(owner, monkeypatch):
    def broken(**kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internals")

    monkeypatch.setattr(services, "create_incident", broken)
    response = Api(token_for(owner)).post("/incidents", NEW_INCIDENT)
    assert response.status_code == 500
    assert response.body == {"detail": "Internal server error.", "code": "server_error"}
    assert b"secret internals" not in response.content
    assert b"Traceback" not in response.content


def test_openapi_document_is_served_without_a_token(client, directory):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json() == openapi()


def test_token_not_the_session_decides_who_acts(client, owner, recipient):
    client.force_login(recipient.user)
    response = Api(token_for(owner), client=client).post("/incidents", NEW_INCIDENT)
    assert response.status_code == 201
    assert response.body["owner"]["short_name"] == "CERTuy"
    assert response.body["author"] == "owner"


def test_last_used_at_is_not_rewritten_within_a_minute(owner):
    token = token_for(owner)
    recent = timezone.now() - timedelta(seconds=30)
    ApiToken.objects.update(last_used_at=recent)
    Api(token).get("/incidents")
    assert ApiToken.objects.get().last_used_at == recent


def test_missing_or_non_object_body_answers_400_naming_the_body(owner):
    api = Api(token_for(owner))
    for body in [None, [], "text"]:
        response = api.post("/incidents", body)
        assert response.status_code == 400, body
        assert response.body["code"] == "invalid"
        assert response.body["detail"].startswith("body: "), response.body
    assert not Incident.objects.exists()
