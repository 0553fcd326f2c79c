"""The assistance API: list by box, create per type, read, transitions, history, 404s."""

from __future__ import annotations

import uuid

import pytest

from csirtnet.assistance import services
from csirtnet.assistance.kinds import RequestType
from csirtnet.assistance.models import AssistanceRequest, Status
from csirtnet.directory.models import Organization
from tests.api.client import Api, token_for
from tests.assistance.factories import VALID_DETAILS
from tests.incidents.factories import IncidentFactory

pytestmark = pytest.mark.django_db

PATH = "/assistance-requests"


def new(request_type=RequestType.TAKEDOWN, requested="CERT.ar", **fields):
    body = {
        "type": request_type,
        "requested": requested,
        "title": "Phishing kit on a government domain",
        "priority": "urgent",
        "details": dict(VALID_DETAILS[request_type]),
    }
    body.update(fields)
    return body


def ask(actor, requested="CERT.ar", request_type=RequestType.TAKEDOWN):
    target = (
        requested
        if isinstance(requested, Organization)
        else Organization.objects.get(short_name=requested)
    )
    return services.create_request(
        actor=actor, request_type=request_type, requested=target, title="Phishing kit",
        details=dict(VALID_DETAILS[request_type]),
    )  # fmt: skip


def test_create_sends_with_clocks_and_labels(owner):
    response = Api(token_for(owner)).post(PATH, new(tlp="TLP:AMBER+STRICT"))
    assert response.status_code == 201
    body = response.body
    assert body["status"] == "sent" and body["tlp"] == "TLP:AMBER+STRICT"
    assert body["requester"]["short_name"] == "CERTuy"
    assert body["requested"]["short_name"] == "CERT.ar"
    assert body["acknowledge_due_at"].endswith("Z") and body["reference"].startswith("AR-")
    assert body["details"]["target"] == "https://phish.example.com.ar/login"


def test_create_refuses_missing_type_fields_unknown_fields_and_unknown_organizations(owner):
    api = Api(token_for(owner))
    missing = api.post(PATH, new(details={"grounds": "x"}))
    assert (missing.status_code, missing.body["code"]) == (400, "invalid")
    assert "target" in missing.body["detail"]
    assert api.post(PATH, new(colour="red")).status_code == 400
    assert api.post(PATH, new(requested="NOPE")).status_code == 400
    assert api.post(PATH, new(title="\u202eevil")).status_code == 400
    assert not AssistanceRequest.objects.exists()


def test_a_csirt_cannot_send_law_enforcement_types(owner, officer_br):
    for request_type in sorted(RequestType.values):
        if request_type not in ("preservation", "traffic_disclosure",
                                "emergency_disclosure", "emergency_assistance"):  # fmt: skip
            continue
        response = Api(token_for(owner)).post(
            PATH, new(request_type=request_type, requested="UC-BR")
        )
        assert response.status_code == 400
        assert response.body["detail"].startswith("request_type:")
    assert not AssistanceRequest.objects.exists()


def test_a_law_enforcement_unit_sends_an_emergency_preservation_request(officer_ar, officer_br):
    body = new(request_type="preservation", requested="UC-BR", priority="emergency")
    response = Api(token_for(officer_ar)).post(PATH, body)
    assert response.status_code == 201
    assert "art. 29" in response.body["legal_basis"]
    assert response.body["details"]["intends_mutual_assistance"] is True


def test_list_by_box_and_filters(owner, recipient):
    ask(owner)
    ask(owner, request_type=RequestType.INFORMATION)
    api = Api(token_for(recipient))
    assert api.get(PATH, box="inbox").body["count"] == 2
    assert api.get(PATH, box="outbox").body["count"] == 0
    assert api.get(PATH, box="inbox", type="information").body["count"] == 1
    assert api.get(PATH, status="declined").body["count"] == 0
    assert api.get(PATH, priority="routine").body["count"] == 2
    unknown = api.get(PATH, colour="red")
    assert (unknown.status_code, unknown.body["code"]) == (400, "unknown_parameter")
    assert api.get(PATH, box="sideways").status_code == 400


def test_transitions_and_history(owner, recipient):
    item = ask(owner)
    api = Api(token_for(recipient))
    url = f"{PATH}/{item.uuid}"
    assert (
        api.post(f"{url}/transitions", {"action": "acknowledge"}).body["status"] == "acknowledged"
    )
    no_reason = api.post(f"{url}/transitions", {"action": "decline"})
    assert (no_reason.status_code, no_reason.body["code"]) == (400, "invalid")
    illegal = api.post(f"{url}/transitions", {"action": "fulfil"})
    assert (illegal.status_code, illegal.body["code"]) == (409, "illegal_transition")
    wrong_party = api.post(f"{url}/transitions", {"action": "withdraw"})
    assert (wrong_party.status_code, wrong_party.body["code"]) == (403, "permission_denied")
    declined = api.post(f"{url}/transitions", {"action": "decline", "reason": "No mandate."})
    assert declined.body["status"] == "declined" and declined.body["decline_reason"]
    history = api.get(f"{url}/history").body
    assert [entry["to_status"] for entry in history["items"]] == [
        "draft", "sent", "acknowledged", "declined",
    ]  # fmt: skip
    assert history["items"][-1]["user"] == "recipient"
    assert history["items"][-1]["organization"]["short_name"] == "CERT.ar"
    assert history["items"][-1]["at"].endswith("Z")


def test_the_linked_incident_must_be_one_the_requester_sees(owner):
    api = Api(token_for(owner))
    mine = IncidentFactory(owner=Organization.objects.get(short_name="CERTuy"))
    hidden = IncidentFactory(owner=Organization.objects.get(short_name="CERT-MX"))
    assert api.post(PATH, new(incident=str(mine.uuid))).body["incident"] == str(mine.uuid)
    assert api.post(PATH, new(incident=str(hidden.uuid))).status_code == 400


def test_outsiders_non_le_organizations_and_missing_requests_answer_404(
    owner, outsider, officer_ar, officer_br
):
    item = ask(owner)
    legal = ask(officer_ar, requested=officer_br.organization,
                request_type=RequestType.PRESERVATION)  # fmt: skip
    as_outsider = Api(token_for(outsider))
    as_csirt = Api(token_for(owner))
    for api, hidden in ((as_outsider, item), (as_csirt, legal)):
        for path in (f"{PATH}/{hidden.uuid}", f"{PATH}/{hidden.uuid}/history"):
            response = api.get(path)
            assert (response.status_code, response.body["code"]) == (404, "not_found")
        moved = api.post(f"{PATH}/{hidden.uuid}/transitions", {"action": "withdraw"})
        assert moved.status_code == 404
    assert as_outsider.get(f"{PATH}/{uuid.uuid4()}").status_code == 404
    assert as_outsider.get(PATH).body["count"] == 0
    assert as_csirt.get(PATH).body["count"] == 1
    legal.refresh_from_db()
    assert legal.status == Status.SENT


def test_anonymous_and_read_only_tokens(owner):
    item = ask(owner)
    anonymous = Api()
    response = anonymous.get(PATH)
    assert (response.status_code, response.body["code"]) == (401, "not_authenticated")
    assert anonymous.get(f"{PATH}/{item.uuid}").status_code == 401
    read_only = Api(token_for(owner, read_only=True))
    assert read_only.get(f"{PATH}/{item.uuid}").status_code == 200
    assert (
        read_only.post(f"{PATH}/{item.uuid}/transitions", {"action": "withdraw"}).status_code
        == 403
    )


def test_the_linked_incident_is_shown_only_to_who_sees_it(owner, recipient):
    mine = IncidentFactory(owner=Organization.objects.get(short_name="CERTuy"))
    created = Api(token_for(owner)).post(PATH, new(incident=str(mine.uuid))).body
    assert created["incident"] == str(mine.uuid)
    seen_by_recipient = Api(token_for(recipient)).get(f"{PATH}/{created['uuid']}").body
    assert seen_by_recipient["incident"] is None
