"""Reminder and escalation e-mail of assistance requests: one outbox row, sent once."""

from __future__ import annotations

import logging
import smtplib
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from csirtnet.assistance.kinds import RequestType
from csirtnet.assistance.models import (
    AssistanceRequest,
    Deadline,
    DeliveryStatus,
    Priority,
    Reminder,
    Stage,
)
from csirtnet.core.mail import Email
from csirtnet.core.outbox import DeliveryOutcome, OutboxSummary
from csirtnet.directory.models import PointOfContact
from csirtnet.sharing.tlp import TLP

logger = logging.getLogger(__name__)

_ERROR_MAX_CHARS = 500  # Reminder.error


class ReminderSummary(OutboxSummary):
    """Counts of reminder outcomes of one run of `escalate`."""

    def sent_phrase(self, count: int, *, dry_run: bool) -> str:
        """Return "N reminders sent" (or "N reminders to send")."""
        if dry_run:
            phrase = ngettext("%(count)d reminder to send", "%(count)d reminders to send", count)
        else:
            phrase = ngettext("%(count)d reminder sent", "%(count)d reminders sent", count)
        return phrase % {"count": count}


def reminder_message_id(reminder: Reminder) -> str:
    """Return the deterministic Message-ID: `<assistance-reminder-{pk}@csirtnet>`."""
    return f"<assistance-reminder-{reminder.pk}@csirtnet>"


def build_reminder_message(reminder: Reminder, contact: PointOfContact) -> EmailMessage:
    """
    Build the e-mail of `reminder` to `contact`, in the contact's first language the
    site offers. Subject: the TLP label in brackets, never translated, then the
    reference and what is due, e.g. "[TLP:AMBER] AR-2026-00042: acknowledgement due
    2026-05-01T13:00:00Z". The body names the type, priority, the two organizations,
    the deadline (RFC 3339, UTC) and the link; never the title, description or
    type-specific fields (they may name suspects or victims and the mail may travel
    unencrypted): the people addressed read them on the platform.
    """
    request = reminder.request
    label = TLP(request.tlp).label
    language = contact.mail_language
    due_at = (
        request.acknowledge_due_at
        if reminder.deadline == Deadline.ACKNOWLEDGE
        else request.respond_due_at
    )
    with translation.override(language):
        subject = f"[{label}] {request.reference}: {_what(reminder, _rfc3339(due_at))}"
        body = _body(reminder, request, label, _rfc3339(due_at))
    return Email(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[contact.email],
        headers={
            "Message-ID": reminder_message_id(reminder),
            "Content-Language": language,
            "Auto-Submitted": "auto-generated",  # RFC 3834: no auto-replies
        },
    )


def send_reminder(*, reminder_id: int) -> DeliveryOutcome:
    """
    Send reminder `reminder_id` once, if it is pending. The row is locked with
    `select_for_update(skip_locked=True)` inside `transaction.atomic()` (on SQLite the
    IMMEDIATE transaction serializes writers instead): a concurrent sender skips a
    row another holds, and whoever gets it sends only while it is still pending,
    marking it sent (`sent_at` UTC, `recipient`) in that same transaction. A crash
    after the SMTP server accepted the message and before the commit leaves it
    pending: a later run sends it again with the same Message-ID.

    Outcomes: "sent", "no_contact" (the organization has no point of contact of the
    role, or it has no address), "skipped" (not pending, or locked by another run).

    Raises:
        smtplib.SMTPException, OSError: the SMTP server refused or could not be reached;
            `attempts` and `error` are recorded and the row stays pending.
    """
    error: Exception | None = None
    with transaction.atomic():
        reminder = (
            Reminder.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("request__requester__state", "request__requested__state")
            .filter(pk=reminder_id, status=DeliveryStatus.PENDING)
            .first()
        )
        if reminder is None:
            return DeliveryOutcome.SKIPPED
        contact = PointOfContact.objects.filter(
            organization_id=reminder.organization_id, role=reminder.contact_role
        ).first()
        if contact is None or not contact.email:
            _save(reminder, status=DeliveryStatus.NO_CONTACT)
            return DeliveryOutcome.NO_CONTACT
        attempts = reminder.attempts + 1
        try:
            build_reminder_message(reminder, contact).send()
        except (smtplib.SMTPException, OSError) as exc:
            error = exc
            _save(reminder, attempts=attempts, error=f"{type(exc).__name__}: {exc}"[:500])
        else:
            _save(
                reminder, status=DeliveryStatus.SENT, sent_at=timezone.now(),
                attempts=attempts, error="", recipient=contact.email,
            )  # fmt: skip
    if error is not None:
        raise error
    return DeliveryOutcome.SENT


def deliver_pending_reminders(*, limit: int | None = None) -> ReminderSummary:
    """
    Send every pending reminder, oldest first, at most `limit`. One that fails (SMTP)
    is logged, counted as failed and stays pending for the next run; the others are
    still sent.
    """
    pending = Reminder.objects.filter(status=DeliveryStatus.PENDING).order_by("pk")
    ids = pending.values_list("pk", flat=True)
    summary = ReminderSummary()
    for reminder_id in list(ids if limit is None else ids[:limit]):
        try:
            outcome = send_reminder(reminder_id=reminder_id)
        # One reminder's failure must not hold back the others; it stays pending.
        except Exception:
            logger.exception("Reminder %s was not sent; it stays pending.", reminder_id)
            summary.failed_count += 1
        else:
            summary.add(outcome)
    return summary


# --- helpers -------------------------------------------------------------------------


def _what(reminder: Reminder, due: str) -> str:
    if reminder.stage == Stage.REMINDER:
        if reminder.deadline == Deadline.ACKNOWLEDGE:
            return _("acknowledgement due %(at)s") % {"at": due}
        return _("answer due %(at)s") % {"at": due}
    if reminder.deadline == Deadline.ACKNOWLEDGE:
        return _("overdue, not acknowledged by %(at)s") % {"at": due}
    return _("overdue, not answered by %(at)s") % {"at": due}


def _body(reminder: Reminder, request: AssistanceRequest, label: str, due: str) -> str:
    requester, requested = request.requester, request.requested
    if reminder.stage == Stage.REMINDER:
        opening = _(
            "An assistance request addressed to your organization is due soon. "
            "Please act on it before the deadline."
        )
    else:
        opening = _(
            "An assistance request addressed to %(organization)s has passed its deadline. "
            "You receive this escalation as its state's point of contact or as the "
            "network secretariat."
        ) % {"organization": requested.name}
    lines = [
        label,
        "",
        opening,
        "",
        _("Reference: %(reference)s") % {"reference": request.reference},
        _("Type: %(type)s") % {"type": RequestType(request.request_type).label},
        _("Legal basis: %(basis)s") % {"basis": request.legal_basis},
        _("Priority: %(priority)s") % {"priority": Priority(request.priority).label},
        _("From: %(organization)s") % {"organization": _named(requester)},
        _("To: %(organization)s") % {"organization": _named(requested)},
        _("%(clock)s due: %(at)s") % {"clock": Deadline(reminder.deadline).label, "at": due},
        "",
        _("Read and answer it at: %(url)s") % {"url": _url(request)},
        "",
        _("Handle this message according to %(tlp)s (FIRST TLP 2.0).") % {"tlp": label},
    ]
    return "\n".join(str(line) for line in lines) + "\n"


def _named(organization: Any) -> str:
    state = f" ({organization.state.code})" if organization.state_id else ""
    return f"{organization.name}{state}"


def _url(request: AssistanceRequest) -> str:
    return f"{settings.CSIRTNET_SITE_URL.rstrip('/')}/assistance/{request.uuid}/"


def _rfc3339(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _save(reminder: Reminder, **changes: Any) -> None:
    for name, value in changes.items():
        setattr(reminder, name, value)
    reminder.save(update_fields=list(changes))
