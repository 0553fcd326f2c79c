"""Verbs of report ingestion: parse, route, deduplicate and store events; write the outbox."""

from __future__ import annotations

import ctypes
import functools
import hashlib
import itertools
import multiprocessing
import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from queue import Empty, Full
from typing import Any

import orjson
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext

from csirtnet.accounts.middleware import actor_for
from csirtnet.core import audit
from csirtnet.core.text import CONTROL_RE, printable
from csirtnet.directory.models import Organization
from csirtnet.directory.routing import BatchRoutes, RoutingTable
from csirtnet.reports.models import Digest, Event, RejectedRow, Report
from csirtnet.reports.parsers import ParsedRow, Rejection, detect_format, parse_file
from csirtnet.sharing.tlp import TLP

_READ_CHUNK = 1 << 20
_KEPT_REJECTIONS = 100  # shown by the command; all are stored as RejectedRow
_INSERT_COLUMNS = (
    "uuid", "report_id", "line", "organization_id", "route_rule", "observed_at",
    "source_ip", "source_network", "source_port", "asn", "hostname", "url",
    "report_type", "taxonomy", "type", "malware_family", "file_hash", "country", "tlp",
    "content_key", "raw",
)  # fmt: skip
_Params = tuple[Any, ...]  # one event's insert parameters, in _INSERT_COLUMNS order
_LINE, _ORG, _KEY = (_INSERT_COLUMNS.index(c) for c in ("line", "organization_id", "content_key"))


@dataclass
class IngestSummary:
    """Counts of one ingest run: rows read, events stored, duplicates skipped, rows rejected."""

    report: Report
    rows_read_count: int = 0
    events_stored_count: int = 0
    duplicates_count: int = 0
    rejected_count: int = 0
    already_complete: bool = False
    rejections: list[Rejection] = field(default_factory=list)

    def add(self, other: IngestSummary) -> None:
        """Add another run's counts to these (for a multi-file summary)."""
        self.rows_read_count += other.rows_read_count
        self.events_stored_count += other.events_stored_count
        self.duplicates_count += other.duplicates_count
        self.rejected_count += other.rejected_count


def file_sha256(path: Path) -> str:
    """Return the SHA-256 (hex) of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def content_key(row: ParsedRow) -> str:
    """Return the SHA-256 (hex) of the report type and the raw values: equal rows, equal keys."""
    text = "\x1f".join((row.report_type, *row.raw.values()))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def ingest_file(
    *,
    path: Path,
    fmt: str = "auto",
    source: str | None = None,
    tlp: TLP = TLP.AMBER,
    submitted_by: Organization | None = None,
    recipient_people: Sequence[User] = (),
    table: RoutingTable | None = None,
    batch_rows: int | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> IngestSummary:
    """
    Ingest one abuse report file: every row becomes a routed `Event`, or a `RejectedRow`
    with its line number and reason. Rows are written in transactional batches of
    `batch_rows` (default settings.CSIRTNET_INGEST_BATCH_ROWS); each batch commits its
    events, rejections, digest counts (the outbox) and the report's last line together,
    so a crash loses no committed batch and running the same file again resumes after
    the last committed line. Rows already stored (same content key) are skipped. When the
    file is done, the report is completed and its digests are queued after commit.

    Args:
        path: the file; its SHA-256 identifies the report.
        fmt: "auto" or a format name from `reports.parsers`.
        source: who produced the report (e.g. "shadowserver"); defaults to the format.
        tlp: label of the report and its events (TLP 2.0; unlabelled input is AMBER).
        submitted_by: the member that handed the report to the network, if any.
        recipient_people: the people a TLP:RED report is addressed to by name; they alone
            see its events (required for RED, refused for any other label). Set when
            the report is first stored; a re-run adds nobody.
        table: a routing table built for this run (built here when None).
        on_rows: called with the number of rows of each batch (progress display).

    Raises:
        UnknownLayout: the file's layout is unknown or it has no header (nothing stored).
        ValidationError: a TLP:RED report names nobody, or another label names people
            (nothing stored).
        OSError: the file cannot be read.
    """
    _check_addressees(tlp, recipient_people)
    if fmt == "auto":
        fmt = detect_format(path)
    rows = parse_file(path, fmt)
    first = next(rows, None)  # parse errors of the layout surface before any write
    sha256 = file_sha256(path)
    report = _open_report(path, sha256, fmt, source or fmt, tlp, submitted_by, recipient_people)
    summary = IngestSummary(report=report)
    if report.completed_at is not None:
        summary.already_complete = True
        summary.rows_read_count = report.rows_read_count
        summary.duplicates_count = report.rows_read_count - report.rejected_count
        summary.rejected_count = report.rejected_count
        return summary
    table = table or RoutingTable.build()
    size = batch_rows or settings.CSIRTNET_INGEST_BATCH_ROWS
    stream = _skip_committed(itertools.chain([first] if first else [], rows), report.last_line)
    is_postgres = connection.vendor == "postgresql"
    batches: Iterator[_Prepared] = (
        _prepare(batch, table, report, is_postgres) for batch in _chunks(stream, size)
    )
    if path.stat().st_size >= _PARALLEL_BYTES:
        batches = _in_subprocess(batches)
    for prepared in batches:
        _store_batch(report, prepared, summary)
        if on_rows:
            on_rows(prepared.row_count)
    _complete(report)
    return summary


def _chunks(
    rows: Iterator[ParsedRow | Rejection], size: int
) -> Iterator[list[ParsedRow | Rejection]]:
    while batch := list(islice(rows, size)):
        yield batch


@dataclass
class _Prepared:
    """
    A batch parsed, keyed, routed and turned into insert parameters, ready to write:
    plain values only, so it crosses a process boundary cheaply.
    """

    row_count: int
    last_line: int
    params: list[_Params]
    rejected: list[Rejection]


def _prepare(
    batch: list[ParsedRow | Rejection], table: RoutingTable, report: Report, is_postgres: bool
) -> _Prepared:
    """Do a batch's work that needs no database (in a producer process for big files)."""
    parsed: list[ParsedRow] = []
    rejected: list[Rejection] = []
    for row in batch:
        if isinstance(row, Rejection):
            rejected.append(row)
        elif (too_long := _too_long(row)) is not None:
            rejected.append(too_long)
        else:
            parsed.append(row)
    keys = [content_key(r) for r in parsed]
    routes = _route(parsed, table)
    return _Prepared(
        row_count=len(batch),
        last_line=max(r.line for r in batch),
        params=_event_params(report, list(zip(parsed, keys, strict=True)), routes, is_postgres),
        rejected=rejected,
    )


@functools.cache
def _column_limits() -> tuple[tuple[str, int], ...]:
    """(field, max_length) of the event's bounded text columns a parsed row fills."""
    fields = ("hostname", "report_type", "taxonomy", "type", "malware_family", "file_hash",
              "source_network")  # fmt: skip
    return tuple((name, getattr(Event._meta.get_field(name), "max_length", 0)) for name in fields)


def _too_long(row: ParsedRow) -> Rejection | None:
    """
    Reject a row with a value longer than its column holds (PostgreSQL would fail) or
    holding control characters (they would reach pages, CSV files and terminals).
    """
    for name, limit in _column_limits():
        value = getattr(row, name)
        if value is None:
            continue
        if len(value) > limit:
            return Rejection(
                line=row.line,
                reason=gettext('field "%(field)s": longer than %(limit)d characters')
                % {"field": name, "limit": limit},
            )
        if not value.isprintable() and CONTROL_RE.search(value):
            return Rejection(
                line=row.line,
                reason=gettext('field "%(field)s": "%(value)s" contains control characters')
                % {"field": name, "value": printable(value[:80])},
            )
    return None


_PARALLEL_BYTES = 8 << 20  # files this big are parsed in a second process
_DONE = "done"
_PARENT_CHECK_SECONDS = 0.5  # a parser whose writer died notices within this (plus a batch)


def _in_subprocess(batches: Iterator[_Prepared], depth: int = 2) -> Iterator[_Prepared]:
    """
    Produce `batches` in a forked process while this one writes: parsing, hashing and
    routing then run on another core instead of competing for this interpreter's lock
    with the database writes. The child touches no database connection; its errors are
    raised here, in order. A generator's consumer that stops early ends the child, and
    so does the death of this process (SIGKILL, out of memory): see `_put_or_exit`.
    """
    context = multiprocessing.get_context("fork")
    queue = context.Queue(maxsize=depth)
    writer_pid = os.getpid()

    def produce() -> None:
        _die_with(writer_pid)
        try:
            for prepared in batches:
                _put_or_exit(queue, prepared, writer_pid)
            _put_or_exit(queue, _DONE, writer_pid)
        except BaseException as exc:  # handed to the consumer, which raises it
            _put_or_exit(queue, exc, writer_pid)

    child = context.Process(target=produce, name="csirtnet-ingest-parser", daemon=True)
    child.start()
    try:
        while True:
            try:
                item = queue.get(timeout=1.0)
            except Empty:
                if not child.is_alive():
                    raise RuntimeError(  # noqa: B904 - the child died without a word
                        f"the ingest parser process ended with code {child.exitcode}"
                    )
                continue
            if item == _DONE:
                break
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        if child.is_alive():
            child.terminate()
        child.join(timeout=5)
        queue.close()


def _die_with(writer_pid: int) -> None:
    """
    Ask Linux to SIGKILL this forked parser the moment the writer dies (prctl
    PR_SET_PDEATHSIG), even in the middle of parsing a batch; elsewhere, and as a
    second guard, `_put_or_exit` notices it at the next hand-over.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the hand-over check remains
        return
    if os.getppid() != writer_pid:  # the writer died before the request took effect
        os._exit(1)


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _put_or_exit(queue: Any, item: object, writer_pid: int) -> None:
    """
    Hand `item` to the writer, or end this forked parser at once when the writer is
    gone. A writer killed outright runs no clean-up, and the parser inherited its open
    database socket: left waiting on a full queue forever, it kept the killed writer's
    PostgreSQL session, its open transaction and the report's row lock alive, so that
    every later run of the same file waited on that lock forever. `os._exit` leaves
    without running finalizers (none may touch the inherited connection).
    """
    while True:
        if os.getppid() != writer_pid:
            os._exit(1)
        try:
            queue.put(item, timeout=_PARENT_CHECK_SECONDS)
        except Full:
            continue
        return


def _skip_committed(
    rows: Iterable[ParsedRow | Rejection], last_line: int
) -> Iterator[ParsedRow | Rejection]:
    for row in rows:
        if row.line > last_line:
            yield row


def _check_addressees(tlp: TLP, recipient_people: Sequence[User]) -> None:
    """Refuse a TLP:RED report addressed to nobody, and names on any other label."""
    if tlp == TLP.RED and not recipient_people:
        raise ValidationError(
            gettext("A TLP:RED report must name the people it is addressed to."),
            code="red_without_addressees",
        )
    if tlp != TLP.RED and recipient_people:
        raise ValidationError(
            gettext("Only a TLP:RED report is addressed to people by name."),
            code="addressees_without_red",
        )


@transaction.atomic
def _open_report(
    path: Path,
    sha256: str,
    fmt: str,
    source: str,
    tlp: TLP,
    submitted_by: Organization | None,
    recipient_people: Sequence[User],
) -> Report:
    report, created = Report.objects.get_or_create(
        sha256=sha256,
        defaults={
            "file_name": path.name[:255],
            "format": fmt,
            "source": source[:100],
            "tlp": tlp,
            "submitted_by": submitted_by,
            "received_at": timezone.now(),
        },
    )
    if created:
        report.recipient_people.set(recipient_people)
        audit.record(
            actor=submitted_by, action="report.received", target=report,
            detail={"file_name": report.file_name, "sha256": sha256, "source": report.source,
                    "recipient_people": sorted(u.get_username() for u in recipient_people)},
        )  # fmt: skip
    return report


def _store_batch(report: Report, prepared: _Prepared, summary: IngestSummary) -> None:
    rejected = prepared.rejected
    with transaction.atomic():
        locked = Report.objects.select_for_update().get(pk=report.pk)
        if prepared.last_line <= locked.last_line:
            return  # another run of the same file committed this batch meanwhile
        stored = _insert_new_events(locked, prepared.params)
        _count_digests(locked, Counter(row[_ORG] for row in stored))
        RejectedRow.objects.bulk_create(
            [RejectedRow(report=locked, line=r.line, reason=r.reason[:2000]) for r in rejected],
            ignore_conflicts=True,
        )
        duplicates = len(prepared.params) - len(stored)
        Report.objects.filter(pk=report.pk).update(
            rows_read_count=F("rows_read_count") + prepared.row_count,
            events_stored_count=F("events_stored_count") + len(stored),
            duplicates_count=F("duplicates_count") + duplicates,
            rejected_count=F("rejected_count") + len(rejected),
            last_line=Greatest(F("last_line"), prepared.last_line),
        )
        audit.record(
            actor=report.submitted_by, action="report.batch_stored", target=locked,
            detail={"last_line": prepared.last_line, "stored": len(stored),
                    "duplicates": duplicates, "rejected": len(rejected)},
        )  # fmt: skip
    summary.rows_read_count += prepared.row_count
    summary.events_stored_count += len(stored)
    summary.duplicates_count += duplicates
    summary.rejected_count += len(rejected)
    summary.rejections.extend(rejected[: max(0, _KEPT_REJECTIONS - len(summary.rejections))])


class _AlreadyStoredError(Exception):
    """Some rows of a batch were already stored: take the careful path."""


def _insert_new_events(report: Report, params: list[_Params]) -> list[_Params]:
    """
    Insert the events not stored yet; return the parameter rows that were inserted.

    Optimistic: most batches hold only new rows, so insert them all inside a savepoint
    and check the count; when some key was already stored (or repeats in the batch),
    roll the savepoint back, look the batch's keys up, and insert only the new rows.
    """
    keys = [row[_KEY] for row in params]
    if len(set(keys)) == len(keys) and all(row[_LINE] > report.last_line for row in params):
        try:
            with transaction.atomic():
                if _insert_events(params) != len(params):
                    raise _AlreadyStoredError
        except _AlreadyStoredError:
            pass
        else:
            return params
    existing = set(
        Event.objects.filter(content_key__in=set(keys)).values_list("content_key", flat=True)
    )
    fresh = []
    for row in params:
        if row[_KEY] not in existing and row[_LINE] > report.last_line:
            existing.add(row[_KEY])
            fresh.append(row)
    _insert_events(fresh)
    return fresh


def _route(parsed: list[ParsedRow], table: RoutingTable) -> BatchRoutes:
    """
    Route rows by their subject. A row with an address is routed by the address (and its
    ASN): its hostname is then the reverse-DNS name, which whoever runs the address
    controls, so it must not move the event to another state's CSIRT. The domain rule
    applies to rows whose subject is a name (a URL host, a domain).
    """
    addresses = [row.source_ip or _network_address(row.source_network) for row in parsed]
    return table.route_batch(
        addresses,
        [row.asn for row in parsed],
        [
            None if address else row.hostname
            for row, address in zip(parsed, addresses, strict=True)
        ],
    )


def _network_address(cidr: str | None) -> str | None:
    """Return the first address of a CIDR (rows that name a network are routed by it)."""
    return cidr.split("/", 1)[0] if cidr else None


def _event_params(
    report: Report, rows: list[tuple[ParsedRow, str]], routes: BatchRoutes, is_postgres: bool
) -> list[_Params]:
    """
    Return one parameter tuple per event, in `_INSERT_COLUMNS` order, adapted once per
    column kind instead of per model field: UUIDv7 from one urandom call, times as naive
    UTC text on SQLite (as Django stores them), the raw row as JSON text.
    """
    uuids = _uuid7_hex(len(rows))
    tlp, report_id, dumps = report.tlp, report.pk, orjson.dumps
    params: list[_Params] = []
    for (row, key), new_uuid, org_id, rule, country in zip(
        rows, uuids, routes.organization_ids, routes.rules, routes.countries, strict=True
    ):
        observed = row.observed_at
        params.append((
            new_uuid, report_id, row.line, org_id, rule,
            observed if is_postgres else observed.replace(tzinfo=None).isoformat(" "),
            row.source_ip, row.source_network or "", row.source_port, row.asn,
            row.hostname or "", row.url or "", row.report_type, row.taxonomy, row.type,
            row.malware_family or "", row.file_hash or "", country or "", tlp, key,
            dumps(row.raw).decode(),
        ))  # fmt: skip
    return params


def _insert_events(params: list[_Params]) -> int:
    """
    Insert events, the hot path of ingest: one executemany on SQLite; on PostgreSQL a
    COPY into a session temporary table, then one INSERT ... SELECT. Return the number
    inserted: a row whose content key exists is skipped (ON CONFLICT DO NOTHING).
    """
    if not params:
        return 0
    ops = connection.ops
    table = ops.quote_name(Event._meta.db_table)
    columns = ", ".join(ops.quote_name(c) for c in _INSERT_COLUMNS)
    if connection.vendor == "postgresql":
        return _copy_events(params, table, columns)
    marks = ", ".join(["%s"] * len(_INSERT_COLUMNS))
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES ({marks}) "  # noqa: S608
        "ON CONFLICT (content_key) DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
        return int(cursor.rowcount)


_LOAD_TABLE = "csirtnet_event_load"


def _copy_events(params: list[_Params], table: str, columns: str) -> int:
    """PostgreSQL: COPY the rows into a temporary table of the same types, then move them."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_LOAD_TABLE} ON COMMIT DELETE ROWS AS "  # noqa: S608
            f"SELECT {columns} FROM {table} WITH NO DATA"
        )
        cursor.execute(f"TRUNCATE {_LOAD_TABLE}")
        with cursor.cursor.copy(f"COPY {_LOAD_TABLE} ({columns}) FROM STDIN") as copy:
            for row in params:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {_LOAD_TABLE} "  # noqa: S608
            "ON CONFLICT (content_key) DO NOTHING"
        )
        return int(cursor.rowcount)


def _uuid7_hex(count: int) -> list[str]:
    """
    Return `count` UUIDv7 (RFC 9562 section 5.7) as 32 hex digits: this millisecond's
    Unix time, then random bits. Time-ordered ids keep the unique index on `uuid`
    appending at its end instead of writing all over it, which matters at a million rows.
    """
    block = bytearray(os.urandom(16 * count))
    for k, byte in enumerate((time.time_ns() // 1_000_000).to_bytes(6, "big")):
        block[k::16] = bytes((byte,)) * count
    block[6::16] = bytes((b & 0x0F) | 0x70 for b in block[6::16])
    block[8::16] = bytes((b & 0x3F) | 0x80 for b in block[8::16])
    text = block.hex()
    return [text[i : i + 32] for i in range(0, 32 * count, 32)]


def _count_digests(report: Report, per_org: Counter[int]) -> None:
    """Create or bump the outbox row of each organization that received events."""
    for org_id, count in per_org.items():
        updated = Digest.objects.filter(
            report=report, organization_id=org_id, user__isnull=True
        ).update(event_count=F("event_count") + count)
        if not updated:
            Digest.objects.create(report=report, organization_id=org_id, event_count=count)


def add_named_person_digests(report: Report) -> list[Digest]:
    """
    Write the outbox row (`Digest.user` set) of each person TLP:RED `report` names who
    sees at least one of its events: `Event.objects.visible_to` their actor (the user's
    first active membership, as the site signs them in) holds one of the report's
    events. A person named whose organization received none of them gets nothing; a
    secretariat member named sees them all. Nothing for another label. A row already
    written is kept as it is (one per report and person).

    DESIGN.md, "TLP 2.0": TLP:RED goes to the people addressed by name, never in
    digests; the worker sends each person a notice without content (`reports.delivery`).

    Returns:
        The rows written now.
    """
    if report.tlp != TLP.RED:
        return []
    created = []
    for user in report.recipient_people.order_by("pk"):
        actor = actor_for(user)
        if actor is None:
            continue
        seen = Event.objects.visible_to(actor).filter(report_id=report.pk).count()
        if not seen:
            continue
        try:
            with transaction.atomic():
                created.append(
                    Digest.objects.create(
                        report=report,
                        organization_id=actor.organization_id,
                        user=user,
                        event_count=seen,
                    )
                )
        except IntegrityError:
            continue  # already written: each person is told once
    return created


def _complete(report: Report) -> None:
    """
    Mark the report complete, write the notices of the people a TLP:RED report names
    (`add_named_person_digests`) and queue its digests once that commits.
    """
    with transaction.atomic():
        done = Report.objects.filter(pk=report.pk, completed_at__isnull=True).update(
            completed_at=timezone.now()
        )
        if done:
            from csirtnet.reports.delivery import enqueue_report_digests

            audit.record(actor=report.submitted_by, action="report.completed", target=report)
            add_named_person_digests(report)

            transaction.on_commit(lambda: enqueue_report_digests(report_id=report.pk), robust=True)
    report.refresh_from_db()
