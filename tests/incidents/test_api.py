"""The incidents API: list, report, read, edit, status, timeline, acknowledge, observables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from csirtnet.directory.models import Sector
from csirtnet.incidents.models import Incident, Participation
from tests.api.client import Api, report, token_for

pytestmark = pytest.mark.django_db

NEW_INCIDENT = {
    "title": "Botnet C2 in Argentina",
    "taxonomy_predicate": "malicious-code",
    "taxonomy_value": "c2-server",
    "severity": 4,
    "observables": ["190.210.0.1"],
}
UNKNOWN = "4b0f9f5e-2a51-4bb4-9f2a-5a3bb1c7d9a1"


@pytest.fixture
def as_owner(owner):  # type: ignore[no-untyped-def]
    """The API as a handler of CERTuy."""
    return Api(token_for(owner))


@pytest.fixture
def as_recipient(recipient):  # type: ignore[no-untyped-def]
    """The API as a handler of CERT.ar, a participant of `report`'s incidents."""
    return Api(token_for(recipient))


@pytest.fixture
def as_outsider(outsider):  # type: ignore[no-untyped-def]
    """The API as a handler of CERT-MX, addressed by nothing."""
    return Api(token_for(outsider))


def _is_utc(text: str) -> bool:
    return text.endswith("Z") and datetime.fromisoformat(text).utcoffset() == timedelta(0)


# --- list ----------------------------------------------------------------------------


def test_list_shows_the_owners_incident_with_labels_and_participants(as_owner, owner):
    incident = report(owner, sectors=["energy"])
    response = as_owner.get("/incidents")
    assert response.status_code == 200
    assert response.body["count"] == 1
    (item,) = response.body["items"]
    assert item["uuid"] == str(incident.uuid)
    assert item["reference"] == incident.reference
    assert item["tlp"] == "TLP:AMBER"
    assert item["pap"] == "PAP:AMBER"
    assert item["status"] == "new"
    assert item["sectors"] == ["energy"]
    assert item["rsit"] == 'rsit:malicious-code="c2-server"'
    assert item["owner"]["short_name"] == "CERTuy"
    assert item["owner"]["state"] == "UY"
    assert item["author"] == "owner"
    assert [state["code"] for state in item["affected_states"]] == ["AR"]
    (participant,) = item["participants"]
    assert participant["organization"]["short_name"] == "CERT.ar"
    assert participant["acknowledged_at"] is None
    assert participant["time_to_acknowledge_seconds"] is None
    assert _is_utc(item["reported_at"])
    assert "id" not in item


def test_outsider_neither_lists_nor_counts_an_amber_incident(as_outsider, owner):
    report(owner)
    response = as_outsider.get("/incidents")
    assert response.status_code == 200
    assert response.body == {"count": 0, "items": []}


def test_green_incident_is_listed_for_every_member(as_outsider, owner):
    incident = report(owner, tlp="green")
    response = as_outsider.get("/incidents")
    assert [item["uuid"] for item in response.body["items"]] == [str(incident.uuid)]
    assert response.body["items"][0]["tlp"] == "TLP:GREEN"


def test_red_incident_is_seen_by_the_people_named_only(owner, recipient, outsider):
    incident = report(owner, tlp="red", named_people=[recipient.user])
    for member, count in [(owner, 1), (recipient, 1), (outsider, 0)]:
        assert Api(token_for(member)).get("/incidents").body["count"] == count
    named = Api(token_for(recipient)).get(f"/incidents/{incident.uuid}").body
    assert named["tlp"] == "TLP:RED"
    assert named["named_people"] == ["recipient"]


def test_list_filters_combine(as_owner, owner):
    first = report(owner, title="Ransomware at a hospital", severity=5, sectors=["health"])
    second = report(
        owner,
        title="Phishing of a bank",
        taxonomy_predicate="fraud",
        taxonomy_value="phishing",
        severity=2,
        tlp="green",
        sectors=["finance"],
        affected_states=["BR"],
    )
    cases = {
        "status=new": {first, second},
        "severity=5": {first},
        "tlp=green": {second},
        "tlp=TLP:GREEN": {second},
        "tlp=amber": {first},
        "affected_state=AR": {first},
        "affected_state=BR": {second},
        "affected_state=MX": set(),
        "sector=health": {first},
        "sector=finance": {second},
        "rsit=fraud": {second},
        "rsit=malicious-code:c2-server": {first},
        "rsit=malicious-code:infected-system": set(),
        "q=hospital": {first},
        "q=" + second.reference: {second},
        "severity=2&sector=finance": {second},
        "severity=5&sector=finance": set(),
    }
    for query, expected in cases.items():
        params = dict(pair.split("=", 1) for pair in query.split("&"))
        body = as_owner.get("/incidents", **params).body
        assert {item["reference"] for item in body["items"]} == {
            incident.reference for incident in expected
        }, query
        assert body["count"] == len(expected), query


def test_list_filters_by_report_time_after_inclusive_before_exclusive(as_owner, owner):
    incident = report(owner)
    at = incident.reported_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert as_owner.get("/incidents", reported_after=at).body["count"] == 1
    assert as_owner.get("/incidents", reported_before=at).body["count"] == 0
    later = (incident.reported_at + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    assert as_owner.get("/incidents", reported_before=later).body["count"] == 1
    assert as_owner.get("/incidents", reported_after=later).body["count"] == 0


def test_unknown_filter_answers_400_naming_it(as_owner, owner):
    response = as_owner.get("/incidents", colour="red", status="new")
    assert response.status_code == 400
    assert response.body["code"] == "unknown_parameter"
    assert response.body["detail"].startswith("Unknown query parameter: colour.")


def test_invalid_filter_value_answers_400_naming_the_filter(as_owner):
    for params, field in [
        ({"severity": "9"}, "severity"),
        ({"status": "open"}, "status"),
        ({"tlp": "purple"}, "tlp"),
        ({"affected_state": "Argentina"}, "affected_state"),
        ({"reported_after": "2026-01-01T00:00:00"}, "reported_after"),
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"offset": "-1"}, "offset"),
    ]:
        response = as_owner.get("/incidents", **params)
        assert response.status_code == 400, params
        assert response.body["code"] == "invalid"
        assert response.body["detail"].startswith(f"{field}: "), response.body


def test_list_pages_with_limit_and_offset_newest_first(as_owner, owner):
    incidents = [report(owner, title=f"Incident {number}") for number in range(3)]
    page = as_owner.get("/incidents", limit="2", offset="1").body
    assert page["count"] == 3
    assert [item["reference"] for item in page["items"]] == [
        incidents[1].reference,
        incidents[0].reference,
    ]


def test_list_costs_the_same_queries_for_one_incident_or_many(as_owner, owner, recipient):
    report(owner)
    with CaptureQueriesContext(connection) as one:
        assert as_owner.get("/incidents").body["count"] == 1
    for number in range(5):
        incident = report(owner, title=f"More {number}", affected_states=["AR", "BR", "CL"])
        Api(token_for(recipient)).post(f"/incidents/{incident.uuid}/acknowledge")
    with CaptureQueriesContext(connection) as six:
        assert as_owner.get("/incidents").body["count"] == 6
    assert len(six) == len(one)
    assert len(one) <= 10


def test_list_needs_a_token(directory):
    response = Api().get("/incidents")
    assert response.status_code == 401
    assert response.body["code"] == "not_authenticated"


# --- create --------------------------------------------------------------------------


def test_create_proposes_affected_states_from_the_observables(as_owner):
    response = as_owner.post("/incidents", NEW_INCIDENT)
    assert response.status_code == 201
    body = response.body
    incident = Incident.objects.get(uuid=body["uuid"])
    assert body["reference"] == incident.reference
    assert body["tlp"] == "TLP:AMBER"
    assert body["severity"] == 4
    assert [state["code"] for state in body["affected_states"]] == ["AR"]
    assert [p["organization"]["short_name"] for p in body["participants"]] == ["CERT.ar"]
    assert incident.observables.get().value == "190.210.0.1"


def test_create_with_empty_affected_states_addresses_nobody(as_owner):
    response = as_owner.post("/incidents", {**NEW_INCIDENT, "affected_states": []})
    assert response.status_code == 201
    assert response.body["affected_states"] == []
    assert response.body["participants"] == []


def test_create_uses_the_affected_states_given(as_owner):
    body = {
        **NEW_INCIDENT,
        "affected_states": ["BR"],
        "invited": ["CERT-MX"],
        "tlp": "TLP:AMBER+STRICT",
        "pap": "PAP:GREEN",
        "sectors": ["energy", "water"],
        "detected_at": "2026-01-02T03:04:05Z",
        "observables": ["190.210.0.1", {"type": "domain", "value": "Example.COM."}],
    }
    response = as_owner.post("/incidents", body)
    assert response.status_code == 201
    created = response.body
    assert [state["code"] for state in created["affected_states"]] == ["BR"]
    assert sorted(p["organization"]["short_name"] for p in created["participants"]) == [
        "CERT-MX",
        "CERT.br",
    ]
    assert created["tlp"] == "TLP:AMBER+STRICT"
    assert created["pap"] == "PAP:GREEN"
    assert created["sectors"] == ["energy", "water"]
    assert created["detected_at"] == "2026-01-02T03:04:05Z"
    values = set(Incident.objects.get(uuid=created["uuid"]).observables.values_list("value"))
    assert values == {("190.210.0.1",), ("example.com",)}


def test_invalid_body_answers_400_naming_the_field(as_owner):
    cases = [
        ({key: value for key, value in NEW_INCIDENT.items() if key != "title"}, "title"),
        ({**NEW_INCIDENT, "severity": 9}, "severity"),
        ({**NEW_INCIDENT, "tlp": "TLP:PURPLE"}, "tlp"),
        ({**NEW_INCIDENT, "colour": "red"}, "colour"),
        ({**NEW_INCIDENT, "sectors": ["space"]}, "sectors.0"),
        ({**NEW_INCIDENT, "detected_at": "2026-01-02T03:04:05"}, "detected_at"),
        ({**NEW_INCIDENT, "affected_states": ["ar"]}, "affected_states.0"),
        ({**NEW_INCIDENT, "affected_states": ["ZZ"]}, "affected_states"),
        ({**NEW_INCIDENT, "taxonomy_value": "no-such-type"}, "taxonomy"),
        ({**NEW_INCIDENT, "observables": ["not an observable"]}, "observables"),
        ({**NEW_INCIDENT, "invited": ["NO-SUCH-CSIRT"]}, "invited"),
        ({**NEW_INCIDENT, "named_people": ["nobody"]}, "named_people"),
        ({**NEW_INCIDENT, "detected_at": "2999-01-01T00:00:00Z"}, "detected_at"),
    ]
    for body, field in cases:
        response = as_owner.post("/incidents", body)
        assert response.status_code == 400, body
        assert response.body["code"] == "invalid"
        assert response.body["detail"].startswith(f"{field}: "), response.body
    assert not Incident.objects.exists()


def test_more_than_1000_observables_answers_400(as_owner):
    addresses = [f"10.0.{n // 256}.{n % 256}" for n in range(1001)]
    response = as_owner.post("/incidents", {**NEW_INCIDENT, "observables": addresses})
    assert response.status_code == 400
    assert response.body["detail"].startswith("observables: ")
    assert not Incident.objects.exists()


def test_create_needs_a_token(directory):
    assert Api().post("/incidents", NEW_INCIDENT).status_code == 401
    assert not Incident.objects.exists()


# --- read and edit -------------------------------------------------------------------


def test_participant_reads_the_incident(as_recipient, owner):
    incident = report(owner)
    response = as_recipient.get(f"/incidents/{incident.uuid}")
    assert response.status_code == 200
    assert response.body["title"] == "C2 server in Argentina"
    assert response.body["lead_organization"]["short_name"] == "CERTuy"


def test_outsider_gets_404_on_every_path_of_an_incident_it_cannot_see(as_outsider, owner):
    incident = report(owner)
    path = f"/incidents/{incident.uuid}"
    answers = [
        as_outsider.get(path),
        as_outsider.patch(path, {"title": "Mine now"}),
        as_outsider.post(path + "/status", {"status": "closed"}),
        as_outsider.get(path + "/timeline"),
        as_outsider.post(path + "/timeline", {"text": "hello"}),
        as_outsider.post(path + "/acknowledge"),
        as_outsider.get(path + "/observables"),
        as_outsider.post(path + "/observables", {"observables": ["198.51.100.7"]}),
    ]
    assert [answer.status_code for answer in answers] == [404] * 8
    assert [answer.body for answer in answers] == [
        as_outsider.get(f"/incidents/{UNKNOWN}").body
    ] * 8
    incident.refresh_from_db()
    assert (incident.title, incident.status) == ("C2 server in Argentina", "new")


def test_owner_edits_and_relabels(as_owner, owner):
    incident = report(owner)
    response = as_owner.patch(
        f"/incidents/{incident.uuid}",
        {"title": "C2 server, confirmed", "tlp": "green", "severity": 5, "detected_at": None},
    )
    assert response.status_code == 200
    assert response.body["title"] == "C2 server, confirmed"
    assert response.body["tlp"] == "TLP:GREEN"
    assert response.body["severity"] == 5
    incident.refresh_from_db()
    assert (incident.title, incident.tlp, incident.severity) == (
        "C2 server, confirmed",
        "green",
        5,
    )
    assert incident.timeline.filter(kind="label", old_value="amber", new_value="green").exists()


def test_owner_widens_the_audience_and_hands_over_the_lead(as_owner, owner):
    incident = report(owner)
    response = as_owner.patch(
        f"/incidents/{incident.uuid}",
        {"affected_states": ["BR"], "lead_organization": "CERT.ar", "sectors": ["water"]},
    )
    assert response.status_code == 200
    assert [state["code"] for state in response.body["affected_states"]] == ["AR", "BR"]
    assert sorted(p["organization"]["short_name"] for p in response.body["participants"]) == [
        "CERT.ar",
        "CERT.br",
    ]
    assert response.body["lead_organization"]["short_name"] == "CERT.ar"
    assert response.body["sectors"] == ["water"]


def test_participant_may_not_edit(as_recipient, owner):
    incident = report(owner)
    response = as_recipient.patch(f"/incidents/{incident.uuid}", {"title": "Changed"})
    assert response.status_code == 403
    assert response.body["code"] == "permission_denied"
    incident.refresh_from_db()
    assert incident.title == "C2 server in Argentina"


def test_invalid_patch_answers_400_naming_the_field(as_owner, owner):
    incident = report(owner)
    path = f"/incidents/{incident.uuid}"
    for body, field in [
        ({"reference": "INC-1"}, "reference"),
        ({"title": ""}, "title"),
        ({"title": None}, "title"),
        ({"sectors": None}, "sectors"),
        ({"lead_organization": "CERT-MX"}, "lead_organization"),
        ({"lead_organization": "NO-SUCH"}, "lead_organization"),
    ]:
        response = as_owner.patch(path, body)
        assert response.status_code == 400, body
        assert response.body["detail"].startswith(f"{field}: "), response.body
    incident.refresh_from_db()
    assert incident.title == "C2 server in Argentina"


# --- status --------------------------------------------------------------------------


def test_owner_moves_the_incident_along_the_workflow(as_owner, owner):
    incident = report(owner)
    path = f"/incidents/{incident.uuid}/status"
    assert as_owner.post(path, {"status": "triaged"}).body["status"] == "triaged"
    resolved = as_owner.post(path, {"status": "resolved", "note": "Taken down."}).body
    assert resolved["status"] == "resolved"
    assert _is_utc(resolved["resolved_at"])
    assert incident.timeline.filter(kind="status", text="Taken down.").exists()


def test_illegal_transition_answers_409(as_owner, owner):
    incident = report(owner)
    path = f"/incidents/{incident.uuid}/status"
    as_owner.post(path, {"status": "closed"})
    response = as_owner.post(path, {"status": "triaged"})
    assert response.status_code == 409
    assert response.body == {
        "detail": "An incident cannot go from Closed to Triaged.",
        "code": "illegal_transition",
    }
    incident.refresh_from_db()
    assert incident.status == "closed"


def test_unknown_status_answers_400(as_owner, owner):
    incident = report(owner)
    response = as_owner.post(f"/incidents/{incident.uuid}/status", {"status": "done"})
    assert response.status_code == 400
    assert response.body["detail"].startswith("status: ")


def test_participant_that_does_not_lead_may_not_change_status(as_recipient, owner):
    incident = report(owner)
    response = as_recipient.post(f"/incidents/{incident.uuid}/status", {"status": "triaged"})
    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.status == "new"


# --- timeline and acknowledgement ----------------------------------------------------


def test_participant_comments_and_everyone_addressed_reads_the_timeline(
    as_owner, as_recipient, owner
):
    incident = report(owner)
    path = f"/incidents/{incident.uuid}/timeline"
    created = as_recipient.post(path, {"text": "  Seen from Buenos Aires.  "})
    assert created.status_code == 201
    assert created.body["kind"] == "comment"
    assert created.body["text"] == "Seen from Buenos Aires."
    assert created.body["author"] == "recipient"
    assert created.body["organization"]["short_name"] == "CERT.ar"
    timeline = as_owner.get(path).body
    kinds = [entry["kind"] for entry in timeline["items"]]
    assert kinds[0] == "created"
    assert kinds[-1] == "comment"
    assert timeline["count"] == len(kinds)
    assert all(_is_utc(entry["created_at"]) for entry in timeline["items"])
    assert as_owner.get(path, limit="1", offset="1").body["items"] == timeline["items"][1:2]


def test_empty_comment_answers_400(as_owner, owner):
    incident = report(owner)
    for text in ["", "   "]:
        response = as_owner.post(f"/incidents/{incident.uuid}/timeline", {"text": text})
        assert response.status_code == 400
        assert response.body["detail"].startswith("text: ")


def test_timeline_refuses_unknown_parameters(as_owner, owner):
    incident = report(owner)
    response = as_owner.get(f"/incidents/{incident.uuid}/timeline", kind="comment")
    assert response.status_code == 400
    assert response.body["code"] == "unknown_parameter"


def test_participant_acknowledges_once(as_recipient, owner):
    incident = report(owner)
    path = f"/incidents/{incident.uuid}/acknowledge"
    first = as_recipient.post(path)
    assert first.status_code == 200
    assert first.body["organization"]["short_name"] == "CERT.ar"
    assert first.body["reason"] == "affected_state"
    assert _is_utc(first.body["acknowledged_at"])
    participation = Participation.objects.get(incident=incident)
    elapsed = participation.acknowledged_at - participation.notified_at
    assert first.body["time_to_acknowledge_seconds"] == int(elapsed.total_seconds())
    assert as_recipient.post(path).body == first.body
    listed = as_recipient.get(f"/incidents/{incident.uuid}").body
    assert listed["acknowledged_at"] == first.body["acknowledged_at"]
    assert listed["participants"][0]["acknowledged_at"] == first.body["acknowledged_at"]


def test_time_to_acknowledge_counts_whole_seconds(as_recipient, owner):
    incident = report(owner)
    earlier = timezone.now() - timedelta(hours=2, seconds=5)
    Participation.objects.filter(incident=incident).update(notified_at=earlier)
    body = as_recipient.post(f"/incidents/{incident.uuid}/acknowledge").body
    assert 7205 <= body["time_to_acknowledge_seconds"] <= 7205 + 60


def test_owner_is_not_a_participant_and_may_not_acknowledge(as_owner, owner):
    incident = report(owner)
    response = as_owner.post(f"/incidents/{incident.uuid}/acknowledge")
    assert response.status_code == 403
    assert response.body["code"] == "permission_denied"


# --- observables ---------------------------------------------------------------------


def test_observables_are_listed_with_their_routing(as_recipient, owner):
    incident = report(owner, observables=["190.210.0.1", "d41d8cd98f00b204e9800998ecf8427e"])
    body = as_recipient.get(f"/incidents/{incident.uuid}/observables").body
    assert body["count"] == 2
    by_type = {item["type"]: item for item in body["items"]}
    assert by_type["ipv4"]["value"] == "190.210.0.1"
    assert by_type["ipv4"]["country"] == "AR"
    assert by_type["ipv4"]["routed_to"]["short_name"] == "CERT.ar"
    assert by_type["ipv4"]["added_by"] == "owner"
    assert by_type["md5"]["country"] is None
    assert by_type["md5"]["routed_to"] is None


def test_participant_adds_observables_and_gets_only_the_new_ones(as_recipient, owner):
    incident = report(owner)
    path = f"/incidents/{incident.uuid}/observables"
    body = {"observables": ["190.210.0.1", {"type": "url", "value": "HTTP://Evil.example/x"}]}
    response = as_recipient.post(path, body)
    assert response.status_code == 201
    assert response.body["count"] == 1
    assert response.body["items"][0]["value"] == "http://evil.example/x"
    assert response.body["items"][0]["added_by"] == "recipient"
    again = as_recipient.post(path, body)
    assert again.body == {"count": 0, "items": []}
    assert incident.observables.count() == 2


def test_invalid_observable_answers_400_and_adds_nothing(as_owner, owner):
    incident = report(owner)
    path = f"/incidents/{incident.uuid}/observables"
    for body, field in [
        ({"observables": ["198.51.100.7", "no such thing"]}, "observables"),
        ({"observables": []}, "observables"),
        ({"observables": [{"type": "ipv4", "value": "example.com"}]}, "observables"),
        ({"observables": [{"type": "colour", "value": "red"}]}, "observables.0"),
    ]:
        response = as_owner.post(path, body)
        assert response.status_code == 400, body
        assert response.body["detail"].startswith(f"{field}"), response.body
    assert incident.observables.count() == 1


# --- affected states -----------------------------------------------------------------


def test_affected_states_are_proposed_with_the_values_placed_there(as_owner):
    body = {"observables": ["190.210.0.1", "d41d8cd98f00b204e9800998ecf8427e"]}
    response = as_owner.post("/affected-states", body)
    assert response.status_code == 200
    assert response.body == {
        "items": [
            {
                "code": "AR",
                "name_en": "Argentina",
                "name_es": "Argentina",
                "values": ["190.210.0.1"],
            }
        ]
    }


def test_affected_states_refuse_invalid_observables(as_owner):
    response = as_owner.post("/affected-states", {"observables": ["not an observable"]})
    assert response.status_code == 400
    assert response.body["detail"].startswith("observables: ")


def test_sector_values_of_the_api_are_the_directorys():
    from csirtnet.incidents.schemas import IncidentIn

    schema = IncidentIn.model_json_schema()
    assert schema["$defs"]["Sector"]["enum"] == list(Sector.values)


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("post", "/incidents", {**NEW_INCIDENT, "detected_at": "0001-01-01T00:00:00+14:00"}),
        ("post", "/incidents", {**NEW_INCIDENT, "title": "a\u0000b"}),
        ("post", "/incidents", {**NEW_INCIDENT, "title": "a\u001b[31mb"}),
        ("post", "/incidents", {**NEW_INCIDENT, "observables": ["\u0000"]}),
        ("get", "/incidents", {"reported_after": "0001-01-01T00:00:00+14:00"}),
        ("get", "/incidents", {"reported_before": "9999-12-31T23:59:59-14:00"}),
        ("get", "/incidents", {"offset": "99999999999999999999999"}),
        ("get", "/incidents", {"q": "\u0000"}),
    ],
)
def test_out_of_range_times_nul_and_control_characters_answer_400(as_owner, method, path, payload):
    response = as_owner.get(path, **payload) if method == "get" else as_owner.post(path, payload)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert "function-" not in body["detail"]
    assert Incident.objects.count() == 0


def test_named_people_only_on_red_incidents(as_owner, recipient):
    response = as_owner.post(
        "/incidents", {**NEW_INCIDENT, "tlp": "amber", "named_people": ["recipient"]}
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("named_people:")


def test_document_gives_the_incident_statuses_not_another_apps_status():
    from csirtnet.incidents.models import Status
    from tests.api.client import openapi

    incident = openapi()["components"]["schemas"]["IncidentOut"]["properties"]["status"]
    assert incident["enum"] == list(Status.values)


def test_incident_list_validates_although_another_app_has_a_status(as_owner, owner):
    report(owner, title="Status in the document")
    statuses = {item["status"] for item in as_owner.get("/incidents").body["items"]}
    assert statuses == {"new"}
