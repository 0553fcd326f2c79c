"""The assistance pages: boxes with clocks, the form per type, the request page, answers."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from csirtnet.assistance import services
from csirtnet.assistance.kinds import RequestType
from csirtnet.assistance.models import AssistanceRequest, HistoryKind, Priority, Status
from csirtnet.assistance.views import TZ_COOKIE
from csirtnet.directory.models import Organization
from tests.assistance.factories import VALID_DETAILS, signed_in

pytestmark = pytest.mark.django_db

INBOX = reverse("assistance:inbox")
OUTBOX = reverse("assistance:outbox")
CREATE = reverse("assistance:create")


def ask(actor, requested="CERT.ar", request_type=RequestType.TAKEDOWN, **fields):
    target = (
        requested
        if isinstance(requested, Organization)
        else (Organization.objects.get(short_name=requested))
    )
    values = {"title": "Phishing kit", "details": dict(VALID_DETAILS[request_type])}
    values.update(fields)
    return services.create_request(
        actor=actor, request_type=request_type, requested=target, **values
    )


def detail(item):
    return reverse("assistance:detail", args=[item.uuid])


def act(item, action):
    return reverse("assistance:act", args=[item.uuid, action])


def test_anonymous_visitors_are_sent_to_sign_in(client, owner):
    item = ask(owner)
    for url in (INBOX, OUTBOX, CREATE, detail(item)):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login" in response["Location"] or "login" in response["Location"]
    assert client.post(act(item, "withdraw")).status_code == 302
    item.refresh_from_db()
    assert item.status == Status.SENT


def test_inbox_and_outbox_list_each_side_with_its_clock(client, owner, recipient):
    overdue = ask(owner, title="Overdue one", now=timezone.now() - timedelta(days=40))
    fresh = ask(owner, title="Fresh one", priority=Priority.EMERGENCY)
    response = signed_in(client, recipient).get(INBOX)
    assert response.status_code == 200
    assert {item.uuid for item in response.context["page_obj"]} == {overdue.uuid, fresh.uuid}
    text = response.content.decode()
    assert '<span class="bad">overdue by' in text
    assert "left" in text
    assert client.get(OUTBOX).context["page_obj"].paginator.count == 0
    response = signed_in(client, owner).get(OUTBOX)
    assert response.context["page_obj"].paginator.count == 2


def test_boxes_filter_by_status_priority_and_type(client, owner, recipient):
    ask(owner, priority=Priority.URGENT)
    ask(owner, request_type=RequestType.INFORMATION)
    signed_in(client, recipient)
    assert client.get(INBOX, {"priority": "urgent"}).context["page_obj"].paginator.count == 1
    assert client.get(INBOX, {"type": "information"}).context["page_obj"].paginator.count == 1
    assert client.get(INBOX, {"status": "declined"}).context["page_obj"].paginator.count == 0


def test_the_form_shows_only_the_fields_of_the_chosen_type(client, owner):
    signed_in(client, owner)
    choose = client.get(CREATE)
    assert choose.status_code == 200
    offered = dict(choose.context["form"].fields["type"].choices)
    assert RequestType.TAKEDOWN in offered and RequestType.PRESERVATION not in offered
    page = client.get(CREATE, {"type": "sinkhole"})
    text = page.content.decode()
    assert 'name="detail_domains"' in text and 'name="detail_target"' not in text


def test_a_csirt_asking_for_a_law_enforcement_form_gets_the_type_choice_again(client, owner):
    response = signed_in(client, owner).get(CREATE, {"type": RequestType.PRESERVATION})
    assert response.status_code == 200
    assert "detail_data_to_preserve" not in response.content.decode()
    assert response.context["form"].errors


def test_sending_a_request_from_the_form_opens_it(client, owner, recipient):
    signed_in(client, owner)
    data = {
        "requested": Organization.objects.get(short_name="CERT.ar").pk,
        "title": "Takedown of a phishing page",
        "priority": "urgent",
        "tlp": "amber",
        "legal_basis": "CICTE declaration (2016), clause 15",
        "detail_target": "https://phish.example.com.ar/",
        "detail_grounds": "Imitates a bank.",
        "send": "1",
    }
    response = client.post(f"{CREATE}?type=takedown", data)
    created = AssistanceRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == detail(created)
    assert created.status == Status.SENT
    assert created.details == {"target": "https://phish.example.com.ar/",
                               "grounds": "Imitates a bank."}  # fmt: skip


def test_form_errors_come_back_on_their_fields(client, owner):
    signed_in(client, owner)
    data = {
        "requested": Organization.objects.get(short_name="CERT.ar").pk,
        "title": "Bad\u202etitle",
        "priority": "urgent",
        "tlp": "amber",
        "legal_basis": "x",
        "detail_target": "",
        "detail_grounds": "Imitates a bank.",
    }
    response = client.post(f"{CREATE}?type=takedown", data)
    assert response.status_code == 200
    assert "detail_target" in response.context["form"].errors
    response = client.post(f"{CREATE}?type=takedown", {**data, "detail_target": "a\x1bb"})
    assert {"title", "detail_target"} <= set(response.context["form"].errors)
    assert not AssistanceRequest.objects.exists()


def test_the_request_page_shows_fields_history_actions_and_the_evidence_place(
    client, owner, recipient
):
    item = ask(owner)
    response = signed_in(client, recipient).get(detail(item))
    assert response.status_code == 200
    text = response.content.decode()
    assert "https://phish.example.com.ar/login" in text
    assert 'id="evidence"' in text and 'id="history"' in text
    assert [a.name for a in response.context["actions"]] == ["acknowledge", "accept", "decline"]


def test_times_follow_the_viewers_time_zone_cookie(client, owner, recipient):
    item = ask(owner)
    signed_in(client, recipient)
    response = client.post(
        reverse("assistance:time_zone"), {"tz": "America/Sao_Paulo", "next": detail(item)}
    )
    assert response.status_code == 302 and response["Location"] == detail(item)
    assert client.cookies[TZ_COOKIE].value == "America/Sao_Paulo"
    text = client.get(detail(item)).content.decode()
    local = timezone.localtime(item.sent_at, timezone=__import__("zoneinfo").ZoneInfo(
        "America/Sao_Paulo"))  # fmt: skip
    assert local.strftime("%Y-%m-%d %H:%M") + " -03" in text
    client.post(reverse("assistance:time_zone"), {"tz": "Mars/Olympus", "next": "//evil.example"})
    assert client.cookies[TZ_COOKIE].value == "America/Sao_Paulo"


def test_the_requested_organization_acknowledges_and_declines_with_a_reason(
    client, owner, recipient
):
    item = ask(owner)
    signed_in(client, recipient)
    assert client.post(act(item, "acknowledge")).status_code == 302
    refused = client.post(act(item, "decline"), {"reason": ""})
    assert refused.status_code == 400
    assert client.post(act(item, "decline"), {"reason": "Not our mandate."}).status_code == 302
    item.refresh_from_db()
    assert item.status == Status.DECLINED and item.decline_reason == "Not our mandate."
    assert item.history.filter(kind=HistoryKind.TRANSITION).count() == 3


def test_an_illegal_move_comes_back_on_the_page_and_the_wrong_party_gets_403(
    client, owner, recipient
):
    item = ask(owner)
    signed_in(client, recipient)
    assert client.post(act(item, "fulfil")).status_code == 400
    assert client.post(act(item, "withdraw")).status_code == 403
    assert client.post(act(item, "explode")).status_code == 404
    item.refresh_from_db()
    assert item.status == Status.SENT


def test_outsiders_and_missing_requests_answer_404(client, owner, outsider):
    item = ask(owner)
    signed_in(client, outsider)
    assert client.get(detail(item)).status_code == 404
    assert client.post(act(item, "withdraw")).status_code == 404
    missing = reverse("assistance:detail", args=[uuid.uuid4()])
    assert client.get(missing).status_code == 404
    assert client.get(INBOX).context["page_obj"].paginator.count == 0


def test_a_csirt_cannot_see_a_law_enforcement_request_even_as_secretariat_is_allowed(
    client, owner, officer_ar, officer_br, secretariat_member
):
    item = ask(officer_ar, requested=officer_br.organization,
               request_type=RequestType.PRESERVATION)  # fmt: skip
    assert signed_in(client, owner).get(detail(item)).status_code == 404
    assert signed_in(client, officer_br).get(detail(item)).status_code == 200
    assert signed_in(client, secretariat_member).get(detail(item)).status_code == 200


def test_the_pages_render_in_spanish_and_the_menu_links_to_assistance(client, owner, recipient):
    ask(owner)
    signed_in(client, recipient)
    with translation.override("es"):
        response = client.get(INBOX, HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 200
    assert 'href="/assistance/"' in client.get(reverse("incidents:list")).content.decode()


def test_the_secretariat_watches_every_sent_request_but_no_draft(
    client, owner, recipient, secretariat_member
):
    sent = ask(owner)
    ask(owner, send=False)
    listed = signed_in(client, secretariat_member).get(reverse("assistance:all"))
    assert [item.uuid for item in listed.context["page_obj"]] == [sent.uuid]
    assert client.get(INBOX).context["page_obj"].paginator.count == 0
    mine = signed_in(client, owner).get(reverse("assistance:all"))
    assert mine.context["page_obj"].paginator.count == 2


def test_the_linked_incident_is_linked_only_for_who_sees_it(client, owner, recipient):
    from tests.incidents.factories import IncidentFactory

    incident = IncidentFactory(owner=owner.organization, reference="INC-2026-777777")
    item = ask(owner, incident=incident)
    assert "INC-2026-777777" in signed_in(client, owner).get(detail(item)).content.decode()
    assert "INC-2026-777777" not in signed_in(client, recipient).get(detail(item)).content.decode()


def test_a_refused_move_gets_a_403_page_about_the_request_not_incidents(client, owner, recipient):
    item = ask(owner)
    signed_in(client, recipient)
    with translation.override("en"):
        response = client.post(act(item, "withdraw"), headers={"Accept-Language": "en"})
    assert response.status_code == 403
    text = response.content.decode()
    assert (
        "You can see this request, but your organization may not do what you asked: the "
        "requesting organization sends and withdraws it; the requested organization "
        "acknowledges, accepts, declines and answers it."
    ) in text
    assert "incident" not in text.lower().split("<main", 1)[-1].split("</main>", 1)[0]


@pytest.mark.parametrize(
    "name", ["localtime", "Factory", "posixrules", "posix/America/Bogota", "EST+5", "<-03>3"]
)
def test_the_time_zone_form_refuses_names_that_are_no_iana_zone(name):
    from csirtnet.assistance.forms import TimeZoneForm

    form = TimeZoneForm({"tz": name})
    assert not form.is_valid()
    assert form.errors["tz"] == ["Choose a time zone from the list (e.g. America/Bogota)."]


@pytest.mark.parametrize("name", ["UTC", "America/Bogota", "America/Argentina/Buenos_Aires"])
def test_the_time_zone_form_takes_iana_names(name):
    from csirtnet.assistance.forms import TimeZoneForm

    form = TimeZoneForm({"tz": name})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["tz"] == name


def test_localtime_is_neither_stored_nor_read_from_the_cookie(client, owner, recipient):
    item = ask(owner)
    signed_in(client, recipient)
    client.post(reverse("assistance:time_zone"), {"tz": "localtime", "next": detail(item)})
    assert TZ_COOKIE not in client.cookies
    client.cookies[TZ_COOKIE] = "localtime"
    response = client.get(detail(item))
    assert response.context["viewer_zone"].key == "UTC"
