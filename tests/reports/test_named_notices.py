"""
The people a TLP:RED report names: each who sees some of its events gets one notice
without content (a `Digest` row with `user`), sent once through the digest outbox.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.db import connections

from csirtnet.directory.models import Organization
from csirtnet.reports.delivery import (
    DeliveryOutcome,
    build_digest_message,
    deliver_pending_digests,
)
from csirtnet.reports.models import Digest, DigestStatus, Event, Report
from csirtnet.reports.services import add_named_person_digests
from csirtnet.reports.tasks import deliver_digest
from csirtnet.sharing.tlp import TLP
from tests.reports.factories import EventFactory, ReportFactory

SITE = "https://csirtnet.example"
# The notice's subject in Spanish, the first language of CERTuy's and CICTE's contacts.
SUBJECT_ES = "[TLP:RED] csirtnet: un informe dirigido a usted personalmente"
HEADER = (
    '"timestamp","ip","protocol","port","hostname","tag","asn","geo","region","city",'
    '"clk_wander","refid","stratum"\n'
)
# (address, hostname): two in Uruguay (CERTuy), one in Mexico (CERT-MX); by RIR data
ROWS = [
    ("45.6.248.10", "ntp-one.victim.example"),
    ("45.6.248.11", "ntp-two.victim.example"),
    ("187.189.9.10", "ntp-three.victim.example"),
]


def _red_file(tmp_path: Path) -> Path:
    path = tmp_path / "scan_ntp.csv"
    lines = [
        f'"2026-01-0{n} 00:00:00",{ip},udp,123,{host},ntpversion,64512,ZZ,Region,City,0.1,x,2\n'
        for n, (ip, host) in enumerate(ROWS, start=1)
    ]
    path.write_text(HEADER + "".join(lines))
    return path


def _with_email(membership):  # type: ignore[no-untyped-def]
    user = membership.user
    user.email = f"{user.username}@people.example"
    user.save(update_fields=["email"])
    return membership


@pytest.fixture
def people(directory, owner, recipient, secretariat_member, settings):  # type: ignore[no-untyped-def]
    """CERTuy's owner (has events), CERT.ar's recipient (none), a secretariat member."""
    settings.CSIRTNET_SITE_URL = SITE + "/"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return {m.user.username: _with_email(m) for m in (owner, recipient, secretariat_member)}


def _ingest_red(path: Path, capture, settings) -> Report:  # type: ignore[no-untyped-def]
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with capture(execute=True):
        call_command(
            "ingest", str(path), "--tlp", "red", "--no-progress",
            "--to", "owner", "--to", "recipient", "--to", "secretariat",
        )  # fmt: skip
    return Report.objects.get()


def _assert_no_event_content(message) -> None:  # type: ignore[no-untyped-def]
    text = "\n".join([message.subject, message.body])
    for value in (*(ip for ip, _h in ROWS), *(host for _ip, host in ROWS), "victim", "ntp"):
        assert value not in text
    assert message.attachments == []


@pytest.mark.django_db
def test_a_red_report_tells_each_person_named_who_sees_its_events_once_without_content(
    people, tmp_path, django_capture_on_commit_callbacks, settings
):
    report = _ingest_red(_red_file(tmp_path), django_capture_on_commit_callbacks, settings)
    assert dict(Event.objects.values_list("source_ip", "organization__short_name")) == {
        "45.6.248.10": "CERTuy",
        "45.6.248.11": "CERTuy",
        "187.189.9.10": "CERT-MX",
    }

    # one notice each for the owner (2 events) and the secretariat member (all 3); the
    # recipient's organization received none of them: nothing for the recipient
    assert sorted(m.to[0] for m in mail.outbox) == [
        "owner@people.example",
        "secretariat@people.example",
    ]
    rows = Digest.objects.filter(report=report, user__isnull=False)
    assert {(d.user.username, d.organization.short_name, d.event_count) for d in rows} == {
        ("owner", "CERTuy", 2),
        ("secretariat", "CICTE", 3),
    }
    assert {d.status for d in rows} == {DigestStatus.SENT}
    # the organizations' digests stay withheld, as every TLP:RED digest
    organizations = Digest.objects.filter(report=report, user__isnull=True)
    assert organizations.count() == 2
    assert {d.status for d in organizations} == {DigestStatus.WITHHELD}

    link = f"{SITE}/reports/reports/{report.uuid}/"
    for message in mail.outbox:
        digest = rows.get(user__email=message.to[0])
        # in the language of the person's organization (CERTuy's and CICTE's: Spanish)
        assert message.subject == SUBJECT_ES
        assert message.body.startswith("TLP:RED\n")
        assert "está dirigido a usted personalmente" in message.body
        assert link in message.body
        assert "No reenvíe este mensaje" in message.body
        assert message.extra_headers["Message-ID"] == (
            f"<digest-{digest.pk}-{report.sha256[:16]}@csirtnet>"
        )
        assert digest.message_id == message.extra_headers["Message-ID"]
        assert "scan_ntp.csv" not in message.subject + message.body
        _assert_no_event_content(message)

    # delivering again, by the sweeper or the task, sends nothing more
    assert deliver_pending_digests().sent_count == 0
    for digest in rows:
        assert deliver_digest.call(digest_id=digest.pk) == DeliveryOutcome.SKIPPED
    assert len(mail.outbox) == 2
    # and completing the report again writes no second notice
    add_named_person_digests(report)
    assert rows.count() == 2


@pytest.mark.django_db
def test_the_link_of_the_notice_opens_the_report_for_the_person_named(
    people, tmp_path, django_capture_on_commit_callbacks, settings, client
):
    report = _ingest_red(_red_file(tmp_path), django_capture_on_commit_callbacks, settings)
    (message,) = [m for m in mail.outbox if m.to == ["owner@people.example"]]
    path = f"/reports/reports/{report.uuid}/"
    assert SITE + path in message.body
    client.force_login(people["owner"].user)
    response = client.get(path)
    assert response.status_code == 200
    # the page lists the organization's digest, not the notices to people
    assert list(response.context["digests"]) == list(
        Digest.objects.filter(report=report, organization__short_name="CERTuy", user=None)
    )


def _notice(person, *, report=None, organizations=("CERTuy",)):  # type: ignore[no-untyped-def]
    """A completed TLP:RED report naming `person`, an event for each of `organizations`."""
    report = report or ReportFactory(tlp=TLP.RED)
    report.recipient_people.add(person.user)
    for short_name in organizations:
        EventFactory(report=report, organization=Organization.objects.get(short_name=short_name))
    (digest,) = add_named_person_digests(report)
    return digest


def _withheld(digest: Digest, reason: str) -> None:
    assert deliver_digest.call(digest_id=digest.pk) == DeliveryOutcome.WITHHELD
    digest.refresh_from_db()
    assert digest.status == DigestStatus.WITHHELD
    assert reason in digest.last_error
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_notice_is_withheld_once_the_report_is_relabelled(people):
    digest = _notice(people["owner"])
    Report.objects.filter(pk=digest.report_id).update(tlp=TLP.AMBER)
    _withheld(digest, "no longer TLP:RED")


@pytest.mark.django_db
def test_a_notice_is_withheld_once_the_person_is_no_longer_named(people):
    digest = _notice(people["owner"])
    digest.report.recipient_people.remove(people["owner"].user)
    _withheld(digest, "no longer addressed by name")


@pytest.mark.django_db
def test_a_notice_is_withheld_from_a_person_without_address_or_inactive(people):
    digest = _notice(people["owner"])
    get_user_model().objects.filter(username="owner").update(email="")
    _withheld(digest, "no e-mail address")
    other = _notice(people["secretariat"])
    get_user_model().objects.filter(username="secretariat").update(is_active=False)
    _withheld(other, "no longer active")


@pytest.mark.django_db
def test_the_dry_run_counts_notices_and_withheld_ones(people):
    sent = _notice(people["owner"])
    withheld = _notice(people["secretariat"])
    withheld.report.recipient_people.clear()
    summary = deliver_pending_digests(dry_run=True)
    assert (summary.sent_count, summary.withheld_count) == (1, 1)
    assert mail.outbox == []
    assert {d.status for d in Digest.objects.filter(pk__in=[sent.pk, withheld.pk])} == {
        DigestStatus.PENDING
    }


@pytest.mark.django_db
def test_nobody_named_on_other_labels_and_no_notice_without_visible_events(people):
    amber = ReportFactory(tlp=TLP.AMBER)
    EventFactory(report=amber)
    assert add_named_person_digests(amber) == []
    red = ReportFactory(tlp=TLP.RED)
    red.recipient_people.add(people["recipient"].user, people["owner"].user)
    EventFactory(report=red, organization=Organization.objects.get(short_name="CERT-MX"))
    assert add_named_person_digests(red) == []  # neither CERT.ar nor CERTuy got events


@pytest.mark.django_db
def test_build_digest_message_of_a_notice_carries_no_events(people):
    digest = _notice(people["secretariat"], organizations=("CERTuy", "CERT.ar"))
    message = build_digest_message(digest)
    assert message.to == ["secretariat@people.example"]
    assert message.attachments == []
    for event in digest.report.events.all():
        assert event.source_ip not in message.body


@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_the_same_notice_at_once_send_one_message(
    directory, owner, smtp_sink
):
    _with_email(owner)
    digest = _notice(owner)
    smtp_sink.delay_seconds = 0.5  # the first worker holds the lock while the second waits
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            outcomes.append(deliver_digest.call(digest_id=digest.pk))
        except BaseException as exc:  # reported by the assertions below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(outcomes) == [DeliveryOutcome.SENT, DeliveryOutcome.SKIPPED]
    assert smtp_sink.recipients() == ["owner@people.example"]
    (message,) = smtp_sink.messages()
    assert message["Subject"] == SUBJECT_ES
    assert not list(message.iter_attachments())
    assert Digest.objects.get(pk=digest.pk).status == DigestStatus.SENT
