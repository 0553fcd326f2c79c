"""The report pages: inbox, event, report, overview; visibility, filters, escaping, language."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from csirtnet.directory.models import Organization, RouteRule
from csirtnet.reports.models import DigestStatus, RejectedRow
from tests.reports.factories import DigestFactory, EventFactory, ReportFactory

pytestmark = pytest.mark.django_db

INBOX = reverse("reports:inbox")
OVERVIEW = reverse("reports:overview")


def _org(short_name: str) -> Organization:
    return Organization.objects.get(short_name=short_name)


def _event_of(member, **fields):  # type: ignore[no-untyped-def]
    """An event routed to `member`'s organization."""
    return EventFactory(organization=member.organization, **fields)


def _signed_in(client, member):  # type: ignore[no-untyped-def]
    client.force_login(member.user)
    return client


def _without_tokens(response) -> str:  # type: ignore[no-untyped-def]
    """The page without what differs on every request: CSRF tokens and the requested path."""
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return text.replace(response.request["PATH_INFO"], "")


def _listed(response) -> set:  # type: ignore[no-untyped-def]
    return {event.uuid for event in response.context["page_obj"]}


def test_owner_sees_its_own_events_and_not_the_outsiders(client, owner, outsider):
    mine = _event_of(owner, hostname="mine.example.uy")
    _event_of(outsider, hostname="theirs.example.mx")
    response = _signed_in(client, owner).get(INBOX)
    assert response.status_code == 200
    assert _listed(response) == {mine.uuid}
    assert b"mine.example.uy" in response.content
    assert b"theirs.example.mx" not in response.content


def test_event_page_shows_the_owners_event(client, owner):
    event = _event_of(owner, hostname="ntp.example.uy", raw={"ip": "192.0.2.7", "tag": "ntp"})
    response = _signed_in(client, owner).get(reverse("reports:event_detail", args=[event.uuid]))
    assert response.status_code == 200
    assert b"ntp.example.uy" in response.content
    assert b"TLP:AMBER" in response.content
    assert b"CERTuy" in response.content


def test_event_of_another_organization_answers_404_like_a_random_uuid(client, owner, outsider):
    theirs = _event_of(outsider)
    client = _signed_in(client, owner)
    hidden = client.get(reverse("reports:event_detail", args=[theirs.uuid]))
    missing = client.get(reverse("reports:event_detail", args=[uuid.uuid4()]))
    assert hidden.status_code == missing.status_code == 404
    assert _without_tokens(hidden) == _without_tokens(missing)


def test_secretariat_sees_every_event_and_the_overview(
    client, owner, outsider, secretariat_member
):
    events = {_event_of(owner).uuid, _event_of(outsider).uuid}
    client = _signed_in(client, secretariat_member)
    assert _listed(client.get(INBOX)) == events
    response = client.get(OVERVIEW)
    assert response.status_code == 200
    states = {row.state.code for row in response.context["table"]["rows"]}
    assert states == {"UY", "MX"}
    assert response.context["table"]["total"] == 2


def test_overview_counts_states_by_taxonomy_and_the_unrouted_queue(client, secretariat_member):
    cicte = secretariat_member.organization
    EventFactory.create_batch(2, organization=_org("CERTuy"), taxonomy="vulnerable")
    EventFactory(organization=_org("CERTuy"), taxonomy="malicious-code")
    EventFactory(organization=cicte, route_rule=RouteRule.UNROUTED, taxonomy="vulnerable")
    response = _signed_in(client, secretariat_member).get(OVERVIEW)
    table = response.context["table"]
    assert [value for value, _label in table["columns"]] == ["malicious-code", "vulnerable"]
    assert [(row.label, row.cells) for row in table["rows"]][0] == ("Uruguay", [1, 2])
    assert table["column_totals"] == [1, 3]
    assert response.context["unrouted_count"] == 1
    assert f'{INBOX}?route_rule=unrouted"'.encode() in response.content
    assert table["state_count"] == 1  # Uruguay; the secretariat's row is not a state


def test_overview_lists_recent_reports_with_digest_counts(client, secretariat_member):
    report = ReportFactory(file_name="scan_rdp.csv", rows_read_count=7, rejected_count=1)
    DigestFactory(report=report, organization=_org("CERTuy"), status=DigestStatus.SENT)
    DigestFactory(report=report, organization=_org("CERT-MX"), status=DigestStatus.FAILED)
    response = _signed_in(client, secretariat_member).get(OVERVIEW)
    listed = response.context["reports"][0]
    assert (listed.digests_sent, listed.digests_failed, listed.digests_pending) == (1, 1, 0)
    assert b"scan_rdp.csv" in response.content


def test_overview_answers_404_to_a_national_csirt(client, owner):
    assert _signed_in(client, owner).get(OVERVIEW).status_code == 404


@pytest.mark.parametrize("name", ["reports:inbox", "reports:overview"])
def test_anonymous_visitor_is_sent_to_the_login_page(client, directory, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_anonymous_visitor_is_sent_to_the_login_page_from_an_event(client, owner):
    response = client.get(reverse("reports:event_detail", args=[_event_of(owner).uuid]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_home_redirects_to_the_inbox(client, owner):
    response = _signed_in(client, owner).get("/")
    assert response.status_code == 302
    assert response["Location"] == INBOX


def test_user_without_organization_gets_a_friendly_page(client, directory):
    user = get_user_model().objects.create_user(username="lonely", password="pw-lonely")
    client.force_login(user)
    response = client.get(INBOX)
    assert response.status_code == 403
    assert b"Your account has no organization" in response.content


def test_filter_by_report_type_and_taxonomy(client, owner):
    ntp = _event_of(owner, report_type="scan_ntp", taxonomy="vulnerable")
    sinkhole = _event_of(owner, report_type="event4_sinkhole", taxonomy="malicious-code")
    client = _signed_in(client, owner)
    assert _listed(client.get(INBOX, {"report_type": "scan_ntp"})) == {ntp.uuid}
    assert _listed(client.get(INBOX, {"taxonomy": "malicious-code"})) == {sinkhole.uuid}


def test_report_type_choices_come_from_the_visible_events_only(client, owner, outsider):
    _event_of(owner, report_type="scan_ntp")
    _event_of(outsider, report_type="scan_secret_mx")
    response = _signed_in(client, owner).get(INBOX)
    choices = [value for value, _label in response.context["form"].fields["report_type"].choices]
    assert choices == ["", "scan_ntp"]
    assert b"scan_secret_mx" not in response.content


def test_filter_by_date_range_includes_both_whole_utc_days(client, owner):
    day = datetime(2025, 3, 10, tzinfo=UTC)
    before = _event_of(owner, observed_at=day - timedelta(seconds=1))
    first = _event_of(owner, observed_at=day)
    last = _event_of(owner, observed_at=day + timedelta(days=1, hours=23, minutes=59))
    after = _event_of(owner, observed_at=day + timedelta(days=2))
    response = _signed_in(client, owner).get(
        INBOX, {"observed_from": "2025-03-10", "observed_to": "2025-03-11"}
    )
    assert _listed(response) == {first.uuid, last.uuid}
    assert {before.uuid, after.uuid}.isdisjoint(_listed(response))


def test_the_last_representable_day_is_a_valid_end_of_range(client, owner):
    event = _event_of(owner)
    response = _signed_in(client, owner).get(
        INBOX, {"observed_from": "0001-01-01", "observed_to": "9999-12-31"}
    )
    assert response.status_code == 200
    assert _listed(response) == {event.uuid}


def test_reversed_date_range_is_an_error_and_lists_nothing(client, owner):
    _event_of(owner)
    response = _signed_in(client, owner).get(
        INBOX, {"observed_from": "2025-03-11", "observed_to": "2025-03-10"}
    )
    assert response.context["form"].errors["observed_to"]
    assert _listed(response) == set()


def test_filter_by_report_uuid_from_the_digest_link(client, owner):
    report = ReportFactory(file_name="scan_rdp.csv")
    DigestFactory(report=report, organization=owner.organization)
    inside = _event_of(owner, report=report)
    _event_of(owner)
    response = _signed_in(client, owner).get(INBOX, {"report": str(report.uuid)})
    assert _listed(response) == {inside.uuid}
    assert b"scan_rdp.csv" in response.content


def test_filter_by_a_hidden_report_is_refused(client, owner, outsider):
    theirs = ReportFactory(submitted_by=outsider.organization)
    response = _signed_in(client, owner).get(INBOX, {"report": str(theirs.uuid)})
    assert "report" in response.context["form"].errors
    assert _listed(response) == set()


def test_text_search_matches_an_exact_ip_or_part_of_hostname_or_url(client, owner):
    by_ip = _event_of(owner, source_ip="198.51.100.23", hostname="")
    by_host = _event_of(owner, source_ip=None, hostname="mail.Intendencia.gub.uy")
    by_url = _event_of(owner, source_ip=None, url="http://bad.example/payload.exe")
    _event_of(owner, source_ip="198.51.100.230", hostname="other.example")
    client = _signed_in(client, owner)
    assert _listed(client.get(INBOX, {"q": "198.51.100.23"})) == {by_ip.uuid}
    assert _listed(client.get(INBOX, {"q": "intendencia"})) == {by_host.uuid}
    assert _listed(client.get(INBOX, {"q": "PAYLOAD.exe"})) == {by_url.uuid}


def test_text_search_finds_an_ipv6_address_in_any_notation(client, owner):
    event = _event_of(owner, source_ip="2001:db8::1")
    response = _signed_in(client, owner).get(INBOX, {"q": "2001:0db8:0000::0001"})
    assert _listed(response) == {event.uuid}


def test_unrouted_filter_is_offered_to_the_secretariat_only(client, owner, secretariat_member):
    queued = EventFactory(organization=secretariat_member.organization, route_rule="unrouted")
    EventFactory(organization=owner.organization)
    response = _signed_in(client, secretariat_member).get(INBOX, {"route_rule": "unrouted"})
    assert _listed(response) == {queued.uuid}
    owner_page = _signed_in(client, owner).get(INBOX)
    assert "route_rule" not in owner_page.context["form"].fields


def test_inbox_pages_by_fifty_and_links_keep_the_filters(client, owner):
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for minute in range(120):
        _event_of(owner, observed_at=start + timedelta(minutes=minute), report_type="scan_ntp")
    client = _signed_in(client, owner)
    first = client.get(INBOX, {"report_type": "scan_ntp"})
    assert first.context["page_obj"].paginator.num_pages == 3
    assert b"report_type=scan_ntp&amp;page=2" in first.content
    assert first.context["page_obj"][0].observed_at == start + timedelta(minutes=119)
    third = client.get(INBOX, {"report_type": "scan_ntp", "page": 3})
    assert len(third.context["page_obj"]) == 20


def test_inbox_query_count_does_not_grow_with_events(
    client, owner, secretariat_member, django_assert_max_num_queries
):
    reports = ReportFactory.create_batch(3)
    for index in range(40):
        EventFactory(organization=owner.organization, report=reports[index % 3])
    client = _signed_in(client, secretariat_member)
    # session, user, membership, report-type choices, count, page of events, and the
    # navigation's count of incidents awaiting acknowledgement
    with django_assert_max_num_queries(7):
        response = client.get(INBOX)
    assert len(response.context["page_obj"]) == 40


def test_script_in_hostname_raw_row_and_file_name_renders_inert(client, owner):
    script = "<script>alert(1)</script>"
    report = ReportFactory(file_name=script, submitted_by=owner.organization)
    event = _event_of(
        owner, report=report, hostname=script, url=script, raw={script: script, "x": [script]}
    )
    client = _signed_in(client, owner)
    for response in (
        client.get(INBOX),
        client.get(INBOX, {"report": str(report.uuid)}),
        client.get(reverse("reports:event_detail", args=[event.uuid])),
        client.get(reverse("reports:report_detail", args=[report.uuid])),
    ):
        assert response.status_code == 200
        assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in response.content
        assert b"<script>alert" not in response.content


def test_report_page_shows_submitter_the_counts_and_rejected_rows(client, owner, recipient):
    report = ReportFactory(submitted_by=owner.organization, rows_read_count=9, rejected_count=1)
    RejectedRow.objects.create(report=report, line=4, reason="no address, hostname or URL")
    DigestFactory(report=report, organization=recipient.organization, event_count=3)
    response = _signed_in(client, owner).get(reverse("reports:report_detail", args=[report.uuid]))
    assert response.status_code == 200
    assert b"no address, hostname or URL" in response.content
    assert b"CERT.ar" in response.content


def test_report_page_shows_a_receiving_organization_only_its_digest(
    client, owner, recipient, outsider
):
    report = ReportFactory(submitted_by=owner.organization)
    RejectedRow.objects.create(report=report, line=4, reason="no address, hostname or URL")
    DigestFactory(report=report, organization=recipient.organization, event_count=3)
    DigestFactory(report=report, organization=outsider.organization, event_count=5)
    url = reverse("reports:report_detail", args=[report.uuid])
    response = _signed_in(client, recipient).get(url)
    assert [d.organization for d in response.context["digests"]] == [recipient.organization]
    assert b"no address, hostname or URL" not in response.content
    assert b"CERT-MX" not in response.content


def test_report_page_of_an_unrelated_report_answers_404(client, owner, outsider):
    theirs = ReportFactory(submitted_by=outsider.organization)
    url = reverse("reports:report_detail", args=[theirs.uuid])
    assert _signed_in(client, owner).get(url).status_code == 404


def test_inbox_speaks_spanish_to_a_spanish_browser(client, owner):
    _event_of(owner)
    response = _signed_in(client, owner).get(INBOX, HTTP_ACCEPT_LANGUAGE="es")
    assert "Bandeja de entrada" in response.content.decode()
    assert b"TLP:AMBER" in response.content


def test_inbox_speaks_spanish_after_switching_the_language(client, owner):
    client = _signed_in(client, owner)
    switched = client.post(reverse("set_language"), {"language": "es", "next": INBOX})
    assert switched.status_code == 302
    content = client.get(INBOX, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Bandeja de entrada" in content
    assert "Cerrar sesión" in content


def test_login_page_offers_the_language_switcher_when_signed_out(client, directory):
    response = client.post(reverse("set_language"), {"language": "es", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert "Iniciar sesión" in client.get(reverse("login")).content.decode()


def test_healthz_answers_without_login(client, db):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_inbox_pages_stop_at_the_newest_events_and_say_so(client, owner, monkeypatch):
    monkeypatch.setattr("csirtnet.reports.views.MAX_INBOX_PAGES", 2)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for minute in range(120):
        _event_of(owner, observed_at=start + timedelta(minutes=minute))
    client = _signed_in(client, owner)
    response = client.get(INBOX, {"page": 999})
    assert response.context["page_obj"].paginator.num_pages == 2
    assert response.context["page_obj"].number == 2
    assert response.context["page_obj"][0].observed_at == start + timedelta(minutes=69)
    assert b"The newest 100 events" in response.content


def test_a_red_event_shows_only_to_the_people_its_report_names(client, owner, secretariat_member):
    from tests.conftest import _member

    colleague = _member("colleague", "CERTuy")
    other_secretariat = _member("other-secretariat", "CICTE")
    report = ReportFactory(tlp="red")
    report.recipient_people.set([owner.user, secretariat_member.user])
    DigestFactory(report=report, organization=owner.organization)
    red = _event_of(owner, report=report, tlp="red", hostname="red.example.uy")
    amber = _event_of(owner, hostname="amber.example.uy")
    page = reverse("reports:event_detail", args=[red.uuid])
    for member, sees in [
        (owner, True),
        (secretariat_member, True),
        (colleague, False),
        (other_secretariat, False),
    ]:
        signed_in = _signed_in(client, member)
        assert _listed(signed_in.get(INBOX)) == ({red.uuid, amber.uuid} if sees else {amber.uuid})
        assert signed_in.get(page).status_code == (200 if sees else 404)
        report_page = reverse("reports:report_detail", args=[report.uuid])
        assert signed_in.get(report_page).status_code == (200 if sees else 404)
        client.logout()
    from csirtnet.core.models import AuditEntry

    reads = AuditEntry.objects.filter(action="report.read", target_id=str(report.uuid))
    assert sorted(reads.values_list("username", flat=True)) == ["owner", "secretariat"]
