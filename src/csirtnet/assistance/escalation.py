"""
The clocks of assistance requests: reminders before a deadline, escalation after it,
expiry of requests never accepted in time. Run by `csirtnet escalate` every minute;
each reminder is an outbox row written once (a unique constraint) and sent once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from csirtnet.assistance.delivery import ReminderSummary, deliver_pending_reminders
from csirtnet.assistance.kinds import LAW_ENFORCEMENT_TYPES
from csirtnet.assistance.models import (
    AWAITING_ACKNOWLEDGEMENT,
    AWAITING_RESPONSE,
    AssistanceRequest,
    Deadline,
    HistoryKind,
    Reminder,
    Stage,
    Status,
)
from csirtnet.assistance.services import record_history
from csirtnet.directory.models import ContactRole, Organization, OrganizationKind

logger = logging.getLogger(__name__)

# Never accepted by the response deadline: the clock marks these expired.
EXPIRABLE = frozenset({Status.SENT, Status.ACKNOWLEDGED})


@dataclass(frozen=True)
class DueReminder:
    """One reminder or escalation due now: which request, clock, stage, organization, role."""

    request: AssistanceRequest
    deadline: str
    stage: str
    organization_id: int
    contact_role: str


@dataclass
class EscalationSummary:
    """Counts of one run of `escalate`."""

    queued_count: int = 0
    expired_count: int = 0
    delivery: ReminderSummary = field(default_factory=ReminderSummary)

    def describe(self, *, dry_run: bool = False) -> str:
        """Return the counts as one line for the command."""
        head = _("%(queued)d reminders or escalations queued, %(expired)d requests expired") % {
            "queued": self.queued_count,
            "expired": self.expired_count,
        }
        return f"{head}; {self.delivery.describe(dry_run=dry_run)}"


def escalate(*, now: datetime, deliver: bool = True) -> EscalationSummary:
    """
    Run the clocks at `now` (aware; the command passes `timezone.now()`): queue the
    reminders and escalations due (`due_reminders`), mark expired the requests never
    accepted by their response deadline, then send every pending reminder
    (`delivery.send_reminder`) unless `deliver` is False.

    Safe every minute and twice at once: each (request, deadline, stage,
    organization) is one outbox row under a unique constraint, written with its
    history line in its own transaction (a second writer gets IntegrityError and
    skips it); expiry re-reads the row under a lock; sending locks the outbox row
    (`select_for_update(skip_locked=True)`) and sends only a pending one.
    """
    summary = EscalationSummary()
    for due in due_reminders(now=now):
        if _queue(due, now=now):
            summary.queued_count += 1
    summary.expired_count = expire_overdue(now=now)
    if deliver:
        summary.delivery = deliver_pending_reminders()
    return summary


def due_reminders(*, now: datetime) -> list[DueReminder]:
    """
    Return the reminders and escalations due at `now` and not queued yet.

    For each clock still running (acknowledgement while the request is sent and not
    acknowledged; response until it is declined, fulfilled or partially fulfilled, or
    withdrawn): from `CSIRTNET_ASSISTANCE_REMINDER_PERCENT` of the window before the
    deadline until the deadline, a reminder to the requested organization's 24/7 point
    of contact (law-enforcement 24/7 for the law-enforcement types, CSIRT 24/7 for the
    others); once the deadline has passed, an escalation to the requested state's
    law-enforcement 24/7 points of contact (law-enforcement types) or its national
    CSIRT (the others), and to the network secretariat. A reminder whose window was
    missed (the command did not run) is not sent late: the escalation follows.
    """
    open_requests = AssistanceRequest.objects.filter(
        status__in=AWAITING_RESPONSE, sent_at__isnull=False
    ).select_related("requested")
    queued = set(
        Reminder.objects.filter(request__in=open_requests).values_list(
            "request_id", "deadline", "stage", "organization_id"
        )
    )
    found: list[DueReminder] = []
    for request in open_requests.order_by("pk"):
        for deadline, due_at, running in _clocks(request):
            if not running or due_at is None or request.sent_at is None:
                continue
            lead = lead_time(request, due_at)
            if now >= due_at:
                stage = Stage.ESCALATION
            elif now >= due_at - lead:
                stage = Stage.REMINDER
            else:
                continue
            for organization_id, role in _addressees(request, stage):
                key = (request.pk, deadline, stage, organization_id)
                if key not in queued:
                    found.append(DueReminder(request, deadline, stage, organization_id, role))
    return found


def expire_overdue(*, now: datetime) -> int:
    """
    Mark expired each request still sent or acknowledged (never accepted) whose
    response deadline has passed at `now`, with a history line by the clock (no user
    or organization); return how many. A late answer (accept, decline) stays possible.
    """
    overdue = AssistanceRequest.objects.filter(status__in=EXPIRABLE, respond_due_at__lte=now)
    count = 0
    for request_id in list(overdue.values_list("pk", flat=True)):
        with transaction.atomic():
            request = (
                AssistanceRequest.objects.select_for_update()
                .filter(pk=request_id, status__in=EXPIRABLE)
                .first()
            )
            if request is None:
                continue  # answered, or expired by a concurrent run
            old = request.status
            request.status = Status.EXPIRED
            request.save(update_fields=["status", "updated_at"])
            record_history(
                request, HistoryKind.TRANSITION, from_status=old, to_status=Status.EXPIRED,
                note=_("The response deadline passed."), at=now,
            )  # fmt: skip
            count += 1
    return count


# --- helpers -------------------------------------------------------------------------


def _clocks(request: AssistanceRequest) -> list[tuple[str, datetime | None, bool]]:
    return [
        (
            Deadline.ACKNOWLEDGE,
            request.acknowledge_due_at,
            request.status in AWAITING_ACKNOWLEDGEMENT,
        ),
        (Deadline.RESPOND, request.respond_due_at, request.status in AWAITING_RESPONSE),
    ]


def _addressees(request: AssistanceRequest, stage: str) -> list[tuple[int, str]]:
    """Return (organization id, contact role) pairs of a reminder or escalation, each once."""
    law_enforcement = request.request_type in LAW_ENFORCEMENT_TYPES
    role = ContactRole.LAW_ENFORCEMENT_24_7 if law_enforcement else ContactRole.CSIRT_24_7
    if stage == Stage.REMINDER:
        return [(request.requested_id, role)]
    pairs: list[tuple[int, str]] = []
    state_id = request.requested.state_id
    if state_id is not None:
        in_state = Organization.objects.filter(state_id=state_id)
        if law_enforcement:
            ids = in_state.filter(
                points_of_contact__role=ContactRole.LAW_ENFORCEMENT_24_7
            ).values_list("pk", flat=True)
        else:
            ids = in_state.filter(kind=OrganizationKind.NATIONAL_CSIRT).values_list(
                "pk", flat=True
            )
        pairs.extend((organization_id, role) for organization_id in sorted(set(ids)))
        if not pairs:  # nobody else in the state: at least the requested organization
            pairs.append((request.requested_id, role))
    secretariat = Organization.objects.filter(kind=OrganizationKind.SECRETARIAT).first()
    if secretariat is not None:
        pairs.append((secretariat.pk, ContactRole.CSIRT_24_7))
    return list(dict.fromkeys(pairs))


def _queue(due: DueReminder, *, now: datetime) -> bool:
    """Write the outbox row and its history line; False when another run already did."""
    kind = HistoryKind.REMINDER if due.stage == Stage.REMINDER else HistoryKind.ESCALATION
    organization = Organization.objects.get(pk=due.organization_id)
    try:
        with transaction.atomic():
            Reminder.objects.create(
                request=due.request, deadline=due.deadline, stage=due.stage,
                organization=organization, contact_role=due.contact_role, created_at=now,
            )  # fmt: skip
            record_history(due.request, kind, note=_note(due, organization), at=now)
    except IntegrityError:
        return False  # queued by a concurrent run: each is sent once
    return True


def _note(due: DueReminder, organization: Organization) -> str:
    clock = Deadline(due.deadline).label
    role = ContactRole(due.contact_role).label
    return _("%(clock)s deadline: %(organization)s (%(role)s)") % {
        "clock": clock,
        "organization": organization.short_name,
        "role": role,
    }


def lead_time(request: AssistanceRequest, due_at: datetime) -> timedelta:
    """Return how long before `due_at` the reminder of that clock of `request` goes out."""
    if request.sent_at is None:
        return timedelta(0)
    return (due_at - request.sent_at) * settings.CSIRTNET_ASSISTANCE_REMINDER_PERCENT / 100
