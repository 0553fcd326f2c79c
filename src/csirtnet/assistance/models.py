"""Rows of assistance: requests between members, their history, and the reminder outbox."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from csirtnet.assistance.kinds import LAW_ENFORCEMENT_TYPES, RequestType, validate_details
from csirtnet.assistance.querysets import AssistanceRequestQuerySet
from csirtnet.directory.models import Organization
from csirtnet.sharing.tlp import TLP


class Priority(models.TextChoices):
    """How fast the requested organization must acknowledge and answer (see `deadlines`)."""

    ROUTINE = "routine", _("Routine")
    URGENT = "urgent", _("Urgent")
    EMERGENCY = "emergency", _("Emergency")


class Status(models.TextChoices):
    """Where a request stands; see `TRANSITIONS` for the moves and who makes them."""

    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    IN_PROGRESS = "in_progress", _("In progress")
    FULFILLED = "fulfilled", _("Fulfilled")
    PARTIALLY_FULFILLED = "partially_fulfilled", _("Partially fulfilled")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Expired")


# Allowed moves. The requester sends and withdraws; the requested organization answers;
# the clock (`escalate`) expires a request never accepted by its response deadline, and
# a late answer (accept, decline) is still possible from expired.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.DRAFT: frozenset({Status.SENT, Status.WITHDRAWN}),
    Status.SENT: frozenset(
        {Status.ACKNOWLEDGED, Status.ACCEPTED, Status.DECLINED, Status.WITHDRAWN, Status.EXPIRED}
    ),
    Status.ACKNOWLEDGED: frozenset(
        {Status.ACCEPTED, Status.DECLINED, Status.WITHDRAWN, Status.EXPIRED}
    ),
    Status.ACCEPTED: frozenset(
        {Status.IN_PROGRESS, Status.FULFILLED, Status.PARTIALLY_FULFILLED, Status.WITHDRAWN}
    ),
    Status.IN_PROGRESS: frozenset(
        {Status.FULFILLED, Status.PARTIALLY_FULFILLED, Status.WITHDRAWN}
    ),
    Status.EXPIRED: frozenset({Status.ACCEPTED, Status.DECLINED, Status.WITHDRAWN}),
    Status.DECLINED: frozenset(),
    Status.FULFILLED: frozenset(),
    Status.PARTIALLY_FULFILLED: frozenset(),
    Status.WITHDRAWN: frozenset(),
}

# Statuses in which the requested organization still owes an acknowledgement / an answer.
AWAITING_ACKNOWLEDGEMENT: frozenset[str] = frozenset({Status.SENT})
AWAITING_RESPONSE: frozenset[str] = frozenset(
    {Status.SENT, Status.ACKNOWLEDGED, Status.ACCEPTED, Status.IN_PROGRESS, Status.EXPIRED}
)
# Statuses that answer the request: they stop the response clock.
RESPONSES: frozenset[str] = frozenset(
    {Status.DECLINED, Status.FULFILLED, Status.PARTIALLY_FULFILLED}
)
CLOSED: frozenset[str] = frozenset(
    {Status.DECLINED, Status.FULFILLED, Status.PARTIALLY_FULFILLED, Status.WITHDRAWN}
)


class AssistanceRequest(models.Model):
    """
    A formal request from one member organization (`requester`) to another
    (`requested`, in another state or the same), CICTE declaration clauses 15 and 19.
    `request_type` (see `kinds.RequestType`) fixes the legal basis and the fields held
    in `details` (a JSON object checked by `kinds.validate_details`); preservation,
    traffic-data disclosure and the two emergency types (Budapest Convention arts. 29
    and 30, Second Additional Protocol arts. 9 and 10) pass only between
    law-enforcement units. `priority` fixes the acknowledgement and response deadlines,
    computed in UTC when the request is sent (`acknowledge_due_at`,
    `respond_due_at`). Visible to the two organizations and the network secretariat
    (`querysets.AssistanceRequestQuerySet.visible_to`); `tlp` (TLP 2.0, default AMBER)
    tells the parties how far they may pass it on and opens every e-mail subject.
    `incident` optionally links an incident the requester can see. Times are aware UTC.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(
        _("reference"), max_length=20, unique=True, null=True, blank=True, editable=False
    )  # "AR-2026-00042", given when sent
    request_type = models.CharField(_("type"), max_length=24, choices=RequestType.choices)
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.ROUTINE
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    tlp = models.CharField("TLP", max_length=12, choices=TLP.choices, default=TLP.AMBER)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=20000, blank=True)
    legal_basis = models.CharField(_("legal basis"), max_length=300)
    details = models.JSONField(_("type-specific fields"), default=dict, blank=True)
    requester = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="assistance_requests_sent",
        verbose_name=_("requesting organization"),
    )  # fmt: skip
    requested = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="assistance_requests_received",
        verbose_name=_("requested organization"),
    )  # fmt: skip
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="assistance_requests", verbose_name=_("incident"),
    )  # fmt: skip
    decline_reason = models.TextField(_("reason for declining"), max_length=5000, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    acknowledge_due_at = models.DateTimeField(_("acknowledge by"), null=True, blank=True)
    respond_due_at = models.DateTimeField(_("respond by"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    responded_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    objects = AssistanceRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("assistance request")
        verbose_name_plural = _("assistance requests")
        indexes = [
            models.Index(fields=["requester", "status"]),
            models.Index(fields=["requested", "status"]),
            models.Index(fields=["status", "acknowledge_due_at"]),
            models.Index(fields=["status", "respond_due_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(tlp__in=TLP.values), name="assistance_tlp_known"
            ),
            models.CheckConstraint(
                condition=models.Q(request_type__in=RequestType.values),
                name="assistance_type_known",
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft")
                | models.Q(
                    sent_at__isnull=False,
                    acknowledge_due_at__isnull=False,
                    respond_due_at__isnull=False,
                ),
                name="assistance_sent_has_deadlines",
            ),  # fmt: skip
            models.CheckConstraint(
                condition=~models.Q(status="declined") | ~models.Q(decline_reason=""),
                name="assistance_decline_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference or self.uuid} {self.title}"

    def clean(self) -> None:
        """
        Check the type-specific fields (`kinds.validate_details`) and that a request
        is not addressed to its own organization.

        Raises:
            ValidationError: by field name.
        """
        self.details = validate_details(self.request_type, self.details)
        if self.requester_id is not None and self.requester_id == self.requested_id:
            raise ValidationError({"requested": _("Address another organization.")})

    @property
    def is_law_enforcement(self) -> bool:
        """Return True for the types only law-enforcement units send and see."""
        return self.request_type in LAW_ENFORCEMENT_TYPES

    @property
    def tlp_label(self) -> TLP:
        """Return the TLP label as a `TLP` member."""
        return TLP(self.tlp)

    @property
    def is_closed(self) -> bool:
        """Return True once declined, fulfilled, partially fulfilled or withdrawn."""
        return self.status in CLOSED

    def running_clock(self) -> tuple[str, datetime] | None:
        """
        Return the deadline that runs now as ("acknowledge" or "respond", due time):
        the acknowledgement while the request is sent and not acknowledged, then the
        response until it is answered or withdrawn; None when no clock runs.
        """
        if self.status in AWAITING_ACKNOWLEDGEMENT and self.acknowledge_due_at is not None:
            return "acknowledge", self.acknowledge_due_at
        if self.status in AWAITING_RESPONSE and self.respond_due_at is not None:
            return "respond", self.respond_due_at
        return None

    def acknowledge_overdue_at(self, now: datetime) -> timedelta | None:
        """Return how late the acknowledgement is at `now`, or None when not late."""
        if self.status not in AWAITING_ACKNOWLEDGEMENT or self.acknowledge_due_at is None:
            return None
        late = now - self.acknowledge_due_at
        return late if late > timedelta(0) else None

    def respond_overdue_at(self, now: datetime) -> timedelta | None:
        """Return how late the answer is at `now`, or None when not late."""
        if self.status not in AWAITING_RESPONSE or self.respond_due_at is None:
            return None
        late = now - self.respond_due_at
        return late if late > timedelta(0) else None


class HistoryKind(models.TextChoices):
    """Kinds of history line."""

    CREATED = "created", _("Drafted")
    TRANSITION = "transition", _("Status changed")
    REMINDER = "reminder", _("Reminder sent")
    ESCALATION = "escalation", _("Escalated")


class HistoryEntry(models.Model):
    """
    One line of a request's history: who (user and organization; both empty when the
    clock acted), when (UTC), the move (`from_status` to `to_status`) and a note (the
    reason for declining, or who was reminded).
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(
        AssistanceRequest, on_delete=models.CASCADE, related_name="history"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=HistoryKind.choices)
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    note = models.TextField(_("note"), max_length=5000, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("history entry")
        verbose_name_plural = _("history entries")

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind} {self.from_status}->{self.to_status}"


class Deadline(models.TextChoices):
    """Which clock a reminder is about."""

    ACKNOWLEDGE = "acknowledge", _("Acknowledgement")
    RESPOND = "respond", _("Response")


class Stage(models.TextChoices):
    """Before the deadline (reminder to the requested organization) or after (escalation)."""

    REMINDER = "reminder", _("Reminder")
    ESCALATION = "escalation", _("Escalation")


class DeliveryStatus(models.TextChoices):
    """Where a reminder e-mail stands in the outbox."""

    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    NO_CONTACT = "no_contact", _("No point of contact")


class Reminder(models.Model):
    """
    An outbox row: one reminder or escalation e-mail about one deadline of one request
    to one organization's point of contact (`organization`, role `contact_role`). The
    unique constraint on (request, deadline, stage, organization) makes each one
    exactly once however often and however concurrently `escalate` runs; the worker
    sends it under a row lock. Times are aware UTC.
    """

    request = models.ForeignKey(
        AssistanceRequest, on_delete=models.CASCADE, related_name="reminders"
    )
    deadline = models.CharField(max_length=12, choices=Deadline.choices)
    stage = models.CharField(max_length=12, choices=Stage.choices)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    contact_role = models.CharField(max_length=30)
    status = models.CharField(
        max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    recipient = models.EmailField(blank=True)
    is_encrypted = models.BooleanField(default=False)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["request", "deadline", "stage", "organization"],
                name="one_reminder_per_deadline_stage_org",
            )
        ]

    def __str__(self) -> str:
        return f"reminder {self.pk} {self.deadline}/{self.stage} {self.status}"
