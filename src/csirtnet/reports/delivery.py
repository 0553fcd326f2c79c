"""
Digest delivery: one organization's e-mail about one report, or the notice to one person
a TLP:RED report names, sent once from the outbox.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import smtplib
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import PurePath
from typing import IO, Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import OperationalError, transaction
from django.db.models import Count, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from csirtnet.accounts.middleware import actor_for
from csirtnet.core.csvsafe import escape_spreadsheet_cell
from csirtnet.core.mail import Email
from csirtnet.core.outbox import DeliveryOutcome, OutboxSummary
from csirtnet.directory.models import ContactRole, Organization, PointOfContact
from csirtnet.reports.models import Digest, DigestStatus, Event, Report
from csirtnet.sharing.tlp import TLP, organization_mail_refusal, strictest

logger = logging.getLogger(__name__)

# Columns of the attached CSV file, in order; each is a field of `Event`.
CSV_COLUMNS = (
    "observed_at",
    "source_ip",
    "source_port",
    "asn",
    "hostname",
    "url",
    "report_type",
    "taxonomy",
    "type",
    "malware_family",
    "file_hash",
    "country",
    "route_rule",
    "line",
)
_SPOOL_MAX_BYTES = 4 * 1024 * 1024  # a larger attachment is spooled to a temporary file
_ITERATOR_CHUNK_ROWS = 2000
_LOCK_WAIT_SECONDS = 300
_LOCK_POLL_SECONDS = 0.1
_UNSAFE_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class DeliverySummary(OutboxSummary):
    """Counts of digest outcomes of one run of the worker or the sweeper."""

    def sent_phrase(self, count: int, *, dry_run: bool) -> str:
        """Return "N digests sent" (or "N digests to send")."""
        if dry_run:
            return ngettext("%(count)d digest to send", "%(count)d digests to send", count) % {
                "count": count
            }
        return ngettext("%(count)d digest sent", "%(count)d digests sent", count) % {
            "count": count
        }


def _due_digests() -> QuerySet[Digest]:
    """Return the pending digests of completed reports."""
    return Digest.objects.filter(status=DigestStatus.PENDING, report__completed_at__isnull=False)


def enqueue_report_digests(*, report_id: int) -> int:
    """
    Enqueue `deliver_digest` for every pending digest of report `report_id`, the
    notices to the people a TLP:RED report names included (`Digest.user`).

    Call it from `transaction.on_commit` once the report's last batch (and its
    `completed_at`) is committed. Enqueues nothing while the report is incomplete.
    A digest whose task is lost is still delivered by `deliver_pending_digests`.

    Returns:
        The number of tasks enqueued.
    """
    from csirtnet.reports.tasks import deliver_digest  # tasks.py imports this module

    digest_ids = list(
        _due_digests().filter(report_id=report_id).order_by("pk").values_list("pk", flat=True)
    )
    for digest_id in digest_ids:
        deliver_digest.enqueue(digest_id=digest_id)
    return len(digest_ids)


def digest_label(digest: Digest) -> TLP:
    """
    Return the TLP label of `digest`: the strictest of its report's label and the labels
    of the events it carries (a combination carries the strictest label of its parts).
    """
    events = _digest_events(digest).order_by()  # no ordering columns in the DISTINCT
    return strictest([digest.report.tlp, *events.values_list("tlp", flat=True).distinct()])


def withheld_reason(*, label: TLP, organization: Organization) -> str:
    """
    Return why a digest labelled `label` must not be e-mailed to `organization`, or "".

    The rule is TLP 2.0 as DESIGN.md applies it, in `sharing.tlp`.
    """
    return organization_mail_refusal(label, recipient_is_member=organization.is_member)


def build_digest_message(digest: Digest) -> EmailMessage:
    """
    Build the digest e-mail of `digest` for its organization's CSIRT 24/7 point of contact.

    Subject: the TLP label exactly as written (never translated), then e.g.
    "csirtnet digest: 42 events for CERTuy from scan_ntp.csv". Subject and body are in
    the contact's first language the site offers (settings.LANGUAGES; else LANGUAGE_CODE).
    The body counts the events by report type and RSIT class (taxonomy/type) and links
    to the inbox. Attached: `<report file stem>-<org short name>.csv` with the events,
    columns `CSV_COLUMNS`, times RFC 3339 in UTC, every cell escaped with
    `escape_spreadsheet_cell` (OWASP CSV injection); above 1 MiB the CSV is sent inside
    `<name>.csv.zip` (deflate), since mail relays commonly refuse messages of 10-25 MB.
    Rows are streamed from the database and spooled to a temporary file above 4 MiB,
    never held as Python lists; the e-mail library still encodes the finished message
    in memory, so memory use is a small multiple of the attachment's size. `Message-ID`
    is deterministic, `<digest-{pk}-{sha256[:16]}@csirtnet>`, so that a resend is
    recognisable.

    A named person's row (`digest.user`, TLP:RED) is built by `build_named_person_message`
    instead: no event content at all.

    Raises:
        PointOfContact.DoesNotExist: the organization has no CSIRT 24/7 point of contact.
    """
    if digest.user_id is not None:
        return build_named_person_message(digest)
    report, organization = digest.report, digest.organization
    contact = PointOfContact.objects.get(organization=organization, role=ContactRole.CSIRT_24_7)
    language = contact.mail_language
    events = _digest_events(digest)
    counts = list(
        events.values_list("report_type", "taxonomy", "type")
        .annotate(count=Count("pk"))
        .order_by("report_type", "taxonomy", "type")
    )
    event_count = sum(row[3] for row in counts)
    label = digest_label(digest)
    attachment_name, content, mimetype = _attachment(
        _attachment_name(report, organization), _events_csv(events)
    )
    with translation.override(language):
        subject = f"[{label.label}] " + ngettext(
            "csirtnet digest: %(count)d event for %(organization)s from %(file)s",
            "csirtnet digest: %(count)d events for %(organization)s from %(file)s",
            event_count,
        ) % {
            "count": event_count,
            "organization": organization.short_name,
            "file": _one_line(report.file_name),
        }
        body = _digest_body(digest, label, counts, event_count, attachment_name)
    message = Email(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[contact.email],
        headers={
            "Message-ID": digest_message_id(digest),
            "Content-Language": language,
            "Auto-Submitted": "auto-generated",  # RFC 3834: no auto-replies
        },
    )
    message.attach(attachment_name, content, mimetype)
    return message


def named_person_withheld_reason(digest: Digest) -> str:
    """
    Return why the notice `digest` (a named person's row) must not be sent now, or "".

    Checked at send time, on the report and the user as they are then: the report must
    still be TLP:RED and still name the person (DESIGN.md, "TLP 2.0": RED goes to the
    people addressed by name), the person must still see at least one of its events, and
    the user must be active with an e-mail address.

    Raises:
        ValueError: `digest` is an organization's row.
    """
    report, user = digest.report, digest.user
    if user is None:
        raise ValueError(f"digest {digest.pk} is not a named person's row")
    if report.tlp != TLP.RED:
        return _("The report is no longer TLP:RED; its people are not notified by name.")
    if not report.recipient_people.filter(pk=user.pk).exists():
        return _("This person is no longer addressed by name in the report.")
    if not user.is_active or not user.email:
        return _("This person has no e-mail address or is no longer active.")
    actor = actor_for(user)
    if actor is None or not Event.objects.visible_to(actor).filter(report_id=report.pk).exists():
        return _("This person no longer sees any event of the report.")
    return ""


def build_named_person_message(digest: Digest) -> EmailMessage:
    """
    Build the notice of `digest`, the row of one person a TLP:RED report names, to that
    user's own e-mail address.

    Subject: "[TLP:RED] csirtnet: a report addressed to you by name" (the label exactly,
    never translated). The body carries no event content, neither the file name nor a
    count: only that a TLP:RED report is addressed to the person by name, the link to
    the report page (settings.CSIRTNET_SITE_URL) and how to handle the message. In the
    first language the site offers of the CSIRT 24/7 point of contact of the person's
    organization (as a digest to it), else settings.LANGUAGE_CODE. `Message-ID` is
    `digest_message_id`, as for digests.

    Raises:
        ValueError: `digest` is an organization's row.
    """
    user = digest.user
    if user is None:
        raise ValueError(f"digest {digest.pk} is not a named person's row")
    contact = PointOfContact.objects.filter(
        organization_id=digest.organization_id, role=ContactRole.CSIRT_24_7
    ).first()
    language = contact.mail_language if contact else str(settings.LANGUAGE_CODE)
    with translation.override(language):
        subject = f"[{TLP.RED.label}] " + _("csirtnet: a report addressed to you by name")
        body = _named_person_body(digest.report)
    return Email(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[str(user.email)],
        headers={
            "Message-ID": digest_message_id(digest),
            "Content-Language": language,
            "Auto-Submitted": "auto-generated",  # RFC 3834: no auto-replies
        },
    )


def _named_person_body(report: Report) -> str:
    lines = [
        TLP.RED.label,
        "",
        _(
            "A report labelled TLP:RED is addressed to you by name on csirtnet. Its "
            "content is never sent by e-mail."
        ),
        "",
        _("Sign in to read it: %(url)s") % {"url": _report_url(report)},
        "",
        _(
            "TLP:RED: for the people named only. Do not forward this message or share the "
            "report with anyone else."
        ),
    ]
    return "\n".join(lines) + "\n"


_ZIP_ABOVE_BYTES = 1 << 20  # CSVs above 1 MiB travel zipped: relays refuse 10-25 MB mail


def _attachment(csv_name: str, text: str) -> tuple[str, str | bytes, str]:
    """Return (file name, content, MIME type): the CSV itself, or zipped when large."""
    data = text.encode("utf-8")
    if len(data) <= _ZIP_ABOVE_BYTES:
        return csv_name, text, "text/csv"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(csv_name, data)
    return f"{csv_name}.zip", buffer.getvalue(), "application/zip"


def digest_message_id(digest: Digest) -> str:
    """Return the deterministic Message-ID of `digest`: `<digest-{pk}-{sha256[:16]}@csirtnet>`."""
    return f"<digest-{digest.pk}-{digest.report.sha256[:16]}@csirtnet>"


def send_digest(*, digest_id: int) -> DeliveryOutcome:
    """
    Deliver digest `digest_id` once, if it is pending and its report is complete.

    Steps: check without a lock, build the message (outside the lock, so that reading a
    large report does not hold it), then lock the digest row (`select_for_update()` in
    `transaction.atomic()`; on SQLite the IMMEDIATE transaction serializes writers),
    re-check, send over SMTP and mark it sent (`sent_at` UTC, `message_id`) in that same
    transaction. A second worker waits for the lock and then sees "sent": exactly once,
    except that a crash after the SMTP server accepted the message and before the commit
    leaves the digest pending and a later run sends it again (at most one duplicate per
    such crash, recognisable by its deterministic Message-ID). On SQLite the lock blocks
    other writers for the SMTP conversation (at most EMAIL_TIMEOUT per step), and a
    worker that finds the database locked keeps trying to take the lock for up to
    `_LOCK_WAIT_SECONDS` (5 minutes) before it raises.

    Without a CSIRT 24/7 point of contact the digest becomes `no_contact`; a digest whose
    TLP label forbids e-mail (`withheld_reason`) becomes `withheld` with the reason in
    `last_error`. Neither sends anything.

    A named person's row (TLP:RED) is sent the same way, as `build_named_person_message`,
    and becomes `withheld` (reason in `last_error`) when `named_person_withheld_reason`
    says so, checked again under the lock.

    Raises:
        Digest.DoesNotExist: no digest `digest_id`.
        smtplib.SMTPException, OSError: the SMTP server refused or could not be reached;
            `attempt_count` and `last_error` are recorded and the digest stays pending.
        django.db.OperationalError: the lock could not be taken in time (nothing sent).
    """
    digest = Digest.objects.select_related("report", "organization__state", "user").get(
        pk=digest_id
    )
    if not _is_due(digest):
        return DeliveryOutcome.SKIPPED
    if digest.user_id is not None:
        reason = named_person_withheld_reason(digest)
        message = None if reason else build_named_person_message(digest)
        return _send_locked(digest_id=digest_id, message=message, withheld=reason)
    reason = withheld_reason(label=digest_label(digest), organization=digest.organization)
    message = None
    if not reason:
        try:
            message = build_digest_message(digest)
        except PointOfContact.DoesNotExist:
            message = None
    return _send_locked(digest_id=digest_id, message=message, withheld=reason)


def _send_locked(
    *, digest_id: int, message: EmailMessage | None, withheld: str
) -> DeliveryOutcome:
    error: Exception | None = None
    with _locked_digest(digest_id) as digest:
        if not _is_due(digest):
            return DeliveryOutcome.SKIPPED
        if digest.user_id is not None and not withheld:
            # the report as it is under the lock: relabelled or a name removed meanwhile
            withheld = named_person_withheld_reason(digest)
        if withheld:
            _save(digest, status=DigestStatus.WITHHELD, last_error=withheld)
            return DeliveryOutcome.WITHHELD
        if message is None:
            _save(digest, status=DigestStatus.NO_CONTACT)
            return DeliveryOutcome.NO_CONTACT
        attempt_count = digest.attempt_count + 1
        try:
            message.send()
        except (smtplib.SMTPException, OSError) as exc:
            error = exc
            _save(digest, attempt_count=attempt_count, last_error=f"{type(exc).__name__}: {exc}")
        else:
            _save(
                digest,
                status=DigestStatus.SENT,
                attempt_count=attempt_count,
                last_error="",
                sent_at=timezone.now(),
                message_id=message.extra_headers["Message-ID"],
            )
    if error is not None:
        raise error
    return DeliveryOutcome.SENT


@contextmanager
def _locked_digest(digest_id: int) -> Iterator[Digest]:
    """
    Yield digest `digest_id` locked for update inside `transaction.atomic()`.

    While SQLite answers "database is locked" (its busy timeout ran out while another
    worker holds the write lock for a long SMTP conversation) or "database table is
    locked" (shared-cache in-memory databases do not wait at all), try again for up to
    `_LOCK_WAIT_SECONDS`. Only taking the lock is retried: an error after it is raised.
    """
    deadline = time.monotonic() + _LOCK_WAIT_SECONDS
    while True:
        acquired = False
        try:
            with transaction.atomic():
                digest = (
                    Digest.objects.select_for_update(of=("self",))
                    .select_related("report")
                    .get(pk=digest_id)
                )
                acquired = True
                yield digest
            return
        except OperationalError as exc:
            if acquired or "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(_LOCK_POLL_SECONDS)


def deliver_pending_digests(*, limit: int | None = None, dry_run: bool = False) -> DeliverySummary:
    """
    Deliver every pending digest of a completed report, oldest first, at most `limit`,
    each with `deliver_digest.call` (synchronously, in this process). This is the sweeper:
    `csirtnet worker --batch` and `csirtnet deliver-digests` run it, and it recovers
    digests whose task was lost. A digest that fails (SMTP) is logged, counted as failed
    and stays pending; the others are still delivered.

    With `dry_run`, send and change nothing: count what a run would do.
    """
    from csirtnet.reports.tasks import deliver_digest  # tasks.py imports this module

    digest_ids = _due_digests().order_by("pk").values_list("pk", flat=True)
    summary = DeliverySummary()
    for digest_id in list(digest_ids if limit is None else digest_ids[:limit]):
        if dry_run:
            summary.add(_planned_outcome(digest_id))
            continue
        try:
            outcome = deliver_digest.call(digest_id=digest_id)
        # One digest's failure must not hold back the others; it stays pending.
        except Exception:
            logger.exception("Digest %s was not delivered; it stays pending.", digest_id)
            summary.failed_count += 1
        else:
            summary.add(outcome)
    return summary


def _planned_outcome(digest_id: int) -> DeliveryOutcome:
    digest = Digest.objects.select_related("report", "organization", "user").get(pk=digest_id)
    if digest.user_id is not None:
        withheld = named_person_withheld_reason(digest)
        return DeliveryOutcome.WITHHELD if withheld else DeliveryOutcome.SENT
    if withheld_reason(label=digest_label(digest), organization=digest.organization):
        return DeliveryOutcome.WITHHELD
    contacts = PointOfContact.objects.filter(
        organization=digest.organization, role=ContactRole.CSIRT_24_7
    )
    return DeliveryOutcome.SENT if contacts.exists() else DeliveryOutcome.NO_CONTACT


def _is_due(digest: Digest) -> bool:
    return digest.status == DigestStatus.PENDING and digest.report.completed_at is not None


def _save(digest: Digest, **changes: Any) -> None:
    for name, value in changes.items():
        setattr(digest, name, value)
    digest.save(update_fields=list(changes))


def _digest_events(digest: Digest) -> QuerySet[Event]:
    return Event.objects.filter(report_id=digest.report_id, organization_id=digest.organization_id)


def _inbox_url(report: Report) -> str:
    site = settings.CSIRTNET_SITE_URL.rstrip("/")
    return f"{site}{reverse('reports:inbox')}?report={report.uuid}"


def _report_url(report: Report) -> str:
    site = settings.CSIRTNET_SITE_URL.rstrip("/")
    return f"{site}{reverse('reports:report_detail', args=[report.uuid])}"


def _one_line(text: str) -> str:
    """Return `text` with runs of whitespace and control characters as one space."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _attachment_name(report: Report, organization: Organization) -> str:
    stem = _UNSAFE_FILE_NAME.sub("_", PurePath(report.file_name).stem).strip("._") or "report"
    short_name = _UNSAFE_FILE_NAME.sub("_", organization.short_name)
    return f"{stem}-{short_name}.csv"


def _digest_body(
    digest: Digest,
    label: TLP,
    counts: list[tuple[str, str, str, int]],
    event_count: int,
    attachment_name: str,
) -> str:
    report, organization = digest.report, digest.organization
    state = f" ({organization.state.name})" if organization.state else ""
    lines = [
        label.label,
        "",
        ngettext(
            "The report %(file)s (%(source)s), received at %(received_at)s, has %(count)d event "
            "for %(organization)s%(state)s.",
            "The report %(file)s (%(source)s), received at %(received_at)s, has %(count)d events "
            "for %(organization)s%(state)s.",
            event_count,
        )
        % {
            "file": _one_line(report.file_name),
            "source": report.source,
            "received_at": _rfc3339(report.received_at),
            "count": event_count,
            "organization": organization.short_name,
            "state": state,
        },
        "",
        _("Events by report type and classification (RSIT taxonomy/type):"),
        *(f"  {rtype}  {taxonomy}/{etype}: {count}" for rtype, taxonomy, etype, count in counts),
        "",
        _("See them in your inbox: %(url)s") % {"url": _inbox_url(report)},
        _("The attached file %(name)s lists every event, one per row (times in UTC).")
        % {"name": attachment_name},
        "",
        _("Handle this message and its attachment according to %(label)s (FIRST TLP 2.0).")
        % {"label": label.label},
    ]
    return "\n".join(lines) + "\n"


def _events_csv(events: QuerySet[Event]) -> str:
    with tempfile.SpooledTemporaryFile(
        max_size=_SPOOL_MAX_BYTES, mode="w+", encoding="utf-8", newline=""
    ) as spool:
        _write_events_csv(events, spool)
        spool.seek(0)
        return spool.read()


def _write_events_csv(events: QuerySet[Event], handle: IO[str]) -> None:
    writer = csv.writer(handle)
    writer.writerow(CSV_COLUMNS)
    rows = (
        events.order_by("observed_at", "line", "pk")
        .values_list(*CSV_COLUMNS)
        .iterator(chunk_size=_ITERATOR_CHUNK_ROWS)
    )
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _rfc3339(value)
    return escape_spreadsheet_cell(str(value))


def _rfc3339(value: datetime) -> str:
    """Return `value` in RFC 3339 form in UTC with `Z`: 2025-03-14T09:00:00Z."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
