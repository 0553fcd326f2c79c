"""
Crash safety: the real commands, killed with SIGKILL at random points, lose nothing.

On a database of the suite's engine (tests/soak/conftest.py), report files of tens of
thousands of Shadowserver rows are ingested and the worker delivers digests and incident
notifications to a real SMTP server, while each command is killed at random points and
run again until it completes. The number of kills per database is SOAK_KILLS (default
10: 20 over the SQLite and PostgreSQL runs of the suite; `make soak` runs 100 each).

What must hold afterwards: every distinct row of the files is stored once, as the oracle
(the files read with the csv module) says; each report's counts and digests match its
events; every digest and notification is marked sent and reached the SMTP server; and a
message reached it twice only when a kill landed after the server took the message and
before the sender recorded it (at-least-once delivery: DESIGN's outbox, see
`reports.delivery.send_digest`). Such a copy carries the same Message-ID as the first.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
import signal
import threading
import time
import zipfile
from collections import Counter
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.soak.conftest import Soak
from tests.soak.harness import (
    BATCH_ROWS,
    SIGKILLED,
    Run,
    SoakDatabase,
    assert_no_survivors,
    data_rows,
    finish,
    kill,
    kill_after,
    kill_when,
    line_count,
    make_report,
    soak_kills,
    start,
)

pytestmark = pytest.mark.soak

_PARALLEL_BYTES = 8 << 20  # reports.services parses files this big in a forked process
_MAX_INGEST_KILLS_PER_FILE = 3
# After a kill, the server may still be reading a message the killed worker had sent
# in full; it belongs to that run, so wait before the next run starts.
_SETTLE_SECONDS = 1.0


def test_sqlite_runs_in_wal_with_synchronous_full(soak, django_db_blocker):
    if soak.db.vendor != "sqlite":
        pytest.skip("SQLite pragmas; this run is on PostgreSQL")
    from django.db import connections
    from django.db.backends.sqlite3.base import DatabaseWrapper

    app_settings = {**connections["default"].settings_dict, "NAME": soak.db.name}
    connection = DatabaseWrapper(app_settings, alias="soak")  # the app's OPTIONS, init_command
    with django_db_blocker.unblock():
        try:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA journal_mode")
                journal_mode = cursor.fetchone()[0]
                cursor.execute("PRAGMA synchronous")
                synchronous = cursor.fetchone()[0]
        finally:
            connection.close()
    assert journal_mode == "wal"
    assert synchronous == 2  # FULL: the WAL is synced at every commit
    assert soak.db.value("PRAGMA journal_mode") == "wal"  # kept in the database file


def test_a_killed_big_ingest_leaves_no_parser_behind_and_the_rerun_completes(soak):
    """
    Regression: the forked parser of a big file outlived a SIGKILLed ingest, blocked on
    its queue forever and kept the killed run's PostgreSQL connection, with its open
    transaction and the report's row lock, so every later run of the file hung.
    """
    db = soak.db
    path = make_report(db.var_dir, number=1, rows=34_000, shared_data=soak.shared_data)
    assert path.stat().st_size >= _PARALLEL_BYTES
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    run = start(db, "ingest", "--source", "shadowserver", str(path))
    assert kill_when(run, lambda: _last_line(db, sha256) > BATCH_ROWS, 0.2)  # no survivors
    soak.record("ingest", "regression", "after its first batch; parser forked")
    if db.vendor == "postgresql":
        _wait_until(lambda: not _other_sessions(db), "the killed run's session to end")
    first = _last_line(db, sha256)
    finish(start(db, "ingest", "--source", "shadowserver", str(path)), timeout=300)
    db.files.append(path)
    assert first < line_count(path) == _last_line(db, sha256)
    assert _report_events(db, sha256) == len(data_rows(path))


def test_killed_ingest_and_worker_lose_nothing_and_resend_only_unrecorded_mail(soak):
    db = soak.db
    budget = soak_kills()
    ingest_budget = (budget + 1) // 2
    worker_budget = budget - ingest_budget
    rounds = max(1, math.ceil(ingest_budget / _MAX_INGEST_KILLS_PER_FILE))
    per_round = max(1, math.ceil(worker_budget / rounds))
    unrecorded: Counter[str] = Counter()  # Message-ID: copies the server took, not recorded
    incidents = 0
    round_number = 0
    started = time.monotonic()
    while _kills(soak, "ingest") < ingest_budget or _kills(soak, "worker") < worker_budget:
        round_number += 1
        assert round_number <= budget + 2, "the kills keep missing: the commands end first"
        path = make_report(
            db.var_dir,
            number=100 + round_number,
            rows=34_000 if round_number % 2 else 12_000,  # big files: parsed in a forked process
            shared_data=soak.shared_data,
            repeat_from=db.files[-1] if db.files else None,
        )
        wanted = min(_MAX_INGEST_KILLS_PER_FILE, ingest_budget - _kills(soak, "ingest"))
        _ingest_with_kills(soak, path, max(0, wanted))
        run = start(db, "incidents", f"--round={round_number}", "--count=2", scenario=True)
        finish(run)
        soak.startup_seconds = time.monotonic() - run.started_at  # Django's start-up, about
        incidents += 2
        wanted = min(per_round, worker_budget - _kills(soak, "worker"))
        _deliver_with_kills(soak, max(0, wanted), unrecorded)

    _print_summary(soak, time.monotonic() - started)
    _assert_every_row_stored_once(db)
    _assert_digests_match_events(db, soak.sink.first_copies())
    assert _status_counts(db, "incidents_notification") == {"sent": incidents * 4}
    copies = soak.sink.copies()
    assert set(copies) == db.sent_message_ids()
    resent = {message_id: count - 1 for message_id, count in copies.items() if count > 1}
    assert resent == dict(unrecorded)


# --- ingest ------------------------------------------------------------------------------


def _ingest_with_kills(soak: Soak, path: Path, kills: int) -> None:
    """Ingest `path`, killing the command up to `kills` times, then once to completion."""
    db, rng = soak.db, soak.rng
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    done = 0
    while True:
        before = _last_line(db, sha256)
        run = start(db, "ingest", "--source", "shadowserver", str(path))
        if done >= kills:
            finish(run)
            break
        if rng.random() < 0.25:
            trigger = "time"
            killed = kill_after(run, rng.uniform(0.1, 1.3) * soak.startup_seconds)
        else:
            trigger = "progress"
            target = before + BATCH_ROWS * rng.randint(1, 3)

            def committed(target: int = target) -> bool:
                return _last_line(db, sha256) >= target

            killed = kill_when(run, committed, rng.uniform(0, 0.4))
        if not killed:
            break  # it completed before the kill
        done += 1
        after = _last_line(db, sha256)
        _assert_report_consistent(db, sha256)
        batches = (after - before) // BATCH_ROWS if after > before else 0
        landing = (
            f"{batches} batches committed by this run"
            if batches
            else "before this run committed a batch (start-up, routing table, parsing)"
        )
        if path.stat().st_size >= _PARALLEL_BYTES:
            landing += "; parser forked"
        soak.record("ingest", trigger, landing)
    db.files.append(path)
    assert _last_line(db, sha256) == line_count(path)


def _assert_report_consistent(db: SoakDatabase, sha256: str) -> None:
    """What a crash leaves: whole batches, with counts, digests and resume line agreeing."""
    found = db.rows(
        "SELECT id, last_line, rows_read_count, events_stored_count, duplicates_count, "
        "rejected_count FROM reports_report WHERE sha256 = %s",
        [sha256],
    )
    if not found:
        return  # killed before the report row was written
    report_id, last_line, read, stored, duplicates, rejected = found[0]
    events = db.value("SELECT count(*) FROM reports_event WHERE report_id = %s", [report_id])
    digested = db.value(
        "SELECT coalesce(sum(event_count), 0) FROM reports_digest WHERE report_id = %s",
        [report_id],
    )
    assert rejected == 0
    assert read == max(0, last_line - 1)  # the header is line 1
    assert stored + duplicates == read
    assert events == stored == digested


# --- delivery ----------------------------------------------------------------------------


def _deliver_with_kills(soak: Soak, kills: int, unrecorded: Counter[str]) -> None:
    """
    Run `csirtnet worker --batch`, killing it up to `kills` times, then once to completion.
    A kill either lands at a random time, or at the n-th message of the run: inside the
    server's handling of it, before it answers (the message is taken, the sender never
    hears so), or a few milliseconds after it was taken (before or after the sender's
    commit). After each kill, note the messages the server took that the database does
    not mark sent: only those may be sent again.
    """
    db, sink, rng = soak.db, soak.sink, soak.rng
    done = 0
    while True:
        sink.run += 1
        run = start(db, "worker", "--batch")
        if done >= kills:
            finish(run)
            break
        trigger = rng.choice(["time", "in the SMTP reply", "after a message"])
        if not any(k.trigger == "in the SMTP reply" for k in soak.kills):
            trigger = "in the SMTP reply"  # the classic window, once on every database
        if trigger == "time":
            killed = kill_after(run, rng.uniform(0.1, 1.5) * soak.startup_seconds)
        else:
            killed = _kill_at_message(soak, run, rng.randint(1, 4), trigger == "in the SMTP reply")
        if not killed:
            break
        done += 1
        time.sleep(_SETTLE_SECONDS)
        sent = sink.of_run(sink.run)
        pending = [m.message_id for m in sent if db.outbox_status(m.message_id) == "pending"]
        assert len(pending) <= 1, pending  # one message at a time is in flight
        unrecorded.update(pending)
        assert db.sent_message_ids() <= set(sink.copies())  # never marked sent but not taken
        if pending:
            landing = "message taken by the server, not yet marked sent: it is sent again"
        elif sent:
            landing = "between messages: each one taken was marked sent"
        else:
            landing = "before its first message (start-up, queued tasks, building a digest)"
        soak.record("worker", trigger, landing)


def _kill_at_message(soak: Soak, run: Run, count: int, in_reply: bool) -> bool:
    """Kill `run` at its `count`-th message (see `_deliver_with_kills`), unless it ends first."""
    reached = threading.Event()

    def on_message(received: int) -> None:
        if received >= count and not reached.is_set():
            if in_reply and run.process.returncode is None:
                os.kill(run.process.pid, signal.SIGKILL)
            reached.set()

    soak.sink.arm(on_message)
    try:
        while not reached.wait(0.02):
            if not run.alive():
                return kill(run)  # ended by itself: checks it exited 0
    finally:
        soak.sink.arm(None)
    if in_reply:
        run.process.wait()
        assert_no_survivors(run)
        return run.process.returncode == SIGKILLED
    time.sleep(soak.rng.uniform(0, 0.05))
    return kill(run)


# --- final checks ------------------------------------------------------------------------


def _assert_every_row_stored_once(db: SoakDatabase) -> None:
    """Each report stored exactly the rows no earlier report had (the oracle), once."""
    seen: set[tuple[str, ...]] = set()
    expected, actual = {}, {}
    for path in db.files:
        rows = data_rows(path)
        fresh = len(rows - seen)
        seen |= rows
        expected[path.name] = (line_count(path) - 1, fresh, len(rows) - fresh, 0, fresh, True)
    for name, read, stored, duplicates, rejected, events, complete in db.rows(
        "SELECT r.file_name, r.rows_read_count, r.events_stored_count, r.duplicates_count, "
        "r.rejected_count, (SELECT count(*) FROM reports_event e WHERE e.report_id = r.id), "
        "r.completed_at IS NOT NULL FROM reports_report r"
    ):
        actual[name] = (read, stored, duplicates, rejected, events, bool(complete))
    assert actual == expected
    assert db.value("SELECT count(*) FROM reports_event") == len(seen)
    assert db.value("SELECT count(DISTINCT content_key) FROM reports_event") == len(seen)


def _assert_digests_match_events(db: SoakDatabase, messages: dict[str, EmailMessage]) -> None:
    """One digest per report and organization with events, sent, carrying exactly those."""
    events = {
        (report, organization): count
        for report, organization, count in db.rows(
            "SELECT report_id, organization_id, count(*) FROM reports_event GROUP BY 1, 2"
        )
    }
    digests = db.rows(
        "SELECT d.id, d.report_id, d.organization_id, d.event_count, r.sha256 "
        "FROM reports_digest d JOIN reports_report r ON r.id = d.report_id"
    )
    assert {(report, org): count for _pk, report, org, count, _sha in digests} == events
    assert _status_counts(db, "reports_digest") == {"sent": len(digests)}
    for pk, _report, _org, count, sha256 in digests:
        message = messages[f"<digest-{pk}-{sha256[:16]}@csirtnet>"]
        assert f": {count} " in str(message["Subject"])  # "...digest: 42 events for ..."
        assert _attached_rows(message) == count


def _attached_rows(message: EmailMessage) -> int:
    """Return the number of event rows in a digest's CSV attachment (zipped when large)."""
    (attachment,) = list(message.iter_attachments())
    content = attachment.get_content()
    if attachment.get_filename().endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            content = archive.read(archive.namelist()[0]).decode("utf-8")
    return sum(1 for _row in csv.reader(io.StringIO(content))) - 1


def _status_counts(db: SoakDatabase, table: str) -> dict[str, int]:
    return dict(db.rows(f"SELECT status, count(*) FROM {table} GROUP BY status"))  # noqa: S608


def _print_summary(soak: Soak, seconds: float) -> None:
    """Print where the kills landed (shown with -s or -rP) and what the worker left behind."""
    stuck = soak.db.value(
        "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status = 'RUNNING'"
    )
    print(
        f"\ncrash soak on {soak.db.vendor}: seed {soak.seed}, {len(soak.kills)} kills, "
        f"{seconds:.0f} s after set-up, {stuck} task results left RUNNING by killed workers"
    )
    for (command, trigger, landing), count in sorted(
        Counter((k.command, k.trigger, k.landing) for k in soak.kills).items()
    ):
        print(f"  {count:4d}  {command:<15} {trigger:<18} {landing}")


# --- queries -----------------------------------------------------------------------------


def _kills(soak: Soak, command: str) -> int:
    """Return the kills of `command` on this database so far."""
    return sum(1 for k in soak.kills if k.command == command)


def _last_line(db: SoakDatabase, sha256: str) -> int:
    return int(db.value("SELECT last_line FROM reports_report WHERE sha256 = %s", [sha256]) or 0)


def _report_events(db: SoakDatabase, sha256: str) -> int:
    return int(
        db.value(
            "SELECT count(*) FROM reports_event e JOIN reports_report r ON r.id = e.report_id "
            "WHERE r.sha256 = %s",
            [sha256],
        )
    )


def _other_sessions(db: SoakDatabase) -> list[tuple[object, ...]]:
    return db.rows(
        "SELECT pid, state FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        [db.name],
    )


def _wait_until(condition, what: str, seconds: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.1)
