"""Notification e-mail: outbox rows sent once through a real SMTP server, by TLP, PGP/MIME."""

from __future__ import annotations

import email
import email.policy
import io
import smtplib
import threading
from collections.abc import Iterator
from pathlib import Path

import gnupg
import pytest
from django.core.management import CommandError, call_command
from django.db import connections
from django.utils import translation
from django.utils.translation import gettext

from csirtnet.core.pgp import PgpError
from csirtnet.directory.models import ContactRole, PointOfContact
from csirtnet.incidents import services
from csirtnet.incidents.delivery import (
    MAX_MAILED_OBSERVABLES,
    DeliveryOutcome,
    build_notification_message,
    deliver_pending_notifications,
    send_notification,
)
from csirtnet.incidents.models import Incident, Notification, NotificationStatus
from csirtnet.incidents.tasks import deliver_notification
from tests.core.test_pgp import decrypt, gpg_home, make_key, public_key
from tests.smtp_sink import free_port

TITLE = "Servidor C2 en la red de un ministerio"
DESCRIPTION = "Tráfico de mando y control desde 190.210.0.1 hacia equipos del ministerio."
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def platform_keyring(settings) -> Iterator[Path]:
    """The platform keyring (CSIRTNET_PGP_HOME) in a fresh directory, without a key yet."""
    with gpg_home() as home:
        settings.CSIRTNET_PGP_HOME = str(home)
        settings.CSIRTNET_PGP_SIGNING_KEY = ""
        settings.CSIRTNET_PGP_PASSPHRASE = ""
        yield home


@pytest.fixture
def recipient_keyring() -> Iterator[Path]:
    """A CSIRT's own keyring, with its secret key."""
    with gpg_home() as home:
        yield home


def _contact(short_name: str) -> PointOfContact:
    return PointOfContact.objects.get(
        organization__short_name=short_name, role=ContactRole.CSIRT_24_7
    )


def _incident(actor, *, tlp: str = "amber", observables=("190.210.0.1",), **fields):
    return services.create_incident(
        actor=actor,
        title=fields.pop("title", TITLE),
        description=fields.pop("description", DESCRIPTION),
        taxonomy_predicate="malicious-code",
        taxonomy_value="c2-server",
        severity=3,
        tlp=tlp,
        observables=list(observables),
        **fields,
    )


def _send_all(incident) -> list[str]:
    return [
        send_notification(notification_id=pk)
        for pk in incident.notifications.order_by("pk").values_list("pk", flat=True)
    ]


def _text(message: email.message.EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


def test_an_incident_in_two_states_mails_each_national_csirt_once(
    owner, smtp_sink, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = IMMEDIATE
    with django_capture_on_commit_callbacks(execute=True):
        incident = _incident(owner, observables=["190.210.0.1", "portal.gov.example.com.br"])

    assert smtp_sink.recipients() == sorted([_contact("CERT.ar").email, _contact("CERT.br").email])
    assert all(len(envelope.rcpt_tos) == 1 for envelope in smtp_sink.envelopes)
    assert _send_all(incident) == [DeliveryOutcome.SKIPPED, DeliveryOutcome.SKIPPED]
    assert deliver_pending_notifications().sent_count == 0
    assert len(smtp_sink.envelopes) == 2
    rows = incident.notifications.order_by("organization__short_name")
    assert [(n.organization.short_name, n.status) for n in rows] == [
        ("CERT.ar", NotificationStatus.SENT),
        ("CERT.br", NotificationStatus.SENT),
    ]
    assert all(n.sent_at and n.attempts == 1 and not n.is_encrypted for n in rows)
    assert {n.recipient for n in rows} == set(smtp_sink.recipients())
    ids = {m["Message-ID"] for m in smtp_sink.messages()}
    assert ids == {f"<incident-notification-{n.pk}-{incident.reference}@csirtnet>" for n in rows}


def test_the_subject_opens_with_the_label_and_the_body_is_in_the_contacts_language(
    owner, smtp_sink, settings
):
    settings.CSIRTNET_SITE_URL = "https://csirtnet.example/"
    incident = _incident(
        owner,
        tlp="amber+strict",
        title="C2",
        sectors=["energy"],
        observables=["190.210.0.1", "portal.gov.example.com.br"],
    )
    # The services refuse control characters; a row written another way must not
    # inject a header either.
    Incident.objects.filter(pk=incident.pk).update(title="C2\r\nBcc: victim@example.org")
    notification = incident.notifications.get(organization__short_name="CERT.ar")

    assert send_notification(notification_id=notification.pk) == DeliveryOutcome.SENT

    (message,) = smtp_sink.messages()
    assert (
        message["Subject"] == f"TLP:AMBER+STRICT {incident.reference}: C2 Bcc: victim@example.org"
    )
    assert message["Bcc"] is None
    assert message["Content-Language"] == "es"
    assert message["Auto-Submitted"] == "auto-generated"
    body = _text(message)
    assert body.startswith("TLP:AMBER+STRICT\n")
    assert "Energía" in body
    assert "Argentina (AR), Brasil (BR)" in body
    assert 'rsit:malicious-code="c2-server"' in body
    assert DESCRIPTION in body
    url = f"https://csirtnet.example/incidents/{incident.uuid}/"
    with translation.override("es"):
        assert gettext("Acknowledge the incident and follow it at: %(url)s") % {"url": url} in body
    assert smtp_sink.envelopes[0].rcpt_tos == [_contact("CERT.ar").email]


def test_observables_beyond_the_limit_are_counted_not_listed(owner):
    values = [f"198.51.100.{n}" for n in range(1, 255)] + [f"203.0.113.{n}" for n in range(1, 3)]
    incident = _incident(owner, observables=values, affected_states=["AR"])
    PointOfContact.objects.filter(pk=_contact("CERT.ar").pk).update(languages=["en"])
    notification = incident.notifications.get()

    body = build_notification_message(notification).body

    assert body.count("  IPv4 address: ") == MAX_MAILED_OBSERVABLES
    assert f"  and {len(values) - MAX_MAILED_OBSERVABLES} more" in body
    assert f"{len(values)} observables:" in body


def test_a_contact_with_a_key_gets_pgp_mime_signed_by_the_platform(
    owner, smtp_sink, platform_keyring, recipient_keyring
):
    fingerprint = make_key(recipient_keyring)
    PointOfContact.objects.filter(pk=_contact("CERT.ar").pk).update(
        pgp_public_key=public_key(recipient_keyring, fingerprint), pgp_fingerprint=fingerprint
    )
    out = io.StringIO()
    call_command("create_signing_key", stdout=out)
    platform_fingerprint = out.getvalue().strip()
    gnupg.GPG(gnupghome=str(recipient_keyring)).import_keys(
        public_key(platform_keyring, platform_fingerprint)
    )
    incident = _incident(owner)

    assert _send_all(incident) == [DeliveryOutcome.SENT]

    (envelope,) = smtp_sink.envelopes
    raw = envelope.content
    assert TITLE.encode() not in raw
    assert DESCRIPTION.encode() not in raw
    assert b"190.210.0.1" not in raw
    (message,) = smtp_sink.messages()
    assert message.get_content_type() == "multipart/encrypted"
    assert message.get_param("protocol") == "application/pgp-encrypted"
    assert message["Subject"].startswith(f"TLP:AMBER {incident.reference}: ")
    result = decrypt(recipient_keyring, message)
    assert result.ok, result.status
    assert result.valid
    assert result.fingerprint == platform_fingerprint
    inner = email.message_from_bytes(result.data, policy=email.policy.default)
    assert inner["Subject"] == f"TLP:AMBER {incident.reference}: {TITLE}"
    assert inner.get_param("protected-headers") == "v1"
    assert TITLE in inner.get_content()
    notification = incident.notifications.get()
    assert notification.is_encrypted
    assert notification.status == NotificationStatus.SENT


def test_a_key_with_another_fingerprint_fails_and_nothing_is_sent(
    owner, smtp_sink, platform_keyring, recipient_keyring
):
    fingerprint = make_key(recipient_keyring)
    wrong = "0123456789ABCDEF0123456789ABCDEF01234567"
    PointOfContact.objects.filter(pk=_contact("CERT.ar").pk).update(
        pgp_public_key=public_key(recipient_keyring, fingerprint), pgp_fingerprint=wrong
    )
    incident = _incident(owner)

    assert _send_all(incident) == [DeliveryOutcome.FAILED]
    assert deliver_pending_notifications().sent_count == 0

    assert smtp_sink.envelopes == []
    notification = incident.notifications.get()
    assert notification.status == NotificationStatus.FAILED
    assert fingerprint in notification.error
    assert wrong in notification.error
    assert notification.sent_at is None


def test_a_signing_key_missing_from_the_keyring_keeps_the_notification_pending(
    owner, smtp_sink, settings, platform_keyring, recipient_keyring
):
    fingerprint = make_key(recipient_keyring)
    PointOfContact.objects.filter(pk=_contact("CERT.ar").pk).update(
        pgp_public_key=public_key(recipient_keyring, fingerprint), pgp_fingerprint=fingerprint
    )
    settings.CSIRTNET_PGP_SIGNING_KEY = "0123456789ABCDEF0123456789ABCDEF01234567"
    notification = _incident(owner).notifications.get()

    with pytest.raises(PgpError):
        send_notification(notification_id=notification.pk)

    assert smtp_sink.envelopes == []
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (NotificationStatus.PENDING, 1)
    assert "CSIRTNET_PGP_SIGNING_KEY" in notification.error


def test_a_tlp_red_incident_mails_the_named_person_without_its_content(
    owner, recipient, smtp_sink
):
    recipient.user.email = "ana@cert.ar.example"
    recipient.user.save()
    incident = _incident(owner, tlp="red", named_people=[recipient.user])

    assert _send_all(incident) == [DeliveryOutcome.SENT]

    assert smtp_sink.recipients() == ["ana@cert.ar.example"]
    (message,) = smtp_sink.messages()
    with translation.override("es"):
        named = gettext("an incident addressed to you by name")
    assert message["Subject"] == f"TLP:RED {incident.reference}: {named}"
    raw = smtp_sink.envelopes[0].content
    for secret in (TITLE, DESCRIPTION, "190.210.0.1", "c2-server"):
        assert secret.encode() not in raw
    assert f"/incidents/{incident.uuid}/" in _text(message)
    assert incident.notifications.get().user == recipient.user


def test_relabelling_to_red_withholds_the_pending_notifications_of_organizations(
    owner, recipient, smtp_sink
):
    recipient.user.email = "ana@cert.ar.example"
    recipient.user.save()
    incident = _incident(owner)
    services.update_incident(
        actor=owner, incident=incident, tlp="red", named_people=[recipient.user]
    )

    assert _send_all(incident) == [DeliveryOutcome.WITHHELD, DeliveryOutcome.SENT]

    assert smtp_sink.recipients() == ["ana@cert.ar.example"]
    organization_row = incident.notifications.get(user__isnull=True)
    assert organization_row.status == NotificationStatus.WITHHELD
    assert "TLP:RED" in organization_row.error
    assert TITLE.encode() not in smtp_sink.envelopes[0].content


def test_amber_strict_is_withheld_from_a_participant_that_is_not_a_member(owner, smtp_sink):
    incident = _incident(owner, tlp="amber+strict")
    notification = incident.notifications.get()
    notification.organization.is_member = False
    notification.organization.save()

    assert send_notification(notification_id=notification.pk) == DeliveryOutcome.WITHHELD

    assert smtp_sink.envelopes == []


def test_without_a_csirt_contact_or_its_address_the_notification_is_no_contact(owner, smtp_sink):
    _contact("CERT.ar").delete()
    PointOfContact.objects.filter(pk=_contact("CERT.br").pk).update(email="")
    incident = _incident(owner, observables=["190.210.0.1", "portal.gov.example.com.br"])

    assert _send_all(incident) == [DeliveryOutcome.NO_CONTACT, DeliveryOutcome.NO_CONTACT]

    assert smtp_sink.envelopes == []
    assert set(incident.notifications.values_list("status", flat=True)) == {
        NotificationStatus.NO_CONTACT
    }


def test_an_smtp_failure_keeps_the_notification_pending_and_the_sweeper_sends_it_later(
    owner, smtp_sink, settings
):
    incident = _incident(owner)
    notification = incident.notifications.get()
    sink_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # nothing listens there

    with pytest.raises((OSError, smtplib.SMTPException)):
        deliver_notification.call(notification_id=notification.pk)

    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (NotificationStatus.PENDING, 1)
    assert notification.error
    settings.EMAIL_PORT = sink_port
    assert deliver_pending_notifications().sent_count == 1
    assert deliver_pending_notifications().sent_count == 0
    notification.refresh_from_db()
    assert (notification.status, notification.attempts, notification.error) == (
        NotificationStatus.SENT,
        2,
        "",
    )
    assert len(smtp_sink.envelopes) == 1


def test_the_command_prints_one_line_and_a_dry_run_sends_nothing(owner, smtp_sink, capsys):
    _incident(owner, observables=["190.210.0.1", "portal.gov.example.com.br"])
    _incident(owner, tlp="amber+strict", title="Otro")
    PointOfContact.objects.filter(pk=_contact("CERT.br").pk).update(email="")

    call_command("deliver_notifications", "--dry-run")
    assert smtp_sink.envelopes == []
    call_command("deliver_notifications")

    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "deliver-notifications (dry run): 2 notifications to send, 0 failed, "
        "1 without point of contact, 0 withheld by TLP",
        "deliver-notifications: 2 notifications sent, 0 failed, 1 without point of contact, "
        "0 withheld by TLP",
    ]
    assert len(smtp_sink.envelopes) == 2


def test_the_command_fails_when_a_notification_could_not_be_sent(owner, smtp_sink):
    _incident(owner)
    smtp_sink.refused.add(_contact("CERT.ar").email)

    with pytest.raises(CommandError, match="0 notifications sent, 1 failed"):
        call_command("deliver_notifications")

    assert Notification.objects.get().status == NotificationStatus.PENDING


def test_create_signing_key_prints_the_same_fingerprint_every_time(platform_keyring):
    first, second = io.StringIO(), io.StringIO()

    call_command("create_signing_key", "--name", "CSIRT Americas", stdout=first)
    call_command("create_signing_key", stdout=second)

    assert len(first.getvalue().strip()) == 40
    assert first.getvalue() == second.getvalue()
    (key,) = gnupg.GPG(gnupghome=str(platform_keyring)).list_keys(secret=True)
    assert key["fingerprint"] == first.getvalue().strip()
    assert key["uids"][0].startswith("CSIRT Americas <")


def test_worker_batch_delivers_the_queued_notification_tasks(
    owner, smtp_sink, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    # db_worker closes "old" connections between tasks, the test's transaction among them.
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )
    with django_capture_on_commit_callbacks(execute=True):
        incident = _incident(owner)
    assert smtp_sink.envelopes == []

    call_command("worker", "--batch", stdout=io.StringIO())

    assert smtp_sink.recipients() == [_contact("CERT.ar").email]
    assert incident.notifications.get().status == NotificationStatus.SENT


@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_the_same_notification_at_once_send_one_message(owner, smtp_sink):
    notification = _incident(owner).notifications.get()
    smtp_sink.delay_seconds = 0.5  # the first worker holds the lock while the second waits
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            outcomes.append(deliver_notification.call(notification_id=notification.pk))
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
    assert Notification.objects.get(pk=notification.pk).status == NotificationStatus.SENT
