"""
Harness of the crash soak: a database of its own, the real `csirtnet` commands as child
processes killed with SIGKILL, an SMTP sink that records which run sent what, and the
oracle (the rows of the CSV files, read independently of the ingest).
"""

from __future__ import annotations

import contextlib
import csv
import email
import email.message
import email.policy
import importlib.util
import itertools
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
COMMAND = [sys.executable, "-m", "csirtnet.cli"]
SCENARIO = [sys.executable, "-m", "tests.soak.scenario"]
BATCH_ROWS = 2000  # CSIRTNET_INGEST_BATCH_ROWS of the soak: many commit points per file
COMMAND_TIMEOUT_SECONDS = 900  # a command that runs longer hangs (e.g. waits on a lock)
SURVIVOR_SECONDS = 20.0  # processes of a killed command must be gone by then
SIGKILLED = -signal.SIGKILL
_RUN_NUMBERS = itertools.count(1)
_DIGEST_ID = re.compile(r"<digest-(\d+)-[0-9a-f]+@csirtnet>")
_NOTIFICATION_ID = re.compile(r"<incident-notification-(\d+)-[^@>]+@csirtnet>")


def soak_kills() -> int:
    """Return the number of kills of the soak on one database (SOAK_KILLS, default 10)."""
    return int(os.environ.get("SOAK_KILLS") or 10)


# --- the database ----------------------------------------------------------------------


@dataclass
class SoakDatabase:
    """
    A database made for the soak (an SQLite file, or a fresh PostgreSQL database), the
    environment of every command run on it, and the report files ingested, in order.
    Queries use `%s` placeholders and a connection of their own, never the app's.
    """

    vendor: str
    name: str
    var_dir: Path
    env: dict[str, str]
    server: dict[str, Any] = field(default_factory=dict)  # PostgreSQL host, port, user
    files: list[Path] = field(default_factory=list)

    def rows(self, sql: str, params: Iterable[object] = ()) -> list[tuple[Any, ...]]:
        """Run one query and return its rows."""
        if self.vendor == "sqlite":
            connection = sqlite3.connect(self.name, timeout=60)
            try:
                return connection.execute(sql.replace("%s", "?"), tuple(params)).fetchall()
            finally:
                connection.close()
        import psycopg

        with psycopg.connect(dbname=self.name, autocommit=True, **self.server) as connection:
            return connection.execute(sql, tuple(params)).fetchall()  # type: ignore[arg-type]

    def value(self, sql: str, params: Iterable[object] = ()) -> Any:
        """Run one query and return the first column of its first row (None without rows)."""
        found = self.rows(sql, params)
        return found[0][0] if found else None

    def create(self) -> None:
        """Create the PostgreSQL database (SQLite's file is created by `migrate`)."""
        if self.vendor == "postgresql":
            self._server_sql("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            self._server_sql("CREATE DATABASE {}")

    def drop(self) -> None:
        """Drop the PostgreSQL database, whoever is still connected."""
        if self.vendor == "postgresql":
            self._server_sql("DROP DATABASE IF EXISTS {} WITH (FORCE)")

    def _server_sql(self, statement: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(dbname="postgres", autocommit=True, **self.server) as connection:
            connection.execute(sql.SQL(statement).format(sql.Identifier(self.name)))

    def outbox_status(self, message_id: str) -> str | None:
        """Return the status of the digest or notification row that `message_id` names."""
        if match := _DIGEST_ID.fullmatch(message_id):
            table = "reports_digest"
        elif match := _NOTIFICATION_ID.fullmatch(message_id):
            table = "incidents_notification"
        else:
            return None
        return self.value(f"SELECT status FROM {table} WHERE id = %s", [int(match[1])])  # noqa: S608

    def sent_message_ids(self) -> set[str]:
        """Return the Message-ID of every digest and notification the database marks sent."""
        digests = self.rows(
            "SELECT d.id, r.sha256 FROM reports_digest d JOIN reports_report r "
            "ON r.id = d.report_id WHERE d.status = 'sent'"
        )
        notifications = self.rows(
            "SELECT n.id, i.reference FROM incidents_notification n JOIN incidents_incident i "
            "ON i.id = n.incident_id WHERE n.status = 'sent'"
        )
        return {f"<digest-{pk}-{sha[:16]}@csirtnet>" for pk, sha in digests} | {
            f"<incident-notification-{pk}-{ref}@csirtnet>" for pk, ref in notifications
        }


# --- commands and kills ----------------------------------------------------------------


@dataclass
class Run:
    """One command started as a child process in a session of its own."""

    label: str
    process: subprocess.Popen[bytes]
    log: Path
    started_at: float = field(default_factory=time.monotonic)

    def alive(self) -> bool:
        """Return True while the command runs."""
        return self.process.poll() is None

    def output(self) -> str:
        """Return what the command printed (standard output and error)."""
        return self.log.read_text(encoding="utf-8", errors="replace")


def start(db: SoakDatabase, *args: str, scenario: bool = False) -> Run:
    """Start `csirtnet ARGS` (or the soak's scenario script) against `db`."""
    logs = db.var_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    label = " ".join(("scenario" if scenario else "csirtnet", *args))
    log = logs / f"{next(_RUN_NUMBERS):04d}-{args[0]}.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [*(SCENARIO if scenario else COMMAND), *args],
            cwd=REPO,
            env=db.env,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: survivors are findable
        )
    return Run(label=label, process=process, log=log)


def finish(run: Run, timeout: float = COMMAND_TIMEOUT_SECONDS) -> str:
    """Wait for `run` to end; fail unless it exits 0 in time. Return its output."""
    try:
        code = run.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(run.process.pid)
        run.process.wait()
        message = f"{run.label} still ran after {timeout} s:\n{run.output()[-3000:]}"
        raise AssertionError(message) from None
    assert code == 0, f"{run.label} exited with {code}:\n{run.output()[-3000:]}"
    return run.output()


def run_to_completion(db: SoakDatabase, *args: str, scenario: bool = False) -> str:
    """Run a command to its end; fail unless it exits 0. Return its output."""
    return finish(start(db, *args, scenario=scenario))


def kill(run: Run) -> bool:
    """
    SIGKILL the command's own process (as the kernel's out-of-memory killer does, not
    its process group) unless it already ended; check that nothing it started survives.
    Return True when the kill ended it, False when it had exited by itself (then 0).
    """
    if run.alive():
        os.kill(run.process.pid, signal.SIGKILL)
    return reap(run)


def reap(run: Run) -> bool:
    """Wait for a command that was (or may have been) killed; see `kill`."""
    code = run.process.wait(timeout=COMMAND_TIMEOUT_SECONDS)
    assert_no_survivors(run)
    if code == SIGKILLED:
        return True
    assert code == 0, f"{run.label} exited with {code}:\n{run.output()[-3000:]}"
    return False


def kill_after(run: Run, seconds: float) -> bool:
    """Kill `run` after `seconds`, unless it ends first; see `kill`."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        run.process.wait(timeout=seconds)
    return kill(run)


def kill_when(run: Run, condition: Callable[[], bool], extra_seconds: float) -> bool:
    """Kill `run` `extra_seconds` after `condition()` first holds (polled), unless it ends."""
    while run.alive():
        if condition():
            time.sleep(extra_seconds)
            return kill(run)
        time.sleep(0.02)
    return reap(run)


def assert_no_survivors(run: Run) -> None:
    """
    Fail if a process of the killed command's group (e.g. the ingest's forked parser) is
    still running `SURVIVOR_SECONDS` later; such an orphan keeps the killed command's
    files and database connection open. Survivors are killed before failing.
    """
    deadline = time.monotonic() + SURVIVOR_SECONDS
    while survivors := _group_members(run.process.pid):
        if time.monotonic() > deadline:
            _kill_group(run.process.pid)
            raise AssertionError(
                f"{run.label}: {len(survivors)} processes of its group survived the kill "
                f"by {SURVIVOR_SECONDS} s: {survivors}"
            )
        time.sleep(0.05)


def _group_members(group: int) -> list[str]:
    """Return the live (not zombie) processes of process group `group`, from /proc."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == group and fields[0] != "Z":
            members.append(f"{entry} ({stat.split('(', 1)[1].rsplit(')', 1)[0]})")
    return members


def _kill_group(group: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)


# --- the SMTP sink ---------------------------------------------------------------------


@dataclass
class Received:
    """A message the sink accepted, and the number of the worker run that sent it."""

    run: int
    message_id: str
    message: email.message.EmailMessage


class RecordingSink:
    """
    aiosmtpd handler keeping every message with the worker run that sent it. `arm` sets
    a hook called with the run's message count when a message has been taken and before
    the server answers "250": a hook that kills the sender there leaves a message that
    the server has and the sender never heard was accepted.
    """

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.run = 0
        self._hook: Callable[[int], None] | None = None
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        """Keep the message, call the armed hook, accept."""
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.received.append(Received(self.run, str(message["Message-ID"]), message))  # type: ignore[arg-type]
            count = sum(1 for item in self.received if item.run == self.run)
            hook = self._hook
        if hook is not None:
            hook(count)
        return "250 Message accepted for delivery"

    def arm(self, hook: Callable[[int], None] | None) -> None:
        """Set (or with None, clear) the hook called on each message."""
        with self._lock:
            self._hook = hook

    def of_run(self, run: int) -> list[Received]:
        """Return the messages that worker run `run` sent."""
        with self._lock:
            return [item for item in self.received if item.run == run]

    def copies(self) -> Counter[str]:
        """Return how many copies of each Message-ID the sink holds."""
        with self._lock:
            return Counter(item.message_id for item in self.received)

    def first_copies(self) -> dict[str, email.message.EmailMessage]:
        """Return the first copy of each message, by Message-ID."""
        with self._lock:
            first: dict[str, email.message.EmailMessage] = {}
            for item in self.received:
                first.setdefault(item.message_id, item.message)
            return first


# --- report files and the oracle -------------------------------------------------------


def _generator() -> Any:
    """The benchmarks' Shadowserver `scan_ntp` generator (bench/generate.py)."""
    spec = importlib.util.spec_from_file_location("soak_generate", REPO / "bench" / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_report(
    directory: Path, *, number: int, rows: int, shared_data: Path, repeat_from: Path | None = None
) -> Path:
    """
    Write report file `number`: `rows` new Shadowserver `scan_ntp` rows (seeded by
    `number`, addresses from the real RIR prefixes, the real sample's header), after the
    last 5,000 data rows of `repeat_from` when given (rows stored before: duplicates).
    """
    path = directory / f"2024-06-01-scan_ntp-soak-{number:03d}.csv"
    fresh = directory / f"fresh-{number:03d}.csv"
    _generator().generate(fresh, rows, seed=number, shared=shared_data)
    header, *body = fresh.read_text(encoding="utf-8").splitlines(keepends=True)
    repeated = []
    if repeat_from is not None:
        repeated = repeat_from.read_text(encoding="utf-8").splitlines(keepends=True)[1:][-5000:]
    path.write_text("".join([header, *repeated, *body]), encoding="utf-8")
    fresh.unlink()
    return path


def data_rows(path: Path) -> set[tuple[str, ...]]:
    """Return the distinct data rows of a CSV report, read with the csv module (the oracle)."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        return {tuple(row) for row in reader if row}


def line_count(path: Path) -> int:
    """Return the number of lines of a file (header included)."""
    with path.open("rb") as handle:
        return sum(1 for _line in handle)
