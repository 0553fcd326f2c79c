"""The incident pages: list, export, report, detail, edit, timeline actions, escalation."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from csirtnet.accounts.models import Membership
from csirtnet.directory.models import MemberState, Organization
from csirtnet.incidents import services
from csirtnet.incidents.models import (
    EntryKind,
    Incident,
    Participation,
    Status,
    TimelineEntry,
)
from csirtnet.incidents.templatetags.incident_tags import duration
from csirtnet.sharing.tlp import TLP
from tests.incidents.factories import (
    AttachmentFactory,
    IncidentFactory,
    ObservableFactory,
    TimelineEntryFactory,
)
from tests.reports.factories import EventFactory

pytestmark = pytest.mark.django_db

AR_ADDRESS = "190.210.0.1"  # LACNIC: Argentina (CERT.ar)
UY_ADDRESS = "200.7.84.1"  # LACNIC: Uruguay (CERTuy)
LIST = reverse("incidents:list")
CREATE = reverse("incidents:create")
EXPORT = reverse("incidents:export")
ESCALATE = reverse("incidents:escalate")


@pytest.fixture(autouse=True)
def _quiet_outbox(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Queue no e-mail; keep attachments in a temporary folder, up to 1 MiB each."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    settings.VAR_DIR = tmp_path
    settings.CSIRTNET_ATTACHMENT_MAX_BYTES = 1024 * 1024


def _org(short_name: str) -> Organization:
    return Organization.objects.get(short_name=short_name)


def _signed_in(client, member):  # type: ignore[no-untyped-def]
    client.force_login(member.user)
    return client


def _incident_of(member, **fields):  # type: ignore[no-untyped-def]
    """An incident reported by `member` for its organization."""
    return IncidentFactory(owner=member.organization, author=member.user, **fields)


def _shared_with(owner, recipient, **fields):  # type: ignore[no-untyped-def]
    """An AMBER incident of `owner` with `recipient`'s organization as a participant."""
    return _incident_of(owner, recipient_organizations=[recipient.organization], **fields)


def _url(name: str, incident: Incident, *args: object) -> str:
    return reverse(f"incidents:{name}", args=[incident.uuid, *args])


def _listed(response) -> set:  # type: ignore[no-untyped-def]
    return {incident.uuid for incident in response.context["page_obj"]}


def _without_tokens(response) -> str:  # type: ignore[no-untyped-def]
    """The page without what differs on every request: CSRF tokens and the requested path."""
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return text.replace(response.request["PATH_INFO"], "")


def _report_form(**fields: object) -> dict[str, object]:
    data: dict[str, object] = {
        "title": "Botnet C2 in two states",
        "description": "Seen from two ASNs.",
        "rsit": "malicious-code:c2-server",
        "severity": "3",
        "tlp": TLP.AMBER,
        "pap": "amber",
        "observables": f"{AR_ADDRESS}\n\nevil.example.com\n",
        "affected_states": ["AR"],
    }
    data.update(fields)
    return data


def _csv_rows(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


# --- list ------------------------------------------------------------------------------


def test_list_shows_the_incidents_the_actor_sees_and_not_the_others(
    client, owner, recipient, outsider
):
    mine = _incident_of(owner, title="Ours")
    shared = _shared_with(outsider, owner, title="Shared with us")
    _incident_of(outsider, title="Mexican secret")
    green = _incident_of(recipient, tlp=TLP.GREEN, title="For every member")
    response = _signed_in(client, owner).get(LIST)
    assert response.status_code == 200
    assert _listed(response) == {mine.uuid, shared.uuid, green.uuid}
    assert b"Mexican secret" not in response.content


def test_list_counts_come_from_the_visible_set(client, owner, outsider):
    _incident_of(owner, status=Status.NEW)
    _incident_of(owner, status=Status.CLOSED)
    _incident_of(outsider, status=Status.NEW)
    _incident_of(outsider, status=Status.NEW, tlp=TLP.RED)
    counts = _signed_in(client, owner).get(LIST).context["counts"]
    assert counts["total"] == Incident.objects.visible_to(owner).count() == 2
    per_status = {value: count for value, _label, count in counts["statuses"]}
    assert per_status[Status.NEW] == 1
    assert per_status[Status.CLOSED] == 1


def test_list_marks_incidents_awaiting_the_organizations_acknowledgement(client, owner, recipient):
    waiting = _shared_with(owner, recipient, title="Please acknowledge")
    done = _shared_with(owner, recipient)
    Participation.objects.filter(incident=done).update(acknowledged_at=timezone.now())
    response = _signed_in(client, recipient).get(LIST)
    rows = {incident.uuid: incident.is_awaiting for incident in response.context["page_obj"]}
    assert rows == {waiting.uuid: True, done.uuid: False}
    assert response.context["counts"]["awaiting"] == 1
    assert b"badge-pending" in response.content
    assert _listed(client.get(LIST, {"awaiting": "on"})) == {waiting.uuid}


def test_navigation_shows_the_count_awaiting_acknowledgement(client, owner, recipient):
    _shared_with(owner, recipient)
    _shared_with(owner, recipient)
    content = _signed_in(client, recipient).get(reverse("reports:inbox")).content.decode()
    assert re.search(r'<span class="nav-count"[^>]*>2</span>', content)
    assert 'class="nav-count"' not in _signed_in(client, owner).get(LIST).content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "triaged"}, "triaged"),
        ({"tlp": "green"}, "green"),
        ({"severity": "5"}, "critical"),
        ({"state": "BR"}, "brazil"),
        ({"sector": "health"}, "health"),
        ({"taxonomy": "fraud"}, "phishing"),
        ({"q": "ransomware"}, "ransomware"),
        ({"q": "INC-2026-1"}, "reference"),
        ({"q": "2001:0db8:0000::0001"}, "observable"),
    ],
)
def test_list_filters(client, owner, query, expected):
    brazil = MemberState.objects.get(code="BR")
    made = {
        "triaged": _incident_of(owner, status=Status.TRIAGED),
        "green": _incident_of(owner, tlp=TLP.GREEN),
        "critical": _incident_of(owner, severity=5),
        "brazil": _incident_of(owner, affected_states=[brazil]),
        "health": _incident_of(owner, sectors=["healthcare-x", "health"]),
        "phishing": _incident_of(owner, taxonomy_predicate="fraud", taxonomy_value="phishing"),
        "ransomware": _incident_of(owner, description="Ransomware at the port authority"),
        "reference": _incident_of(owner, reference="INC-2026-123456"),
        "observable": _incident_of(owner),
    }
    ObservableFactory(incident=made["observable"], type="ipv6", value="2001:db8::1")
    _incident_of(owner, sectors=["healthcare-x"])
    response = _signed_in(client, owner).get(LIST, query)
    assert _listed(response) == {made[expected].uuid}


def test_invalid_filter_lists_nothing_and_says_why(client, owner):
    _incident_of(owner)
    response = _signed_in(client, owner).get(LIST, {"severity": "9"})
    assert response.context["form"].errors["severity"]
    assert _listed(response) == set()


def test_list_query_count_does_not_grow_with_incidents(
    client, owner, recipient, django_assert_num_queries
):
    brazil = MemberState.objects.get(code="BR")
    _shared_with(recipient, owner, affected_states=[brazil])
    client = _signed_in(client, owner)
    with CaptureQueriesContext(connection) as few:
        client.get(LIST)
    for _ in range(25):
        _shared_with(recipient, owner, affected_states=[brazil])
    # session, user, membership, nav count, states, counts, page count, page, its states
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(LIST)
    assert len(response.context["page_obj"]) == 26
    assert len(few.captured_queries) <= 9


def test_list_pages_by_fifty(client, owner):
    for _ in range(51):
        _incident_of(owner)
    client = _signed_in(client, owner)
    assert client.get(LIST).context["page_obj"].paginator.num_pages == 2
    assert len(client.get(LIST, {"page": 2}).context["page_obj"]) == 1


def test_user_without_organization_gets_a_friendly_list_page(client, directory):
    user = get_user_model().objects.create_user(username="lonely", password="pw-lonely")
    client.force_login(user)
    response = client.get(LIST)
    assert response.status_code == 403
    assert b"Your account has no organization" in response.content
    assert client.get(CREATE).status_code == 404


# --- export ----------------------------------------------------------------------------


def test_export_escapes_formulas_and_leaves_out_tlp_red(client, owner):
    _incident_of(owner, title="=cmd|' /C calc'!A0", reference="INC-2026-000001")
    _incident_of(owner, title="Secret", tlp=TLP.RED, reference="INC-2026-000002")
    response = _signed_in(client, owner).get(EXPORT)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="incidents-TLP-AMBER.csv"'
    rows = _csv_rows(response)
    assert rows[0][:4] == ["reference", "tlp", "pap", "title"]
    assert [row[0] for row in rows[1:]] == ["INC-2026-000001"]
    assert rows[1][1] == "TLP:AMBER"
    assert rows[1][3] == "'=cmd|' /C calc'!A0"
    assert b"Secret" not in response.content


def test_export_is_labelled_with_the_strictest_label_of_its_rows(client, owner):
    _incident_of(owner, tlp=TLP.GREEN)
    _incident_of(owner, tlp=TLP.AMBER_STRICT)
    response = _signed_in(client, owner).get(EXPORT)
    assert 'filename="incidents-TLP-AMBER+STRICT.csv"' in response["Content-Disposition"]
    green_only = client.get(EXPORT, {"tlp": "green"})
    assert 'filename="incidents-TLP-GREEN.csv"' in green_only["Content-Disposition"]


def test_export_keeps_the_filters_and_the_visibility(client, owner, outsider):
    _incident_of(owner, title="Ours", severity=4)
    _incident_of(owner, title="Ours too", severity=1)
    _incident_of(outsider, title="Theirs", severity=4)
    response = _signed_in(client, owner).get(EXPORT, {"severity": "4"})
    titles = [row[3] for row in _csv_rows(response)[1:]]
    assert titles == ["Ours"]


def test_export_writes_utf8(client, owner):
    _incident_of(owner, title="Intrusión en la Intendencia")
    response = _signed_in(client, owner).get(EXPORT)
    assert response.content.startswith("\ufeff".encode())
    assert "Intrusión en la Intendencia" in response.content.decode("utf-8")


# --- report ----------------------------------------------------------------------------


def test_report_form_offers_rsit_groups_states_and_other_member_organizations(client, owner):
    response = _signed_in(client, owner).get(CREATE)
    assert response.status_code == 200
    form = response.context["form"]
    assert "CERTuy" not in {org.short_name for org in form.fields["invited"].queryset}
    assert "CERT.ar" in {org.short_name for org in form.fields["invited"].queryset}
    content = response.content.decode()
    assert '<option value="malicious-code:c2-server"' in content
    assert "<optgroup" in content
    assert "Critical infrastructure disrupted in more than one state" in content
    assert "TLP:AMBER+STRICT" in content


def test_reporting_creates_the_incident_and_opens_it(client, owner, recipient):
    response = _signed_in(client, owner).post(CREATE, _report_form())
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _url("detail", incident)
    assert incident.owner == owner.organization
    assert incident.taxonomy_predicate == "malicious-code"
    assert incident.taxonomy_value == "c2-server"
    assert list(incident.affected_states.values_list("code", flat=True)) == ["AR"]
    assert set(incident.observables.values_list("value", flat=True)) == {
        AR_ADDRESS,
        "evil.example.com",
    }
    assert list(incident.participations.values_list("organization", flat=True)) == [
        recipient.organization.pk
    ]


def test_the_reporter_decides_the_affected_states(client, owner):
    _signed_in(client, owner).post(CREATE, _report_form(affected_states=[]))
    assert not Incident.objects.get().affected_states.exists()


def test_invited_organizations_and_named_people_reach_the_service(
    client, owner, recipient, outsider
):
    client = _signed_in(client, owner)
    form = _report_form(
        tlp=TLP.RED,
        affected_states=[],
        invited=[outsider.organization.pk],
        named_people=[recipient.user.pk],
    )
    assert client.post(CREATE, form).status_code == 302
    incident = Incident.objects.get()
    assert list(incident.recipient_people.all()) == [recipient.user]
    assert list(incident.recipient_organizations.all()) == [outsider.organization]


def test_named_people_need_tlp_red(client, owner, recipient):
    response = _signed_in(client, owner).post(
        CREATE, _report_form(named_people=[recipient.user.pk])
    )
    assert response.status_code == 200
    assert response.context["form"].errors["named_people"]
    assert not Incident.objects.exists()


def test_invalid_report_comes_back_with_errors_per_field_and_line(client, owner):
    form = _report_form(title="", rsit="nonsense:value", observables="evil.example.com\nnot an ip")
    response = _signed_in(client, owner).post(CREATE, form)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"title", "rsit", "observables"}
    assert errors["observables"][0].startswith("Line 2: ")
    assert b"not an ip" in response.content  # the reporter's text is kept
    assert not Incident.objects.exists()


def test_service_errors_go_back_into_the_form(client, owner):
    tomorrow = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")
    response = _signed_in(client, owner).post(CREATE, _report_form(detected_at=tomorrow))
    assert response.status_code == 200
    assert response.context["form"].errors["detected_at"] == [
        "Give a time with its zone, not in the future."
    ]
    assert not Incident.objects.exists()


def test_propose_button_checks_the_states_the_observables_point_to(client, owner):
    form = _report_form(
        title="", observables=f"{AR_ADDRESS}\n{UY_ADDRESS}\nd41d8cd98f00b204e9800998ecf8427e",
        affected_states=["MX"], propose="1",
    )  # fmt: skip
    response = _signed_in(client, owner).post(CREATE, form)
    assert response.status_code == 200
    assert not Incident.objects.exists()
    proposed = response.context["form"]
    assert [(p.state.code, p.values) for p in proposed.proposals] == [
        ("AR", (AR_ADDRESS,)),
        ("UY", (UY_ADDRESS,)),
    ]
    assert not proposed.errors  # the missing title is not reported yet
    content = response.content.decode()
    for code in ("AR", "UY", "MX"):
        assert re.search(rf'value="{code}"[^>]*checked', content)
    assert not re.search(r'value="BR"[^>]*checked', content)
    assert AR_ADDRESS in content
    assert "d41d8cd98f00b204e9800998ecf8427e" in content  # the textarea keeps its text


def test_propose_button_shows_a_bad_observable_line(client, owner):
    response = _signed_in(client, owner).post(
        CREATE, _report_form(observables="190.210.0.1\n<script>", propose="1")
    )
    errors = response.context["form"].errors
    assert list(errors) == ["observables"]
    assert errors["observables"][0].startswith("Line 2: ")
    assert b"<script>" not in response.content


# --- detail ----------------------------------------------------------------------------


def test_detail_shows_the_incident_to_a_participant(client, owner, recipient):
    incident = _shared_with(
        owner, recipient, title="C2 in AR", sectors=["health"], tlp=TLP.AMBER_STRICT
    )
    ObservableFactory(incident=incident, value=AR_ADDRESS, country="AR")
    AttachmentFactory(incident=incident, name="capture.pcap")
    TimelineEntryFactory(incident=incident, text="First line\nsecond line")
    response = _signed_in(client, recipient).get(_url("detail", incident))
    assert response.status_code == 200
    content = response.content.decode()
    for text in (
        "C2 in AR", "TLP:AMBER+STRICT", "PAP:AMBER", "C2 Server", "Health", "CERT.ar",
        AR_ADDRESS, "capture.pcap", "First line<br>second line",
        "One organization affected; services degraded briefly",
    ):  # fmt: skip
        assert text in content
    assert response.context["pending"].organization == recipient.organization
    assert _url("acknowledge", incident) in content
    assert _url("edit", incident) not in content  # only the owner edits


def test_detail_of_a_hidden_incident_answers_404_like_a_random_uuid(client, owner, outsider):
    theirs = _incident_of(outsider)
    client = _signed_in(client, owner)
    hidden = client.get(_url("detail", theirs))
    missing = client.get(reverse("incidents:detail", args=[uuid.uuid4()]))
    assert hidden.status_code == missing.status_code == 404
    assert _without_tokens(hidden) == _without_tokens(missing)


def test_tlp_red_incident_is_hidden_from_the_authors_colleagues(client, owner, directory):
    incident = _incident_of(owner, tlp=TLP.RED)
    colleague = get_user_model().objects.create_user(username="colleague")
    Membership.objects.create(user=colleague, organization=owner.organization)
    client.force_login(colleague)
    assert client.get(_url("detail", incident)).status_code == 404
    client.force_login(owner.user)
    assert client.get(_url("detail", incident)).status_code == 200


def test_timeline_text_and_title_render_inert(client, owner):
    script = "<script>alert(1)</script>"
    incident = _incident_of(owner, title=script, description=script)
    TimelineEntryFactory(incident=incident, text=script)
    ObservableFactory(incident=incident, type="url", value=f"http://x.example/{script}")
    client = _signed_in(client, owner)
    for response in (client.get(_url("detail", incident)), client.get(LIST)):
        assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in response.content
        assert b"<script>alert" not in response.content


def test_participant_times_and_time_to_acknowledge(client, owner, recipient):
    incident = _shared_with(owner, recipient)
    Participation.objects.filter(incident=incident).update(
        acknowledged_at=incident.reported_at + timedelta(hours=2, minutes=5, seconds=30)
    )
    response = _signed_in(client, owner).get(_url("detail", incident))
    assert "2 h 05 min" in response.content.decode()
    assert "2026-03-14 11:05:30 UTC" in response.content.decode()


@pytest.mark.parametrize(
    ("delta", "shown"),
    [
        (timedelta(seconds=20), "< 1 min"),
        (timedelta(minutes=7, seconds=59), "7 min"),
        (timedelta(hours=2, minutes=5), "2 h 05 min"),
        (timedelta(days=3, hours=4, minutes=9), "3 d 04 h"),
        (None, ""),
    ],
)
def test_durations_read_like_a_handler_writes_them(delta, shown):
    assert duration(delta) == shown


# --- edit ------------------------------------------------------------------------------


def test_owner_edits_and_adds_an_invited_organization(client, owner, recipient, outsider):
    incident = _shared_with(owner, recipient)
    client = _signed_in(client, owner)
    page = client.get(_url("edit", incident))
    assert page.status_code == 200
    form = page.context["form"]
    assert form["title"].value() == incident.title
    assert "CERT.ar" not in {org.short_name for org in form.fields["invited"].queryset}
    data = _report_form(
        title="Renamed", affected_states=[], invited=[outsider.organization.pk],
        lead_organization=owner.organization.pk,
    )  # fmt: skip
    del data["observables"]
    response = client.post(_url("edit", incident), data)
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.title == "Renamed"
    assert set(incident.recipient_organizations.values_list("short_name", flat=True)) == {
        "CERT.ar",
        "CERT-MX",
    }
    kinds = set(incident.timeline.values_list("kind", flat=True))
    assert {EntryKind.EDITED, EntryKind.PARTICIPANT} <= kinds


def test_edit_errors_go_back_into_the_form(client, owner):
    incident = _incident_of(owner)
    data = _report_form(title="", lead_organization=owner.organization.pk)
    response = _signed_in(client, owner).post(_url("edit", incident), data)
    assert response.status_code == 200
    assert "title" in response.context["form"].errors


def test_a_participant_may_not_edit_and_an_outsider_finds_nothing(
    client, owner, recipient, outsider
):
    incident = _shared_with(owner, recipient)
    assert _signed_in(client, recipient).get(_url("edit", incident)).status_code == 403
    assert _signed_in(client, outsider).get(_url("edit", incident)).status_code == 404
    assert _signed_in(client, outsider).post(_url("edit", incident), {}).status_code == 404


# --- timeline actions ------------------------------------------------------------------


def test_participant_comments_on_the_timeline(client, owner, recipient):
    incident = _shared_with(owner, recipient)
    response = _signed_in(client, recipient).post(
        _url("comment", incident), {"text": "We see it too."}
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#timeline")
    entry = incident.timeline.get(kind=EntryKind.COMMENT)
    assert (entry.text, entry.organization) == ("We see it too.", recipient.organization)


def test_blank_comment_comes_back_with_an_error(client, owner):
    incident = _incident_of(owner)
    response = _signed_in(client, owner).post(_url("comment", incident), {"text": "   "})
    assert response.status_code == 200
    assert response.context["comment_form"].errors["text"]
    assert not incident.timeline.exists()


def test_a_member_who_only_sees_a_green_incident_may_not_comment(client, owner, outsider):
    incident = _incident_of(owner, tlp=TLP.GREEN)
    response = _signed_in(client, outsider).post(_url("comment", incident), {"text": "Hi"})
    assert response.status_code == 403


def test_owner_changes_the_status_with_a_note(client, owner):
    incident = _incident_of(owner)
    response = _signed_in(client, owner).post(
        _url("status", incident), {"status": "triaged", "note": "Confirmed."}
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == Status.TRIAGED
    entry = incident.timeline.get(kind=EntryKind.STATUS)
    assert (entry.old_value, entry.new_value, entry.text) == ("new", "triaged", "Confirmed.")


def test_status_form_offers_the_allowed_moves_only(client, owner):
    incident = _incident_of(owner, status=Status.CLOSED)
    client = _signed_in(client, owner)
    form = client.get(_url("detail", incident)).context["status_form"]
    assert [value for value, _label in form.fields["status"].choices] == ["in_progress"]
    response = client.post(_url("status", incident), {"status": "resolved"})
    assert response.status_code == 200
    assert response.context["status_form"].errors["status"]


def test_a_participant_may_not_change_the_status(client, owner, recipient):
    incident = _shared_with(owner, recipient)
    response = _signed_in(client, recipient).post(_url("status", incident), {"status": "closed"})
    assert response.status_code == 403


def test_participant_acknowledges_and_the_page_shows_it(client, owner, recipient):
    incident = _shared_with(owner, recipient)
    client = _signed_in(client, recipient)
    response = client.post(_url("acknowledge", incident))
    assert response.status_code == 302
    participation = Participation.objects.get(incident=incident)
    assert participation.acknowledged_by == recipient.user
    page = client.get(_url("detail", incident))
    assert page.context["pending"] is None
    assert _url("acknowledge", incident) not in page.content.decode()
    assert "acknowledged the incident" in page.content.decode()


def test_acknowledge_answers_404_to_an_outsider_and_403_to_the_owner(
    client, owner, recipient, outsider
):
    incident = _shared_with(owner, recipient)
    assert _signed_in(client, outsider).post(_url("acknowledge", incident)).status_code == 404
    assert _signed_in(client, owner).post(_url("acknowledge", incident)).status_code == 403
    assert not Participation.objects.filter(acknowledged_at__isnull=False).exists()


def test_participant_adds_observables_and_bad_lines_come_back(client, owner, recipient):
    incident = _shared_with(owner, recipient)
    client = _signed_in(client, recipient)
    added = client.post(_url("observables", incident), {"observables": f"{UY_ADDRESS}\nAS7303"})
    assert added.status_code == 302
    assert set(incident.observables.values_list("type", "value")) == {
        ("ipv4", UY_ADDRESS),
        ("asn", "7303"),
    }
    refused = client.post(_url("observables", incident), {"observables": "ok.example\n\n#bad"})
    assert refused.context["observables_form"].errors["observables"][0].startswith("Line 3: ")


def test_attachment_is_uploaded_and_only_ever_downloaded(client, owner, recipient):
    incident = _shared_with(owner, recipient)
    upload = SimpleUploadedFile("page.html", b"<script>alert(1)</script>", "text/html")
    client = _signed_in(client, recipient)
    response = client.post(_url("attachment_upload", incident), {"file": upload})
    assert response.status_code == 302
    stored = incident.attachments.get()
    assert (stored.name, stored.size, stored.organization) == (
        "page.html",
        25,
        recipient.organization,
    )
    download = _signed_in(client, owner).get(_url("attachment", incident, stored.uuid))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Disposition"].startswith("attachment;")
    assert 'filename="page.html"' in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == b"<script>alert(1)</script>"


@pytest.mark.parametrize(
    ("content", "error"),
    [(b"", "The submitted file is empty."), (b"x" * 11, "Files are limited to 10 bytes.")],
)
def test_empty_or_large_upload_comes_back_with_an_error(client, owner, settings, content, error):
    settings.CSIRTNET_ATTACHMENT_MAX_BYTES = 10
    incident = _incident_of(owner)
    response = _signed_in(client, owner).post(
        _url("attachment_upload", incident), {"file": SimpleUploadedFile("a.txt", content)}
    )
    assert response.status_code == 200
    assert response.context["attachment_form"].errors["file"] == [error]
    assert not incident.attachments.exists()


def test_attachment_of_a_hidden_incident_answers_404(client, owner, outsider):
    incident = _incident_of(owner)
    services.add_attachment(
        actor=owner, incident=incident, name="a.txt", content=io.BytesIO(b"secret")
    )
    stored = incident.attachments.get()
    other = _incident_of(outsider)
    client = _signed_in(client, outsider)
    assert client.get(_url("attachment", incident, stored.uuid)).status_code == 404
    # the attachment under an incident the outsider does see: still 404
    assert client.get(_url("attachment", other, stored.uuid)).status_code == 404
    post = client.post(
        _url("attachment_upload", incident), {"file": SimpleUploadedFile("b", b"x")}
    )
    assert post.status_code == 404


@pytest.mark.parametrize("name", ["comment", "status", "observables", "attachment_upload"])
def test_actions_on_a_hidden_incident_answer_404(client, owner, outsider, name):
    incident = _incident_of(owner)
    response = _signed_in(client, outsider).post(_url(name, incident), {"text": "x"})
    assert response.status_code == 404
    assert not TimelineEntry.objects.exists()


@pytest.mark.parametrize("name", ["comment", "status", "acknowledge", "observables"])
def test_actions_refuse_get(client, owner, name):
    incident = _incident_of(owner)
    assert _signed_in(client, owner).get(_url(name, incident)).status_code == 405


# --- escalation ------------------------------------------------------------------------


def test_escalation_form_is_prefilled_from_the_events(client, owner):
    first = EventFactory(organization=owner.organization, tlp=TLP.AMBER)
    second = EventFactory(organization=owner.organization, tlp=TLP.AMBER_STRICT)
    response = _signed_in(client, owner).get(ESCALATE, {"events": [first.uuid, second.uuid]})
    assert response.status_code == 200
    form = response.context["form"]
    assert form["rsit"].value() == "vulnerable:vulnerable-system"
    assert form["tlp"].value() == TLP.AMBER_STRICT
    assert len(response.context["events"]) == 2


def test_escalation_creates_an_incident_with_the_events_observables(client, owner, recipient):
    events = [
        EventFactory(organization=owner.organization, source_ip=AR_ADDRESS, asn=7303),
        EventFactory(organization=owner.organization, source_ip=UY_ADDRESS, asn=None),
    ]
    client = _signed_in(client, owner)
    page = client.get(ESCALATE, {"events": [event.uuid for event in events]})
    assert page.context["form"].initial["affected_states"] == ["AR", "UY"]  # to confirm
    data = {
        "events": [event.uuid for event in events], "target": "new",
        "title": "NTP amplifiers", "rsit": "vulnerable:ddos-amplifier", "severity": "2",
        "tlp": "amber", "affected_states": ["AR"],
    }  # fmt: skip
    response = client.post(ESCALATE, data)
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _url("detail", incident)
    assert set(incident.events.all()) == set(events)
    assert set(incident.observables.values_list("value", flat=True)) == {
        AR_ADDRESS,
        UY_ADDRESS,
        "7303",
    }
    assert list(incident.affected_states.values_list("code", flat=True)) == ["AR"]


def test_escalation_adds_events_to_an_incident_the_actor_takes_part_in(client, owner, recipient):
    incident = _shared_with(recipient, owner)
    _incident_of(recipient, title="Not ours to add to")
    event = EventFactory(organization=owner.organization, source_ip=AR_ADDRESS)
    client = _signed_in(client, owner)
    page = client.get(ESCALATE, {"events": [event.uuid]})
    assert list(page.context["form"].fields["incident"].queryset) == [incident]
    data = {"events": [event.uuid], "target": "existing", "incident": incident.uuid}
    response = client.post(ESCALATE, {**data, "severity": "2", "tlp": "amber"})
    assert response.status_code == 302
    assert list(incident.events.all()) == [event]
    assert incident.timeline.filter(kind=EntryKind.ESCALATED).exists()


def test_escalation_needs_a_title_for_a_new_incident(client, owner):
    event = EventFactory(organization=owner.organization)
    data = {"events": [event.uuid], "target": "new", "rsit": "", "severity": "2", "tlp": "amber"}
    response = _signed_in(client, owner).post(ESCALATE, data)
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"title", "rsit"}
    assert not Incident.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_escalating_an_event_of_another_organization_answers_404(client, owner, outsider, method):
    mine = EventFactory(organization=owner.organization)
    theirs = EventFactory(organization=outsider.organization)
    data = {"events": [mine.uuid, theirs.uuid], "target": "new", "title": "x"}
    response = getattr(_signed_in(client, owner), method)(ESCALATE, data)
    assert response.status_code == 404
    assert _signed_in(client, owner).get(ESCALATE, {"events": "not-a-uuid"}).status_code == 404
    assert not Incident.objects.exists()


def test_escalating_nothing_says_so(client, owner):
    response = _signed_in(client, owner).get(ESCALATE)
    assert response.status_code == 400
    assert b"Select at least one event" in response.content


def test_inbox_offers_to_escalate_its_events(client, owner):
    event = EventFactory(organization=owner.organization)
    content = _signed_in(client, owner).get(reverse("reports:inbox")).content.decode()
    assert f'action="{ESCALATE}"' in content
    assert f'name="events" value="{event.uuid}"' in content


# --- access, language, safe methods ----------------------------------------------------


@pytest.mark.parametrize("name", ["list", "export", "create", "escalate"])
def test_anonymous_visitor_is_sent_to_the_login_page(client, directory, name):
    response = client.get(reverse(f"incidents:{name}"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", ["detail", "edit", "acknowledge", "comment"])
def test_anonymous_visitor_is_sent_to_the_login_page_from_an_incident(client, owner, name):
    response = client.post(_url(name, _incident_of(owner)))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_pages_never_write_on_get(client, owner, recipient):
    incident = _shared_with(owner, recipient)
    stored = AttachmentFactory(incident=incident)
    event = EventFactory(organization=recipient.organization)
    client = _signed_in(client, recipient)
    urls = [
        LIST, EXPORT, CREATE, f"{ESCALATE}?events={event.uuid}", _url("detail", incident),
        _url("attachment", incident, stored.uuid), reverse("reports:inbox"),
    ]  # fmt: skip
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        writes = [
            query["sql"]
            for query in queries.captured_queries
            if query["sql"].lstrip().split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}
        ]
        assert writes == [], url
    assert Participation.objects.get(incident=incident).acknowledged_at is None


def test_pages_speak_spanish_and_keep_the_labels(client, owner):
    incident = _incident_of(owner, tlp=TLP.AMBER_STRICT)
    client = _signed_in(client, owner)
    for url in (LIST, CREATE, _url("detail", incident)):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="es")
        assert response.status_code == 200
        assert response["Content-Language"] == "es"
        assert b"TLP:AMBER+STRICT" in response.content
        assert b'lang="es"' in response.content


def test_reported_at_is_shown_in_utc(client, owner):
    incident = _incident_of(owner, reported_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    response = _signed_in(client, owner).get(_url("detail", incident))
    assert '<time datetime="2026-01-02T03:04:05Z">' in response.content.decode()


@pytest.mark.parametrize("value", ["99999999999999999999999", "9223372036854775808", "-1"])
def test_out_of_range_ids_in_the_form_are_a_field_error_not_a_crash(client, owner, value):
    response = _signed_in(client, owner).post(
        CREATE,
        {
            "title": "Overflow", "rsit": "malicious-code:c2-server", "severity": "3",
            "tlp": "amber", "pap": "amber", "observables": "190.210.0.1",
            "invited": value, "save": "1",
        },
    )  # fmt: skip
    assert response.status_code == 200
    assert "invited" in response.context["form"].errors
    assert not Incident.objects.exists()
