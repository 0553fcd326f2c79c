"""Rows of incidents: the shared record, its participants, timeline, observables, outbox."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from csirtnet.directory.models import MemberState, Organization
from csirtnet.incidents.querysets import IncidentQuerySet
from csirtnet.sharing.observables import ObservableType
from csirtnet.sharing.taxonomy import rsit_name
from csirtnet.sharing.tlp import TLP


class PAP(models.TextChoices):
    """Permissible Actions Protocol (FIRST / MISP `PAP` taxonomy); labels never translated."""

    CLEAR = "clear", "PAP:CLEAR"
    GREEN = "green", "PAP:GREEN"
    AMBER = "amber", "PAP:AMBER"
    RED = "red", "PAP:RED"


class Status(models.TextChoices):
    """Where an incident stands; `reopen` is the move from resolved or closed back to work."""

    NEW = "new", _("New")
    TRIAGED = "triaged", _("Triaged")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


# Allowed moves; resolved and closed go back to in progress ("reopen").
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset({Status.TRIAGED, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED}),
    Status.TRIAGED: frozenset({Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED}),
    Status.IN_PROGRESS: frozenset({Status.RESOLVED, Status.CLOSED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.IN_PROGRESS}),
    Status.CLOSED: frozenset({Status.IN_PROGRESS}),
}


class Severity(models.IntegerChoices):
    """How bad an incident is, 1 (low) to 5 (critical); `SEVERITY_DEFINITIONS` says when."""

    LOW = 1, _("1 - Low")
    MODERATE = 2, _("2 - Moderate")
    SIGNIFICANT = 3, _("3 - Significant")
    HIGH = 4, _("4 - High")
    CRITICAL = 5, _("5 - Critical")


SEVERITY_DEFINITIONS = {
    Severity.LOW: _(
        "Isolated systems, no effect on services; routine handling by the constituent."
    ),
    Severity.MODERATE: _(
        "One organization affected; services degraded briefly; no critical-infrastructure "
        "service affected."
    ),
    Severity.SIGNIFICANT: _(
        "Several organizations or one critical-infrastructure operator affected; services "
        "degraded, or personal data exposed."
    ),
    Severity.HIGH: _(
        "A critical-infrastructure service disrupted in one state, or sensitive government "
        "data compromised."
    ),
    Severity.CRITICAL: _(
        "Critical infrastructure disrupted in more than one state, or a threat to life or "
        "national security."
    ),
}


class ReferenceCounter(models.Model):
    """The last incident number given out in a year (network-wide references)."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Incident(models.Model):
    """
    A security incident shared in the network, felt in one or more member states
    (CICTE declaration, clause 10). Classified with RSIT (`taxonomy_predicate`,
    `taxonomy_value`: the machine tag `rsit:predicate="value"`), labelled TLP 2.0 and PAP.
    `owner` is the reporting organization, the only one that may lower the label or widen
    the audience; `recipient_organizations` are the participants (national CSIRTs of the
    affected states and those invited); `recipient_people` are the people named on a
    TLP:RED incident. Times are aware UTC.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=20000, blank=True)
    taxonomy_predicate = models.CharField(_("RSIT class"), max_length=64)
    taxonomy_value = models.CharField(_("RSIT type"), max_length=64)
    sectors = models.JSONField(_("affected sectors"), default=list, blank=True)
    severity = models.PositiveSmallIntegerField(
        _("severity"), choices=Severity.choices, default=Severity.MODERATE
    )
    tlp = models.CharField("TLP", max_length=12, choices=TLP.choices, default=TLP.AMBER)
    pap = models.CharField("PAP", max_length=5, choices=PAP.choices, default=PAP.AMBER)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default="new")
    detected_at = models.DateTimeField(_("detected at"), null=True, blank=True)
    reported_at = models.DateTimeField(_("reported at"), default=timezone.now)
    acknowledged_at = models.DateTimeField(_("first acknowledged at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    owner = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="owned_incidents",
        verbose_name=_("reporting organization"),
    )  # fmt: skip
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authored_incidents"
    )
    lead_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="led_incidents",
        verbose_name=_("lead organization"),
    )  # fmt: skip
    affected_states = models.ManyToManyField(
        MemberState, blank=True, related_name="incidents", verbose_name=_("affected states")
    )
    recipient_organizations = models.ManyToManyField(
        Organization, through="Participation", through_fields=("incident", "organization"),
        related_name="incidents", blank=True, verbose_name=_("participants"),
    )  # fmt: skip
    recipient_people = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="named_in_incidents",
        verbose_name=_("people addressed (TLP:RED)"),
    )  # fmt: skip
    events = models.ManyToManyField("reports.Event", blank=True, related_name="incidents")

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-reported_at", "-pk"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        indexes = [models.Index(fields=["tlp", "owner"]), models.Index(fields=["status"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(severity__gte=1, severity__lte=5), name="incident_severity_1_5"
            ),
            models.CheckConstraint(
                condition=models.Q(tlp__in=TLP.values), name="incident_tlp_known"
            ),
            models.CheckConstraint(
                condition=models.Q(resolved_at__isnull=True)
                | models.Q(resolved_at__gte=models.F("reported_at")),
                name="incident_resolved_after_reported",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def clean(self) -> None:
        """Check that detection does not come after the report."""
        if self.detected_at and self.reported_at and self.detected_at > self.reported_at:
            raise ValidationError({"detected_at": _("Detection cannot be after the report.")})

    @property
    def rsit(self) -> str:
        """Return the RSIT machine tag, e.g. `rsit:malicious-code="infected-system"`."""
        return f'rsit:{self.taxonomy_predicate}="{self.taxonomy_value}"'

    @property
    def rsit_name(self) -> str:
        """Return the RSIT type's name in the active language ("Servidor C2")."""
        return rsit_name(self.taxonomy_predicate, self.taxonomy_value)

    @property
    def tlp_label(self) -> TLP:
        """Return the TLP label as a `TLP` member."""
        return TLP(self.tlp)


class ParticipationReason(models.TextChoices):
    """Why an organization takes part in an incident."""

    AFFECTED_STATE = "affected_state", _("National CSIRT of an affected state")
    INVITED = "invited", _("Invited by the reporting organization")


class Participation(models.Model):
    """
    An organization addressed by an incident, and its acknowledgement: `notified_at` when
    it became a participant, `acknowledged_at` when one of its people acknowledged (UTC).
    """

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="participations")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="participations"
    )
    reason = models.CharField(_("reason"), max_length=20, choices=ParticipationReason.choices)
    notified_at = models.DateTimeField(_("notified at"), default=timezone.now)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )  # fmt: skip

    class Meta:
        ordering = ["notified_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "organization"], name="one_participation_per_org"
            ),
            models.CheckConstraint(
                condition=models.Q(acknowledged_at__isnull=True)
                | models.Q(acknowledged_at__gte=models.F("notified_at")),
                name="participation_ack_after_notice",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} in {self.incident_id}"

    @property
    def time_to_acknowledge(self) -> timedelta | None:
        """Return how long the organization took to acknowledge, or None while it has not."""
        if self.acknowledged_at is None:
            return None
        return self.acknowledged_at - self.notified_at


class EntryKind(models.TextChoices):
    """Kinds of timeline entry."""

    CREATED = "created", _("Reported")
    COMMENT = "comment", _("Comment")
    STATUS = "status", _("Status changed")
    EDITED = "edited", _("Edited")
    LABEL = "label", _("Label changed")
    PARTICIPANT = "participant", _("Participant added")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    OBSERVABLE = "observable", _("Observables added")
    ATTACHMENT = "attachment", _("Attachment added")
    ESCALATED = "escalated", _("Events escalated")


class TimelineEntry(models.Model):
    """One line of an incident's shared timeline: who (user, organization), when (UTC), what."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(_("kind"), max_length=12, choices=EntryKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now)
    text = models.TextField(_("text"), max_length=20000, blank=True)
    old_value = models.CharField(max_length=200, blank=True)
    new_value = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")

    def __str__(self) -> str:
        return f"{self.incident_id} {self.kind} {self.created_at:%Y-%m-%dT%H:%M:%SZ}"


class Observable(models.Model):
    """
    A normalized value of an incident (see `sharing.observables.normalize`), with the
    country and organization the routing gave it (None for hashes or unknown places).
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="observables")
    type = models.CharField(_("type"), max_length=8, choices=ObservableType.choices)
    value = models.CharField(_("value"), max_length=2048)
    country = models.CharField(_("country"), max_length=2, blank=True)
    routed_to = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["type", "value"]
        verbose_name = _("observable")
        verbose_name_plural = _("observables")
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "type", "value"], name="one_observable_per_incident"
            )
        ]
        indexes = [models.Index(fields=["type", "value"])]

    def __str__(self) -> str:
        return f"{self.type}:{self.value}"


class Attachment(models.Model):
    """
    A file attached to an incident, stored under its SHA-256 and only ever served as a
    download (never inline). `size` is in bytes.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="attachments")
    name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    content_type = models.CharField(_("content type"), max_length=100)
    uploaded_at = models.DateTimeField(default=timezone.now)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name


class NotificationStatus(models.TextChoices):
    """Where a notification e-mail stands in the outbox."""

    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    NO_CONTACT = "no_contact", _("No point of contact")
    WITHHELD = "withheld", _("Withheld by the TLP rule")


class Notification(models.Model):
    """
    An outbox row: one cross-border notification e-mail about an incident to a
    participant's 24/7 CSIRT point of contact, or, for TLP:RED, to a person addressed by
    name (`user`; such mail carries no incident content). Written in the transaction that
    adds the participant; sent once by the worker under a row lock.
    """

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="notifications")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    status = models.CharField(
        max_length=12, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    recipient = models.EmailField(blank=True)
    is_encrypted = models.BooleanField(default=False)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "organization"],
                condition=models.Q(user__isnull=True),
                name="one_notification_per_participant",
            ),
            models.UniqueConstraint(
                fields=["incident", "user"],
                condition=models.Q(user__isnull=False),
                name="one_notification_per_named_person",
            ),
        ]

    def __str__(self) -> str:
        return f"notification {self.pk} {self.status}"
