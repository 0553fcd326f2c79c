"""Cross-border notification e-mail: one outbox row sent once, PGP/MIME when a key is on file."""

from __future__ import annotations

import copy
import logging
import smtplib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.message import SafeMIMEMultipart, SafeMIMEText
from django.db import OperationalError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from csirtnet.core.mail import Email, set_subject
from csirtnet.core.outbox import DeliveryOutcome, OutboxSummary
from csirtnet.core.pgp import PgpError, RecipientKeyError, encrypt_and_sign_mime
from csirtnet.directory.models import ContactRole, PointOfContact, Sector
from csirtnet.incidents.models import (
    PAP,
    SEVERITY_DEFINITIONS,
    Incident,
    Notification,
    NotificationStatus,
    Severity,
)
from csirtnet.sharing.observables import ObservableType
from csirtnet.sharing.tlp import TLP, organization_mail_refusal

logger = logging.getLogger(__name__)

MAX_MAILED_OBSERVABLES = 200  # more are counted ("and N more"); the page lists them all
_LOCK_WAIT_SECONDS = 300
_LOCK_POLL_SECONDS = 0.1
_ERROR_MAX_CHARS = 500  # Notification.error
_BODY_HEADERS = frozenset({"content-type", "content-transfer-encoding", "mime-version"})


class NoPointOfContactError(Exception):
    """The notification has nowhere to go: no CSIRT 24/7 address, or no usable user e-mail."""


class NotificationSummary(OutboxSummary):
    """Counts of notification outcomes of one run of the worker or the sweeper."""

    def sent_phrase(self, count: int, *, dry_run: bool) -> str:
        """Return "N notifications sent" (or "N notifications to send")."""
        if dry_run:
            phrase = ngettext(
                "%(count)d notification to send", "%(count)d notifications to send", count
            )
        else:
            phrase = ngettext("%(count)d notification sent", "%(count)d notifications sent", count)
        return phrase % {"count": count}


class PgpMimeEmail(Email):
    """
    An e-mail whose body is a prebuilt RFC 3156 `multipart/encrypted` entity; Django
    still writes the outer headers (Subject, From, To, Date, Message-ID and extras).
    """

    def __init__(self, encrypted: SafeMIMEMultipart, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.encrypted = encrypted

    def message(self) -> SafeMIMEMultipart:  # type: ignore[override]
        """Return the encrypted entity with this message's headers (a fresh copy each call)."""
        headers = super().message()
        outer = copy.deepcopy(self.encrypted)
        for name, value in headers.items():
            if name.lower() not in _BODY_HEADERS | {"subject"}:
                outer[name] = value
        set_subject(outer, str(self.subject))
        return outer


def notification_message_id(notification: Notification) -> str:
    """Return the deterministic Message-ID: `<incident-notification-{pk}-{reference}@csirtnet>`."""
    return f"<incident-notification-{notification.pk}-{notification.incident.reference}@csirtnet>"


def withheld_reason(*, notification: Notification, incident: Incident) -> str:
    """
    Return why `notification` must not be sent now, or "" when it may (TLP 2.0 as
    DESIGN.md applies it, checked again at send time since the incident may have been
    relabelled since it was queued). An organization's row: never for TLP:RED, never
    AMBER+STRICT to a non-member (`sharing.tlp.organization_mail_refusal`), and only
    while the organization takes part. A named person's row: only while the incident is
    TLP:RED and still addresses that person.
    """
    label = incident.tlp_label
    if notification.user_id is not None:
        if label != TLP.RED:
            return _("The incident is no longer TLP:RED; its participants are notified instead.")
        if not incident.recipient_people.filter(pk=notification.user_id).exists():
            return _("This person is no longer addressed by name in the incident.")
        return ""
    organization = notification.organization
    if organization_mail_refusal(label, recipient_is_member=organization.is_member):
        if label == TLP.RED:
            return _(
                "TLP:RED incidents are never e-mailed to an organization; the people "
                "named receive a notice without content."
            )
        return _("TLP:AMBER+STRICT incidents are not e-mailed to non-members.")
    if not incident.participations.filter(organization_id=organization.pk).exists():
        return _("The organization is not a participant of the incident.")
    return ""


def build_notification_message(notification: Notification) -> EmailMessage:
    """
    Build the e-mail of `notification`, in its contact's first language the site offers.

    An organization's row goes to its CSIRT 24/7 point of contact. Subject: the TLP
    label exactly (never translated), the reference and the title, e.g.
    "TLP:AMBER INC-2026-000001: C2 server in Argentina". The plain-text body says who
    reports and gives reference, title, RSIT class, severity and its definition, TLP and
    PAP, affected states, sectors, times (RFC 3339, UTC), description, the first
    `MAX_MAILED_OBSERVABLES` observables and the link where the participant
    acknowledges. When the contact has a public key on file the message is PGP/MIME
    (RFC 3156), signed and encrypted (`core.pgp`); its outer subject then carries
    the label and reference only ("…: encrypted incident notification"), the real one
    travels inside as a protected header (`protected-headers="v1"`).

    A named person's row (TLP:RED) goes to that user's own address and carries no
    incident content: "TLP:RED INC-2026-000001: an incident addressed to you by name"
    and the link. `Message-ID` is `notification_message_id`.

    Raises:
        NoPointOfContactError: no CSIRT 24/7 contact with an address, or no active user e-mail.
        RecipientKeyError: the key on file is unusable (e.g. not the fingerprint on file).
        PgpError: the platform's gpg or signing key is not usable.
    """
    incident, label = notification.incident, notification.incident.tlp_label
    contact = PointOfContact.objects.filter(
        organization_id=notification.organization_id, role=ContactRole.CSIRT_24_7
    ).first()
    address = _address(notification, contact)
    language = contact.mail_language if contact else str(settings.LANGUAGE_CODE)
    headers = {
        "Message-ID": notification_message_id(notification),
        "Content-Language": language,
        "Auto-Submitted": "auto-generated",  # RFC 3834: no auto-replies
    }
    with translation.override(language):
        if notification.user_id is not None:
            subject = f"{label.label} {incident.reference}: " + _(
                "an incident addressed to you by name"
            )
            body = _named_person_body(incident)
        else:
            subject = f"{label.label} {incident.reference}: {_one_line(incident.title)}"
            body = _incident_body(incident, label)
        if notification.user_id is None and contact and contact.pgp_public_key.strip():
            outer = f"{label.label} {incident.reference}: " + _("encrypted incident notification")
            return _encrypted(contact, address, subject, outer, body, headers)
    return Email(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
        headers=headers,
    )


def send_notification(*, notification_id: int) -> DeliveryOutcome:
    """
    Deliver notification `notification_id` once, if it is pending.

    Lock the row (`select_for_update()` in `transaction.atomic()`; on SQLite the
    IMMEDIATE transaction serializes writers), re-check it is pending and that the TLP
    rule still allows it (`withheld_reason`, on the incident as it is now), build and
    encrypt the message under the lock (so that it shows the incident as it is when
    sent), send it over SMTP and mark it sent (`sent_at` UTC, `recipient`,
    `is_encrypted`) in that same transaction. A second worker waits for the lock and
    then sees "sent": exactly once, except that a crash after the SMTP server accepted
    the message and before the commit leaves the row pending and a later run sends it
    again (recognisable by its deterministic Message-ID). Taking the lock is retried
    for up to `_LOCK_WAIT_SECONDS` while SQLite answers "locked".

    Outcomes: "withheld" (reason in `error`), "no_contact", "failed" (the contact's key
    is unusable, `RecipientKeyError`; reason in `error`, nothing sent, not retried),
    "skipped" (not pending), "sent".

    Raises:
        Notification.DoesNotExist: no notification `notification_id`.
        smtplib.SMTPException, OSError: the SMTP server refused or could not be reached;
            `attempts` and `error` are recorded and the notification stays pending.
        PgpError: the platform's gpg or signing key is unusable (configuration); recorded
            the same way, the notification stays pending and is never sent in plain.
        django.db.OperationalError: the lock could not be taken in time (nothing sent).
    """
    error: Exception | None = None
    with _locked_notification(notification_id) as notification:
        if notification.status != NotificationStatus.PENDING:
            return DeliveryOutcome.SKIPPED
        attempts = notification.attempts + 1
        try:
            outcome, message = _prepare(notification)
            if message is None:
                return outcome
            message.send()
        except (PgpError, smtplib.SMTPException, OSError) as exc:
            error = exc
            _save(notification, attempts=attempts, error=_error_text(exc))
        else:
            _save(
                notification,
                status=NotificationStatus.SENT,
                sent_at=timezone.now(),
                attempts=attempts,
                error="",
                recipient=message.to[0],
                is_encrypted=isinstance(message, PgpMimeEmail),
            )
    if error is not None:
        raise error
    return DeliveryOutcome.SENT


def deliver_pending_notifications(
    *, limit: int | None = None, dry_run: bool = False
) -> NotificationSummary:
    """
    Deliver every pending notification, oldest first, at most `limit`, each with
    `deliver_notification.call` (synchronously, in this process). This is the sweeper
    that `csirtnet deliver-notifications` runs: it recovers notifications whose task was
    lost. One that fails (SMTP, or the platform's PGP set-up) is logged, counted as
    failed and stays pending; the others are still delivered. With `dry_run`, send and
    change nothing: count what a run would do (PGP problems show only when sending).
    """
    from csirtnet.incidents.tasks import deliver_notification  # tasks.py imports this module

    pending = Notification.objects.filter(status=NotificationStatus.PENDING).order_by("pk")
    ids = pending.values_list("pk", flat=True)
    summary = NotificationSummary()
    for notification_id in list(ids if limit is None else ids[:limit]):
        if dry_run:
            summary.add(_planned_outcome(notification_id))
            continue
        try:
            outcome = deliver_notification.call(notification_id=notification_id)
        # One notification's failure must not hold back the others; it stays pending.
        except Exception:
            logger.exception("Notification %s was not sent; it stays pending.", notification_id)
            summary.failed_count += 1
        else:
            summary.add(outcome)
    return summary


# --- helpers -------------------------------------------------------------------------


def _prepare(notification: Notification) -> tuple[DeliveryOutcome, EmailMessage | None]:
    """Return (outcome, message to send); without a message the row is already updated."""
    reason = withheld_reason(notification=notification, incident=notification.incident)
    if reason:
        _save(notification, status=NotificationStatus.WITHHELD, error=reason[:_ERROR_MAX_CHARS])
        return DeliveryOutcome.WITHHELD, None
    try:
        return DeliveryOutcome.SENT, build_notification_message(notification)
    except NoPointOfContactError:
        _save(notification, status=NotificationStatus.NO_CONTACT)
        return DeliveryOutcome.NO_CONTACT, None
    except RecipientKeyError as exc:
        logger.warning("Notification %s not sent: %s (%s)", notification.pk, exc, exc.status)
        _save(
            notification,
            status=NotificationStatus.FAILED,
            attempts=notification.attempts + 1,
            error=str(exc)[:_ERROR_MAX_CHARS],
        )
        return DeliveryOutcome.FAILED, None


def _planned_outcome(notification_id: int) -> DeliveryOutcome:
    notification = Notification.objects.select_related("incident", "organization", "user").get(
        pk=notification_id
    )
    if withheld_reason(notification=notification, incident=notification.incident):
        return DeliveryOutcome.WITHHELD
    contact = PointOfContact.objects.filter(
        organization_id=notification.organization_id, role=ContactRole.CSIRT_24_7
    ).first()
    try:
        _address(notification, contact)
    except NoPointOfContactError:
        return DeliveryOutcome.NO_CONTACT
    return DeliveryOutcome.SENT


@contextmanager
def _locked_notification(notification_id: int) -> Iterator[Notification]:
    """
    Yield notification `notification_id` locked for update inside `transaction.atomic()`,
    with its incident, organization and user read in that transaction.

    While SQLite answers "database is locked" (another worker holds the write lock for
    an SMTP conversation) or "database table is locked" (shared-cache in-memory
    databases do not wait), try again for up to `_LOCK_WAIT_SECONDS`. Only taking the
    lock is retried: an error after it is raised.
    """
    deadline = time.monotonic() + _LOCK_WAIT_SECONDS
    while True:
        acquired = False
        try:
            with transaction.atomic():
                notification = (
                    Notification.objects.select_for_update(of=("self",))
                    .select_related("incident__owner__state", "organization", "user")
                    .get(pk=notification_id)
                )
                acquired = True
                yield notification
            return
        except OperationalError as exc:
            if acquired or "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(_LOCK_POLL_SECONDS)


def _address(notification: Notification, contact: PointOfContact | None) -> str:
    """Return where `notification` goes, or raise `NoPointOfContactError`."""
    if notification.user_id is not None:
        user = notification.user
        if user is None or not user.is_active or not user.email:
            raise NoPointOfContactError
        return str(user.email)
    if contact is None or not contact.email:
        raise NoPointOfContactError
    return contact.email


def _encrypted(
    contact: PointOfContact,
    address: str,
    subject: str,
    outer_subject: str,
    body: str,
    headers: dict[str, str],
) -> PgpMimeEmail:
    inner = SafeMIMEText(body, "plain", "utf-8")
    inner.set_param("protected-headers", "v1")  # the real Subject travels encrypted
    inner["Subject"] = subject
    inner["From"] = settings.DEFAULT_FROM_EMAIL
    inner["To"] = address
    inner["Message-ID"] = headers["Message-ID"]
    encrypted = encrypt_and_sign_mime(
        inner,
        recipient_key=contact.pgp_public_key,
        recipient_fingerprint=contact.pgp_fingerprint or None,
        home=settings.CSIRTNET_PGP_HOME,
        signing_key=settings.CSIRTNET_PGP_SIGNING_KEY,
        passphrase=settings.CSIRTNET_PGP_PASSPHRASE,
        gpg_binary=settings.CSIRTNET_GPG_BINARY,
    )
    return PgpMimeEmail(
        encrypted,
        subject=outer_subject,
        body="",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
        headers=headers,
    )


def _incident_body(incident: Incident, label: TLP) -> str:
    owner = incident.owner
    state = f" ({owner.state.name})" if owner.state else ""
    lines = [
        label.label,
        "",
        _(
            "%(organization)s%(state)s reports an incident that concerns your constituency. "
            "Please acknowledge it."
        )
        % {"organization": owner.name, "state": state},
        "",
        _("Reference: %(reference)s") % {"reference": incident.reference},
        _("Title: %(title)s") % {"title": _one_line(incident.title)},
        _("Classification (RSIT): %(name)s, %(tag)s")
        % {"name": incident.rsit_name, "tag": incident.rsit},
        _("Severity: %(severity)s. %(definition)s")
        % {
            "severity": Severity(incident.severity).label,
            "definition": SEVERITY_DEFINITIONS[Severity(incident.severity)],
        },
        _("Labels: %(tlp)s, %(pap)s") % {"tlp": label.label, "pap": PAP(incident.pap).label},
        _("Affected states: %(states)s") % {"states": _states(incident)},
        _("Sectors: %(sectors)s") % {"sectors": _sectors(incident)},
        _("Reported at: %(at)s") % {"at": _rfc3339(incident.reported_at)},
        *_detected(incident),
        "",
        _("Description:"),
        _multi_line(incident.description) or _("(none)"),
        "",
        *_observable_lines(incident),
        "",
        _("Acknowledge the incident and follow it at: %(url)s") % {"url": _incident_url(incident)},
        "",
        _("Handle this message according to %(tlp)s (FIRST TLP 2.0) and act according to %(pap)s.")
        % {"tlp": label.label, "pap": PAP(incident.pap).label},
    ]
    return "\n".join(lines) + "\n"


def _named_person_body(incident: Incident) -> str:
    lines = [
        TLP.RED.label,
        "",
        _(
            "An incident labelled TLP:RED (%(reference)s) is addressed to you by name on "
            "csirtnet. Its content is never sent by e-mail."
        )
        % {"reference": incident.reference},
        "",
        _("Sign in to read it: %(url)s") % {"url": _incident_url(incident)},
        "",
        _(
            "TLP:RED: for the people named only. Do not forward this message or share the "
            "incident with anyone else."
        ),
    ]
    return "\n".join(lines) + "\n"


def _observable_lines(incident: Incident) -> list[str]:
    count = incident.observables.count()
    if not count:
        return [_("Observables: none.")]
    rows = incident.observables.order_by("type", "value").values_list("type", "value", "country")
    lines = [ngettext("%(count)d observable:", "%(count)d observables:", count) % {"count": count}]
    for kind, value, country in rows[:MAX_MAILED_OBSERVABLES]:
        place = f" ({country})" if country else ""
        lines.append(f"  {_type_label(kind)}: {_one_line(value)}{place}")
    if count > MAX_MAILED_OBSERVABLES:
        more = count - MAX_MAILED_OBSERVABLES
        lines.append(
            "  " + ngettext("and %(count)d more", "and %(count)d more", more) % {"count": more}
        )
    return lines


def _detected(incident: Incident) -> list[str]:
    if incident.detected_at is None:
        return []
    return [_("Detected at: %(at)s") % {"at": _rfc3339(incident.detected_at)}]


def _states(incident: Incident) -> str:
    names = [f"{state.name} ({state.code})" for state in incident.affected_states.all()]
    return ", ".join(names) or _("none")


def _sectors(incident: Incident) -> str:
    labels = [
        str(Sector(value).label) if value in Sector.values else value for value in incident.sectors
    ]
    return ", ".join(labels) or _("none")


def _type_label(kind: str) -> str:
    return str(ObservableType(kind).label) if kind in ObservableType.values else kind


def _incident_url(incident: Incident) -> str:
    return f"{settings.CSIRTNET_SITE_URL.rstrip('/')}/incidents/{incident.uuid}/"


def _one_line(text: str) -> str:
    """Return `text` with runs of whitespace and non-printable characters as one space."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _multi_line(text: str) -> str:
    """Return `text` with its lines kept and other non-printable characters dropped."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept = ("".join(c for c in line if c.isprintable() or c == "\t") for line in lines)
    return "\n".join(kept).strip()


def _rfc3339(value: datetime) -> str:
    """Return `value` in RFC 3339 form in UTC with `Z`: 2026-03-14T09:00:00Z."""
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _error_text(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:_ERROR_MAX_CHARS]


def _save(notification: Notification, **changes: Any) -> None:
    for name, value in changes.items():
        setattr(notification, name, value)
    notification.save(update_fields=list(changes))
