"""Digest delivery: outbox rows e-mailed once, through a real SMTP server, by task and sweeper."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import smtplib
import threading
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connections
from django.utils import translation
from django.utils.translation import gettext

from csirtnet.directory.models import ContactRole, Organization, PointOfContact
from csirtnet.reports.delivery import (
    CSV_COLUMNS,
    DeliveryOutcome,
    build_digest_message,
    deliver_pending_digests,
    enqueue_report_digests,
)
from csirtnet.reports.models import Digest, DigestStatus, Event
from csirtnet.reports.tasks import deliver_digest
from csirtnet.sharing.tlp import TLP
from tests.reports.factories import DigestFactory, EventFactory, ReportFactory
from tests.smtp_sink import free_port

HYPERLINK = '=HYPERLINK("http://x")'


def _digest(short_name: str = "CERTuy", *, event_count: int = 2, report=None, **event_fields):
    """A pending digest of `report` (a new completed one by default) with its events."""
    report = report or ReportFactory()
    organization = Organization.objects.get(short_name=short_name)
    EventFactory.create_batch(
        event_count, report=report, organization=organization, **event_fields
    )
    return DigestFactory(report=report, organization=organization, event_count=event_count)


def _contact(short_name: str) -> PointOfContact:
    return PointOfContact.objects.get(
        organization__short_name=short_name, role=ContactRole.CSIRT_24_7
    )


def _attachment(message: email.message.EmailMessage) -> tuple[str, list[dict[str, str]]]:
    (part,) = list(message.iter_attachments())
    return part.get_filename(), list(csv.DictReader(io.StringIO(part.get_content())))


def test_a_digest_reaches_the_smtp_server_exactly_once_with_only_its_events(directory, smtp_sink):
    digest = _digest(event_count=2)
    report = digest.report
    EventFactory(
        report=report, organization=digest.organization, hostname=HYPERLINK, url=HYPERLINK
    )
    EventFactory(report=report, organization=Organization.objects.get(short_name="CERT.ar"))
    EventFactory(organization=digest.organization)  # same organization, another report
    expected_lines = set(
        report.events.filter(organization=digest.organization).values_list("line", flat=True)
    )

    assert deliver_digest.call(digest_id=digest.pk) == DeliveryOutcome.SENT
    assert deliver_digest.call(digest_id=digest.pk) == DeliveryOutcome.SKIPPED
    assert deliver_pending_digests().sent_count == 0

    assert len(smtp_sink.envelopes) == 1
    assert smtp_sink.envelopes[0].rcpt_tos == [_contact("CERTuy").email]
    (message,) = smtp_sink.messages()
    assert message["Subject"].startswith("[TLP:AMBER] ")
    assert " 3 " in message["Subject"]
    assert message["To"] == _contact("CERTuy").email
    assert message["Message-ID"] == f"<digest-{digest.pk}-{report.sha256[:16]}@csirtnet>"
    name, rows = _attachment(message)
    assert name == "scan_ntp-CERTuy.csv"
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == len(expected_lines) == 3
    assert {int(row["line"]) for row in rows} == expected_lines
    assert {row["observed_at"] for row in rows} == {"2025-03-14T03:00:00Z"}
    (formula_row,) = [row for row in rows if row["hostname"]]
    assert formula_row["hostname"] == formula_row["url"] == "'" + HYPERLINK
    digest.refresh_from_db()
    assert digest.status == DigestStatus.SENT
    assert digest.message_id == message["Message-ID"]
    assert digest.sent_at is not None
    assert digest.attempt_count == 1


def test_the_body_counts_events_by_type_and_class_and_links_to_the_inbox(directory, settings):
    settings.CSIRTNET_SITE_URL = "https://csirtnet.example/"
    digest = _digest(event_count=2)
    EventFactory(
        report=digest.report,
        organization=digest.organization,
        report_type="scan_ntp",
        taxonomy="information-gathering",
        type="scanner",
    )
    PointOfContact.objects.filter(pk=_contact("CERTuy").pk).update(languages=["en"])

    message = build_digest_message(digest)

    assert message.subject == "[TLP:AMBER] csirtnet digest: 3 events for CERTuy from scan_ntp.csv"
    assert message.body.startswith("TLP:AMBER\n")
    assert "received at 2025-03-14T09:00:00Z" in message.body
    assert "scan_ntp  vulnerable/vulnerable-system: 2" in message.body
    assert "scan_ntp  information-gathering/scanner: 1" in message.body
    assert f"https://csirtnet.example/reports/inbox/?report={digest.report.uuid}" in message.body


@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_the_same_digest_at_once_send_one_message(directory, smtp_sink):
    digest = _digest(event_count=3)
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
    assert len(smtp_sink.envelopes) == 1
    assert Digest.objects.get(pk=digest.pk).status == DigestStatus.SENT


def test_an_smtp_failure_leaves_the_digest_pending_and_a_later_run_sends_it_once(
    directory, smtp_sink, settings
):
    digest = _digest()
    sink_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # nothing listens there

    with pytest.raises((OSError, smtplib.SMTPException)):
        deliver_digest.call(digest_id=digest.pk)

    digest.refresh_from_db()
    assert digest.status == DigestStatus.PENDING
    assert digest.attempt_count == 1
    assert digest.last_error
    assert digest.sent_at is None

    settings.EMAIL_PORT = sink_port
    assert deliver_pending_digests().sent_count == 1
    assert deliver_pending_digests().sent_count == 0
    assert len(smtp_sink.envelopes) == 1
    digest.refresh_from_db()
    assert digest.status == DigestStatus.SENT
    assert digest.attempt_count == 2
    assert digest.last_error == ""


def test_the_sweeper_counts_a_failure_and_delivers_the_other_digests(
    directory, smtp_sink, settings
):
    first = _digest("CERTuy")
    second = _digest("CERT.ar", report=first.report)
    PointOfContact.objects.filter(pk=_contact("CERT.ar").pk).update(email="gone@example.org")
    smtp_sink.refused.add("gone@example.org")

    summary = deliver_pending_digests()

    assert (summary.sent_count, summary.failed_count) == (1, 1)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == DigestStatus.SENT
    assert second.status == DigestStatus.PENDING
    assert "550" in second.last_error


def test_a_digest_without_point_of_contact_is_marked_and_not_sent(directory, smtp_sink):
    digest = _digest()
    _contact("CERTuy").delete()

    assert deliver_digest.call(digest_id=digest.pk) == DeliveryOutcome.NO_CONTACT

    digest.refresh_from_db()
    assert digest.status == DigestStatus.NO_CONTACT
    assert smtp_sink.envelopes == []
    assert deliver_pending_digests().no_contact_count == 0  # no longer pending


def test_the_body_is_in_spanish_for_a_contact_whose_first_language_is_spanish(directory):
    digest = _digest("CERT-MX")
    PointOfContact.objects.filter(pk=_contact("CERT-MX").pk).update(languages=["es-MX", "en"])

    deliver_digest.call(digest_id=digest.pk)

    (message,) = mail.outbox
    with translation.override("es"):
        heading = gettext("Events by report type and classification (RSIT taxonomy/type):")
    assert message.extra_headers["Content-Language"] == "es"
    assert message.subject.startswith("[TLP:AMBER] ")
    assert heading in message.body
    assert "CERT-MX (México)" in message.body


def test_the_body_is_in_english_for_a_contact_whose_first_language_is_english(directory):
    digest = _digest("CERT-MX")
    PointOfContact.objects.filter(pk=_contact("CERT-MX").pk).update(languages=["en", "es"])

    deliver_digest.call(digest_id=digest.pk)

    (message,) = mail.outbox
    assert message.extra_headers["Content-Language"] == "en"
    assert "CERT-MX (Mexico)" in message.body


def test_a_pending_digest_of_an_incomplete_report_is_not_sent(directory):
    digest = _digest(report=ReportFactory(completed_at=None))

    assert enqueue_report_digests(report_id=digest.report_id) == 0
    assert deliver_digest.call(digest_id=digest.pk) == DeliveryOutcome.SKIPPED
    assert deliver_pending_digests().sent_count == 0

    digest.refresh_from_db()
    assert digest.status == DigestStatus.PENDING
    assert mail.outbox == []


def test_a_tlp_red_report_is_never_sent_as_a_digest(directory):
    digest = _digest(report=ReportFactory(tlp=TLP.RED))

    assert deliver_digest.call(digest_id=digest.pk) == DeliveryOutcome.WITHHELD

    digest.refresh_from_db()
    assert digest.status == DigestStatus.WITHHELD
    assert "TLP:RED" in digest.last_error
    assert mail.outbox == []


def test_the_subject_carries_the_strictest_label_of_report_and_events(directory):
    digest = _digest()
    EventFactory(report=digest.report, organization=digest.organization, tlp=TLP.AMBER_STRICT)

    assert build_digest_message(digest).subject.startswith("[TLP:AMBER+STRICT] ")


@pytest.fixture
def keep_test_connection(monkeypatch):
    """Stop db_worker from dropping the connection that holds the test's transaction.

    It calls `close_old_connections()` between tasks, which on PostgreSQL closes a
    connection inside an atomic block (Django's TestCase disables the same on requests).
    """
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )


def test_worker_batch_runs_the_queued_tasks_and_the_sweeper_and_prints_one_line(
    directory, keep_test_connection
):
    queued = _digest("CERTuy")
    lost = _digest("CERT.ar", report=queued.report)
    assert enqueue_report_digests(report_id=queued.report_id) == 2
    Digest.objects.filter(pk=lost.pk).update(status=DigestStatus.NO_CONTACT)  # ran meanwhile
    orphan = _digest("CERT-MX", report=ReportFactory())  # its task was lost
    out = io.StringIO()

    call_command("worker", "--batch", stdout=out)

    assert out.getvalue() == (
        "worker: 2 digests sent, 0 failed, 0 without point of contact, 0 withheld by TLP; "
        "0 notifications sent, 0 failed, 0 without point of contact, 0 withheld by TLP\n"
    )
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [_contact("CERTuy").email, _contact("CERT-MX").email]
    )
    orphan.refresh_from_db()
    assert orphan.status == DigestStatus.SENT


def test_worker_batch_fails_when_a_digest_could_not_be_sent(
    directory, settings, keep_test_connection
):
    _digest()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()

    with pytest.raises(CommandError, match="0 digests sent, 1 failed"):
        call_command("worker", "--batch", stdout=io.StringIO())


def test_deliver_digests_dry_run_counts_and_sends_nothing(directory):
    digest = _digest("CERTuy")
    _digest("CERT.ar", report=digest.report)
    _contact("CERT.ar").delete()
    out = io.StringIO()

    call_command("deliver_digests", "--dry-run", stdout=out)

    assert out.getvalue() == (
        "deliver-digests (dry run): 1 digest to send, 0 failed, "
        "1 without point of contact, 0 withheld by TLP\n"
    )
    assert mail.outbox == []
    assert set(Digest.objects.values_list("status", flat=True)) == {DigestStatus.PENDING}


def test_deliver_digests_sends_the_pending_digests(directory):
    _digest("CERTuy")
    out = io.StringIO()

    call_command("deliver_digests", stdout=out)

    assert out.getvalue().startswith("deliver-digests: 1 digest sent, 0 failed")
    assert len(mail.outbox) == 1


def test_a_large_digest_streams_every_event_through_a_spooled_file(directory, monkeypatch):
    monkeypatch.setattr("csirtnet.reports.delivery._SPOOL_MAX_BYTES", 1024)  # spill to disk
    digest = _digest(event_count=0)
    Event.objects.bulk_create(
        EventFactory.build_batch(2500, report=digest.report, organization=digest.organization),
        batch_size=500,
    )  # more rows than one iterator chunk (2000)

    _name, content, _mimetype = build_digest_message(digest).attachments[0]

    rows = list(csv.DictReader(io.StringIO(content)))
    assert len(rows) == 2500
    assert len({row["line"] for row in rows}) == 2500


def test_observed_at_is_written_in_utc_with_z(directory):
    digest = _digest(event_count=1, observed_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC))

    _name, content, _mimetype = build_digest_message(digest).attachments[0]

    row = next(csv.DictReader(io.StringIO(content)))
    assert row["observed_at"] == "2025-01-02T03:04:05Z"
