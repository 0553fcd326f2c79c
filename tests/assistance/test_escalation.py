"""The clocks: reminders before a deadline, escalation after it, expiry; each mail sent once."""

from __future__ import annotations

import smtplib
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connections

from csirtnet.assistance import services
from csirtnet.assistance.delivery import send_reminder
from csirtnet.assistance.escalation import due_reminders, escalate
from csirtnet.assistance.kinds import RequestType
from csirtnet.assistance.models import (
    AssistanceRequest,
    Deadline,
    DeliveryStatus,
    HistoryKind,
    Priority,
    Reminder,
    Stage,
    Status,
)
from csirtnet.directory.models import ContactRole, Organization, PointOfContact
from tests.assistance.factories import VALID_DETAILS

pytestmark = pytest.mark.django_db

SENT_AT = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
# urgent: acknowledge within 4 h, answer within 72 h; reminders at 25 % of the window left
BEFORE_ACK_REMINDER = SENT_AT + timedelta(hours=2, minutes=59)
ACK_REMINDER = SENT_AT + timedelta(hours=3)
ACK_OVERDUE = SENT_AT + timedelta(hours=4)
RESPOND_REMINDER = SENT_AT + timedelta(hours=54)
RESPOND_OVERDUE = SENT_AT + timedelta(hours=72)


def contact(short_name, role=ContactRole.CSIRT_24_7):
    return PointOfContact.objects.get(organization__short_name=short_name, role=role).email


def ask(actor, requested="CERT.ar", request_type=RequestType.TAKEDOWN, **fields):
    target = (
        requested
        if isinstance(requested, Organization)
        else (Organization.objects.get(short_name=requested))
    )
    return services.create_request(
        actor=actor, request_type=request_type, requested=target, title="Phishing kit",
        details=dict(VALID_DETAILS[request_type]), priority=Priority.URGENT, now=SENT_AT,
        **fields,
    )  # fmt: skip


def test_nothing_is_due_before_the_reminder_window(owner, smtp_sink):
    ask(owner)
    assert due_reminders(now=BEFORE_ACK_REMINDER) == []
    assert escalate(now=BEFORE_ACK_REMINDER).queued_count == 0
    assert smtp_sink.envelopes == []


def test_the_reminder_goes_once_to_the_requested_csirt_with_the_label_first(owner, smtp_sink):
    request = ask(owner)
    summary = escalate(now=ACK_REMINDER)
    assert (summary.queued_count, summary.delivery.sent_count) == (1, 1)
    for _again in range(3):
        assert escalate(now=ACK_REMINDER + timedelta(minutes=30)).queued_count == 0
    assert smtp_sink.recipients() == [contact("CERT.ar")]
    (message,) = smtp_sink.messages()
    assert message["Subject"].startswith(f"[TLP:AMBER] {request.reference}: ")
    assert "2026-05-01T16:00:00Z" in message["Subject"]
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert f"/assistance/{request.uuid}/" in body
    assert "Phishing kit" not in body  # the title stays on the platform
    line = request.history.get(kind=HistoryKind.REMINDER)
    assert line.user_id is None and line.at == ACK_REMINDER


def test_an_overdue_acknowledgement_escalates_to_the_national_csirt_and_the_secretariat(
    owner, smtp_sink
):
    cert_ar = Organization.objects.get(short_name="CERT.ar")
    cert_ar.kind = "sectoral_csirt"  # so the state's national CSIRT is another organization
    cert_ar.save()
    national = Organization.objects.create(
        short_name="CSIRT-AR-NAT", name="National", kind="national_csirt", state=cert_ar.state
    )
    PointOfContact.objects.create(
        organization=national, role=ContactRole.CSIRT_24_7, email="nat@ar.example"
    )
    ask(owner)
    escalate(now=ACK_REMINDER)
    escalate(now=ACK_OVERDUE)
    escalate(now=ACK_OVERDUE + timedelta(minutes=1))
    assert smtp_sink.recipients() == sorted(
        [contact("CERT.ar"), "nat@ar.example", contact("CICTE")]
    )
    escalations = Reminder.objects.filter(stage=Stage.ESCALATION)
    assert escalations.count() == 2
    assert all(m["Subject"].startswith("[TLP:AMBER] ") for m in smtp_sink.messages())


def test_law_enforcement_requests_remind_and_escalate_law_enforcement_contacts(
    officer_ar, officer_br, smtp_sink
):
    ask(officer_ar, requested=officer_br.organization, request_type=RequestType.PRESERVATION)
    escalate(now=ACK_REMINDER)
    le_br = contact("UC-BR", ContactRole.LAW_ENFORCEMENT_24_7)
    assert smtp_sink.recipients() == [le_br]
    escalate(now=ACK_OVERDUE)
    assert smtp_sink.recipients() == sorted([le_br, le_br, contact("CICTE")])
    assert contact("CERT.br") not in smtp_sink.recipients()


def test_an_acknowledged_request_is_reminded_of_its_answer_only(owner, recipient, smtp_sink):
    request = ask(owner)
    services.change_status(actor=recipient, request=request, status=Status.ACKNOWLEDGED)
    escalate(now=ACK_OVERDUE)
    assert smtp_sink.envelopes == []
    escalate(now=RESPOND_REMINDER)
    (reminder,) = Reminder.objects.all()
    assert (reminder.deadline, reminder.stage) == (Deadline.RESPOND, Stage.REMINDER)


def test_a_request_never_accepted_expires_at_its_response_deadline_by_the_clock(
    owner, recipient, smtp_sink
):
    never = ask(owner)
    accepted = ask(owner)
    services.change_status(actor=recipient, request=accepted, status=Status.ACCEPTED)
    summary = escalate(now=RESPOND_OVERDUE)
    assert summary.expired_count == 1
    never.refresh_from_db()
    accepted.refresh_from_db()
    assert never.status == Status.EXPIRED and accepted.status == Status.ACCEPTED
    line = never.history.filter(kind=HistoryKind.TRANSITION).last()
    assert (line.to_status, line.user_id, line.organization_id) == (Status.EXPIRED, None, None)
    # both are overdue: the accepted one is escalated too, though not expired
    assert Reminder.objects.filter(
        request=accepted, deadline=Deadline.RESPOND, stage=Stage.ESCALATION
    ).exists()
    assert escalate(now=RESPOND_OVERDUE + timedelta(hours=1)).expired_count == 0
    late = services.change_status(actor=recipient, request=never, status=Status.DECLINED,
                                  reason="Too late to preserve anything.")  # fmt: skip
    assert late.status == Status.DECLINED


def test_a_closed_or_withdrawn_request_is_not_reminded(owner, recipient, smtp_sink):
    request = ask(owner)
    services.change_status(actor=owner, request=request, status=Status.WITHDRAWN)
    assert escalate(now=RESPOND_OVERDUE).queued_count == 0
    assert smtp_sink.envelopes == []


def test_without_a_point_of_contact_the_reminder_is_marked_no_contact(owner, smtp_sink):
    PointOfContact.objects.filter(organization__short_name="CERT.ar").delete()
    ask(owner)
    summary = escalate(now=ACK_REMINDER)
    assert summary.delivery.no_contact_count == 1
    assert Reminder.objects.get().status == DeliveryStatus.NO_CONTACT


def test_an_smtp_failure_keeps_the_reminder_pending_for_the_next_run(owner, smtp_sink):
    ask(owner)
    smtp_sink.refused.add(contact("CERT.ar"))
    assert escalate(now=ACK_REMINDER).delivery.failed_count == 1
    reminder = Reminder.objects.get()
    assert reminder.status == DeliveryStatus.PENDING and reminder.attempts == 1
    smtp_sink.refused.clear()
    assert escalate(now=ACK_REMINDER + timedelta(minutes=1)).delivery.sent_count == 1
    assert len(smtp_sink.envelopes) == 1
    with pytest.raises(smtplib.SMTPException):
        smtp_sink.refused.add(contact("CERT.ar"))
        Reminder.objects.filter(pk=reminder.pk).update(status=DeliveryStatus.PENDING)
        send_reminder(reminder_id=reminder.pk)


def test_the_command_prints_one_line(owner, smtp_sink, capsys, monkeypatch):
    ask(owner)
    monkeypatch.setattr("django.utils.timezone.now", lambda: ACK_REMINDER)
    call_command("escalate", "--dry-run")
    assert "1 reminders or escalations due" in capsys.readouterr().out
    assert smtp_sink.envelopes == []
    call_command("escalate")
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "1 reminder sent" in out[0]
    assert len(smtp_sink.envelopes) == 1


@pytest.mark.skipif(
    connections["default"].vendor == "sqlite",
    reason="the in-memory shared-cache SQLite test database does not wait for locks",
)
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_each_reminder_and_escalation_exactly_once(
    owner, officer_ar, officer_br, smtp_sink
):
    ask(owner)
    ask(officer_ar, requested=officer_br.organization, request_type=RequestType.PRESERVATION)
    smtp_sink.delay_seconds = 0.3  # a run holds a row while the other tries it
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(now):
        try:
            barrier.wait()
            escalate(now=now)
        except BaseException as exc:  # reported by the assertions below
            errors.append(exc)
        finally:
            connections.close_all()

    for now in (ACK_REMINDER, ACK_OVERDUE, RESPOND_OVERDUE):
        threads = [threading.Thread(target=run, args=(now,)) for _n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

    assert errors == []
    rows = Reminder.objects.all()
    assert len(smtp_sink.envelopes) == rows.count()
    assert set(rows.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    # reminder + 2 escalations for acknowledgement, 2 escalations for the answer, per request
    assert rows.count() == 2 * 5
    assert AssistanceRequest.objects.filter(status=Status.EXPIRED).count() == 2
    assert (
        AssistanceRequest.objects.get(requester=owner.organization)
        .history.filter(to_status=Status.EXPIRED)
        .count()
        == 1
    )
