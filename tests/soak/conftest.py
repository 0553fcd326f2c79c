"""
Fixtures of the crash soak: the SMTP sink, the seeded random source, and a database of
the suite's engine made for the module, set up by the real commands (each killed once).
"""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import shared_dir
from tests.smtp_sink import free_port
from tests.soak.harness import (
    BATCH_ROWS,
    RecordingSink,
    SoakDatabase,
    finish,
    kill_after,
    kill_when,
    soak_kills,
    start,
)


@dataclass
class Kill:
    """One SIGKILL that ended a command: which command, what triggered it, where it landed."""

    command: str
    trigger: str
    landing: str


@dataclass
class Soak:
    """The soak's database, sink, random source and the log of its kills."""

    db: SoakDatabase
    sink: RecordingSink
    rng: random.Random
    seed: int
    shared_data: Path
    kills: list[Kill]
    startup_seconds: float  # wall time of a command that does almost nothing, measured

    def record(self, command: str, trigger: str, landing: str) -> None:
        """Log one kill."""
        self.kills.append(Kill(command, trigger, landing))


@pytest.fixture(scope="module")
def soak_sink() -> Iterator[tuple[RecordingSink, int]]:
    """A real SMTP server on 127.0.0.1 for the module: (handler, port)."""
    sink = RecordingSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield sink, controller.port
    controller.stop()


@pytest.fixture(scope="module")
def soak(tmp_path_factory, soak_sink) -> Iterator[Soak]:  # type: ignore[no-untyped-def]
    """
    A database of the suite's engine (CSIRTNET_DB_ENGINE) for this module: an SQLite file
    in a temporary folder, or a PostgreSQL database `csirtnet_soak_<pid>` created here and
    dropped afterwards (the commands run in child processes, which cannot see a test's
    transaction). `migrate`, `load-directory` and `import-rir` each run, are killed once
    at a random point, and run again to completion. SOAK_SEED repeats a run's choices.
    """
    from django.conf import settings

    sink, port = soak_sink
    seed = int(os.environ.get("SOAK_SEED") or random.SystemRandom().randrange(2**32))
    default = settings.DATABASES["default"]
    vendor = "postgresql" if "postgresql" in str(default["ENGINE"]) else "sqlite"
    var_dir = tmp_path_factory.mktemp("soak")
    server = {}
    if vendor == "postgresql":
        name = f"csirtnet_soak_{os.getpid()}"
        server = {
            "host": default["HOST"],
            "port": default["PORT"],
            "user": default["USER"],
            "password": default["PASSWORD"],
        }
    else:
        name = str(var_dir / "csirtnet.sqlite3")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "csirtnet.settings",
        "CSIRTNET_DEBUG": "false",
        "CSIRTNET_SECRET_KEY": str(settings.SECRET_KEY),
        "CSIRTNET_DB_ENGINE": vendor,
        "CSIRTNET_DB_NAME": name,
        "CSIRTNET_VAR_DIR": str(var_dir),
        "CSIRTNET_EMAIL": "smtp",
        "CSIRTNET_SMTP_HOST": "127.0.0.1",
        "CSIRTNET_SMTP_PORT": str(port),
        "CSIRTNET_SMTP_STARTTLS": "false",
        "CSIRTNET_SMTP_USER": "",
        "CSIRTNET_SMTP_PASSWORD": "",
        "CSIRTNET_SMTP_TIMEOUT_SECONDS": "10",
        "CSIRTNET_TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "CSIRTNET_INGEST_BATCH_ROWS": str(BATCH_ROWS),
        "CSIRTNET_LOG_LEVEL": "CRITICAL",  # a killed run's partner logs nothing useful here
    }
    if vendor == "postgresql":
        for setting in ("host", "port", "user", "password"):
            env[f"CSIRTNET_DB_{setting.upper()}"] = str(server[setting])
    db = SoakDatabase(vendor=vendor, name=name, var_dir=var_dir, env=env, server=server)
    db.create()
    try:
        state = Soak(
            db=db, sink=sink, rng=random.Random(seed), seed=seed,
            shared_data=shared_dir() / "data", kills=[], startup_seconds=0.0,
        )  # fmt: skip
        _set_up(state)
        yield state
    finally:
        db.drop()


def _count(db: SoakDatabase, table: str) -> int:
    """Return the rows of `table`, 0 while the database or the table does not exist yet."""
    if db.vendor == "sqlite" and not Path(db.name).exists():
        return 0
    try:
        return int(db.value(f"SELECT count(*) FROM {table}"))  # noqa: S608 - our own names
    except Exception:  # the table is not created yet (sqlite3 or psycopg error)
        return 0


def _set_up(soak: Soak) -> None:
    """
    Migrate, load the directory and the RIR data, killing each of these commands once
    (only one of them, chosen at random, for fewer than 30 kills: each costs a restart).
    """
    db, rng = soak.db, soak.rng
    commands = ["migrate", "load-directory", "import-rir"]
    victims = set(commands) if soak_kills() >= 30 else {rng.choice(commands)}
    applied = rng.randint(1, 30) if "migrate" in victims else 10**6
    run = start(db, "migrate", "-v0")
    if kill_when(run, lambda: _count(db, "django_migrations") >= applied, rng.uniform(0, 0.3)):
        soak.record(
            "migrate", "progress",
            f"{_count(db, 'django_migrations')} migrations recorded when killed",
        )  # fmt: skip
        run = start(db, "migrate", "-v0")
    finish(run)
    soak.startup_seconds = time.monotonic() - run.started_at  # a scale for random delays

    run = start(db, "load-directory")
    delay = rng.uniform(0.1, 0.8) * soak.startup_seconds  # migrate ran longer
    if "load-directory" in victims and kill_after(run, delay):
        states = _count(db, "directory_memberstate")
        soak.record(
            "load-directory", "time",
            "after its transaction committed" if states else "before its transaction committed",
        )  # fmt: skip
        run = start(db, "load-directory")
    assert "35 member states" in finish(run)

    # files commit one by one, in name order; the last (LACNIC's) is the biggest
    records = rng.randint(1, 60_000) if "import-rir" in victims else 10**9
    rir = str(soak.shared_data / "rir")
    run = start(db, "import-rir", rir)
    if kill_when(run, lambda: _count(db, "directory_rirrecord") >= records, 0):
        soak.record(
            "import-rir", "progress",
            f"{_count(db, 'directory_rirrecord')} RIR records committed when killed",
        )  # fmt: skip
        run = start(db, "import-rir", rir)
    output = finish(run)
    match = re.search(r"(\d+) records", output)
    assert match, output
    assert _count(db, "directory_rirrecord") == int(match[1])
    assert _count(db, "directory_memberstate") == 35
    assert _count(db, "directory_organization") == 36
    assert _count(db, "directory_pointofcontact") == 36
