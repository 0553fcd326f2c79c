"""Rows of abuse reports: the report, its events, its rejected rows, its digests (outbox)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.translation import gettext_lazy as _

from csirtnet.directory.models import Organization, RouteRule
from csirtnet.reports.querysets import EventQuerySet, ReportQuerySet
from csirtnet.sharing.tlp import TLP

# Top-level classes of the Reference Security Incident Taxonomy (RSIT), as `Event.taxonomy`
# holds them, with their display names.
RSIT_CLASSES = {
    "abusive-content": _("Abusive content"),
    "malicious-code": _("Malicious code"),
    "information-gathering": _("Information gathering"),
    "intrusion-attempts": _("Intrusion attempts"),
    "intrusions": _("Intrusions"),
    "availability": _("Availability"),
    "information-content-security": _("Information content security"),
    "fraud": _("Fraud"),
    "vulnerable": _("Vulnerable"),
    "other": _("Other"),
    "test": _("Test"),
}


class RawRowField(models.JSONField):
    """
    A JSONField without SQLite's per-row `JSON_VALID` check constraint: the ingest writes
    this column a million times a run, always with JSON it has just serialized, and the
    check re-parsed every value. PostgreSQL's jsonb type validates by itself.
    """

    def db_check(self, connection: BaseDatabaseWrapper) -> str | None:
        """Return no check constraint for the column."""
        return None


class Report(models.Model):
    """
    One abuse report or feed file handed to the network. `sha256` of the file's bytes
    identifies it: ingesting the same bytes again resumes or confirms the same report.
    Counts are rows of the file; `completed_at` (UTC) is set when every row is processed.
    A TLP:RED report names the people it is addressed to (`recipient_people`): they alone
    see it and its events (DESIGN.md, "TLP 2.0"; never an organization's inbox as such).
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sha256 = models.CharField(max_length=64, unique=True)
    file_name = models.CharField(_("file name"), max_length=255)
    format = models.CharField(_("format"), max_length=20)
    source = models.CharField(_("source"), max_length=100)
    tlp = models.CharField(max_length=12, choices=TLP.choices, default=TLP.AMBER)
    submitted_by = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recipient_people = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        verbose_name=_("people addressed by name"),
        help_text=_("Who may see a TLP:RED report and its events; nobody else does."),
    )
    received_at = models.DateTimeField(_("received at"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    rows_read_count = models.PositiveIntegerField(default=0)
    events_stored_count = models.PositiveIntegerField(default=0)
    duplicates_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    last_line = models.PositiveIntegerField(
        default=0, help_text=_("Last file line committed; a re-run resumes after it.")
    )

    objects = ReportQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("report")
        verbose_name_plural = _("reports")

    def __str__(self) -> str:
        return self.file_name


class Event(models.Model):
    """
    One row of an abuse report, normalized: `observed_at` (UTC), the source address,
    port, ASN, hostname (punycode), URL, report type, and its class in the Reference
    Security Incident Taxonomy (RSIT: `taxonomy`/`type`, e.g. vulnerable/vulnerable-system).
    `organization` is the responsible organization chosen by `route_rule`; `raw` keeps
    the original row. `content_key` (SHA-256 of report type and raw values) makes
    re-ingesting the same row a no-op.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    report = models.ForeignKey(
        Report, on_delete=models.PROTECT, related_name="events", db_index=False
    )
    line = models.PositiveIntegerField(_("line"))
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="events", db_index=False
    )
    route_rule = models.CharField(_("routing rule"), max_length=10, choices=RouteRule.choices)
    observed_at = models.DateTimeField(_("observed at"))
    source_ip = models.GenericIPAddressField(_("source IP"), null=True, blank=True)
    source_network = models.CharField(
        _("source network"), max_length=43, blank=True, help_text=_("CIDR, when a row names one.")
    )
    source_port = models.PositiveIntegerField(_("source port"), null=True, blank=True)
    asn = models.BigIntegerField(_("ASN"), null=True, blank=True)
    hostname = models.CharField(_("hostname"), max_length=253, blank=True)
    url = models.TextField(_("URL"), blank=True)
    report_type = models.CharField(_("report type"), max_length=64)
    taxonomy = models.CharField(_("RSIT class"), max_length=40)
    type = models.CharField(_("RSIT type"), max_length=40)
    malware_family = models.CharField(_("malware family"), max_length=100, blank=True)
    file_hash = models.CharField(_("file hash"), max_length=128, blank=True)
    country = models.CharField(
        _("country"), max_length=2, blank=True, help_text=_("Of the address, per RIR data.")
    )
    tlp = models.CharField(max_length=12, choices=TLP.choices, default=TLP.AMBER)
    content_key = models.CharField(max_length=64, unique=True)
    raw = RawRowField(_("original row"))

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-observed_at", "-pk"]
        verbose_name = _("event")
        verbose_name_plural = _("events")
        # Few indexes: each one slows the ingest of a million rows. The FK columns are
        # covered by the composites (organization first, report first).
        indexes = [
            models.Index(fields=["organization", "observed_at"], name="event_org_observed"),
            models.Index(fields=["report", "organization"], name="event_report_org"),
            # the secretariat's network-wide inbox, newest first
            models.Index(fields=["observed_at", "id"], name="event_observed"),
        ]

    def __str__(self) -> str:
        return f"{self.report_type} {self.source_ip or self.hostname or self.file_hash}"


class RejectedRow(models.Model):
    """A row of a report that could not become an event: its line number and why."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="rejected_rows")
    line = models.PositiveIntegerField(_("line"))
    reason = models.TextField(_("reason"))

    class Meta:
        ordering = ["report", "line"]
        constraints = [
            models.UniqueConstraint(fields=["report", "line"], name="one_rejection_per_line")
        ]

    def __str__(self) -> str:
        return f"{self.report} line {self.line}: {self.reason}"


class DigestStatus(models.TextChoices):
    """Life of a digest in the outbox."""

    PENDING = "pending", _("pending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
    NO_CONTACT = "no_contact", _("no point of contact")
    WITHHELD = "withheld", _("withheld by its TLP label")


class Digest(models.Model):
    """
    The outbox row for one organization's digest of one report: written in the same
    transaction as the events it counts, delivered by the worker once the report is
    complete, exactly once (`status`, `sent_at` UTC, `message_id`).

    With `user` set, the row is instead the notice to one person a TLP:RED report names
    (DESIGN.md, "TLP 2.0": RED goes to the people addressed by name, never in digests):
    written when the report is completed, for each person named who sees at least one
    of its events; `organization` is that person's, `event_count` the events they see.
    The notice goes to the person's own address and carries no event content, only the
    link to the report page. One row per report and organization (`user` empty), one
    per report and person named.
    """

    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="digests")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="digests"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("person addressed by name"),
    )  # fmt: skip
    event_count = models.PositiveIntegerField(default=0)
    status = models.CharField(
        max_length=12, choices=DigestStatus.choices, default=DigestStatus.PENDING
    )
    attempt_count = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["report", "organization"]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "organization"],
                condition=models.Q(user__isnull=True),
                name="one_digest_per_report_and_org",
            ),
            models.UniqueConstraint(
                fields=["report", "user"],
                condition=models.Q(user__isnull=False),
                name="one_digest_per_report_and_person",
            ),
        ]

    def __str__(self) -> str:
        if self.user_id is not None:
            return f"{self.report} -> {self.user}"
        return f"{self.report} -> {self.organization}"
