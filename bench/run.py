"""`make bench`: ingest throughput and memory, routing speed, and two yardsticks.

Run with the project's venv:  .venv/bin/python bench/run.py
Environment:
    BENCH_ROWS            rows in the generated file (default 1,000,000)
    BENCH_INTELMQ_ROWS    rows of that file given to IntelMQ (default 50,000)
    BENCH_SEED            generator seed (default generate.DEFAULT_SEED)
    BENCH_SKIP            comma list of measures to skip:
                          baseline, intelmq, routing, sqlite, postgresql
    BENCH_INGEST_TIMEOUT  seconds before an ingest run is killed (default 420)
    BENCH_KEEP_DB         1 keeps the SQLite databases in bench/out afterwards
    BENCH_STRICT          1 makes the exit status 1 when a measured target is missed
    BENCH_PG_HOST, BENCH_PG_PORT, BENCH_PG_USER   PostgreSQL server (127.0.0.1:5432 postgres)
    CSIRTNET_SHARED_DIR   shared data folder (default ../shared/data beside the repo)

Prints one table at the end and writes every figure to bench/out/results.json.
See bench/README.md for what each measure means.
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
OUT = BENCH_DIR / "out"
sys.path.insert(0, str(BENCH_DIR))

import generate  # noqa: E402  (bench/ is not a package)

INTELMQ_SPEC = "intelmq==3.5.0"
INTELMQ_VERSION = "3.5.0"
# IntelMQ imports pkg_resources without declaring setuptools; keep one that still has it.
INTELMQ_EXTRA_PACKAGES = ["setuptools<81"]
BENCH_VENV = REPO_ROOT / ".venv-bench"
PG_DATABASE = "csirtnet_bench"
DATA_FILE_NAME = f"{generate.DEFAULT_DAY}-scan_ntp-bench-geo.csv"  # Shadowserver naming

TARGET_ROUTING_BATCH = 1_000_000
TARGET_INGEST_SQLITE = 30_000
TARGET_BASELINE_RATIO = 0.80
TARGET_PEAK_RSS_MB = 300
TARGET_INTELMQ_RATIO = 10.0


def setup_commands(shared: Path) -> list[list[str]]:
    """The directory and RIR loading run before each ingest (after `migrate`).

    Adjust the arguments here when `load_directory` and `import_rir` land.
    """
    return [
        ["load_directory"],
        ["import_rir", str(shared / "rir")],  # delegated files, ASN list, per-country lists
    ]


def ingest_command(data: Path) -> list[str]:
    return ["ingest", str(data), "--format", "shadowserver"]


# --------------------------------------------------------------------------- helpers


def log(message: str) -> None:
    print(f"[bench {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").replace("_", "").replace(",", "")
    return int(raw) if raw else default


def skipped(name: str) -> bool:
    return name in {s.strip() for s in os.environ.get("BENCH_SKIP", "").split(",")}


def not_available(reason: str) -> dict[str, Any]:
    return {"status": "not available", "reason": reason}


def error(reason: str) -> dict[str, Any]:
    return {"status": "error", "reason": reason}


def last_line(path: Path) -> str:
    """The last non-blank line of a log: for a traceback, the exception."""
    lines = [line for line in tail(path, 40).splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def run_logged(
    cmd: list[str], env: dict[str, str] | None, log_path: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run `cmd`, stdout returned, stderr appended to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a", encoding="utf-8") as err:
        err.write(f"\n$ {' '.join(cmd)}\n")
        err.flush()
        return subprocess.run(
            cmd, env=env, stdout=subprocess.PIPE, stderr=err, text=True, timeout=timeout,
            check=False, cwd=REPO_ROOT,
        )  # fmt: skip


def run_json(cmd: list[str], env: dict[str, str] | None, log_path: Path, timeout: float) -> Any:
    """Run a bench helper that prints one JSON line; return it, or an error dict."""
    try:
        proc = run_logged(cmd, env, log_path, timeout)
    except subprocess.TimeoutExpired:
        return error(f"timed out after {timeout:.0f} s (log: {rel(log_path)})")
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        return error(f"exit {proc.returncode}: {last_line(log_path)} (log: {rel(log_path)})")
    return json.loads(lines[-1])


def run_measured(
    cmd: list[str], env: dict[str, str], log_path: Path, timeout: float
) -> tuple[int, float, float]:
    """Run `cmd` to completion; return (exit code, wall seconds, peak RSS in MB).

    The peak RSS is the child's own ru_maxrss from wait4(), as /usr/bin/time reports it.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a", encoding="utf-8") as out:
        out.write(f"\n$ {' '.join(cmd)}\n")
        out.flush()
        started = time.perf_counter()
        proc = subprocess.Popen(
            cmd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=REPO_ROOT,
        )  # fmt: skip
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, seconds, usage.ru_maxrss / 1024


def rel(path: Path) -> str:
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- data file


def ensure_data(rows: int, seed: int, shared: Path) -> tuple[Path, dict[str, Any]]:
    """Generate the data file, or reuse the one made earlier with the same parameters."""
    folder = OUT / "data" / f"rows-{rows}"
    data = folder / DATA_FILE_NAME
    meta_path = folder / "meta.json"
    wanted = {"rows": rows, "seed": seed, "generator_version": generate.GENERATOR_VERSION}
    if data.is_file() and meta_path.is_file():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if {k: meta.get(k) for k in wanted} == wanted and meta.get("bytes") == data.stat().st_size:
            log(f"reusing {rel(data)} (generated earlier in {meta['seconds']} s)")
            return data, meta | {"reused": True}
    log(f"generating {rows:,} rows into {rel(data)}")
    meta = generate.generate(data, rows, seed=seed, shared=shared)
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    log(f"generated {meta['bytes'] / 1e6:.0f} MB in {meta['seconds']} s")
    return data, meta | {"reused": False}


# --------------------------------------------------------------------------- baseline


INGEST_BATCH_ROWS = 20000  # csirtnet's default CSIRTNET_INGEST_BATCH_ROWS


def measure_baseline(data: Path, shared: Path) -> dict[str, Any]:
    db = OUT / "baseline.sqlite3"
    batch = env_int("CSIRTNET_INGEST_BATCH_ROWS", INGEST_BATCH_ROWS)
    log(f"baseline: sqlite3 executemany, {batch:,} rows per transaction (as the ingest),"
        " WAL + synchronous=FULL, the events table's own DDL")  # fmt: skip
    schema_db = OUT / "schema.sqlite3"
    schema_db.unlink(missing_ok=True)
    cmd = [sys.executable, str(BENCH_DIR / "baseline_sqlite.py"), str(data), str(db),
           "--shared-dir", str(shared), "--batch", str(batch)]  # fmt: skip
    migrated = run_logged([str(csirtnet_exe()), "migrate", "-v0"],
                          csirtnet_env("sqlite", str(schema_db)), OUT / "logs" / "schema.log",
                          300)  # fmt: skip
    if migrated.returncode == 0:
        cmd += ["--schema-from", str(schema_db)]
    else:  # the built-in schema still gives a figure
        log("baseline: csirtnet schema not available (see logs/schema.log); built-in schema")
    result = run_json(cmd, None, OUT / "logs" / "baseline.log", timeout=3600)
    if os.environ.get("BENCH_KEEP_DB") != "1":
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
    if "events_per_s" in result:
        result["status"] = "ok"
        log(f"baseline: {result['events_per_s']:,.0f} events/s")
    return result


# --------------------------------------------------------------------------- IntelMQ


def bench_python() -> Path:
    return BENCH_VENV / "bin" / "python"


def ensure_intelmq(log_path: Path) -> str | None:
    """Make .venv-bench with IntelMQ; return None when ready, else why not."""
    python = bench_python()
    code = (
        f"import intelmq, pkg_resources, sys; sys.exit(intelmq.__version__ != {INTELMQ_VERSION!r})"
    )
    check = [str(python), "-c", code]
    if python.exists() and run_logged(check, None, log_path, 120).returncode == 0:
        return None
    log(f"installing {INTELMQ_SPEC} into {rel(BENCH_VENV)} (first run only)")
    base = shutil.which("python3") or sys.executable
    steps = [] if python.exists() else [[base, "-m", "venv", str(BENCH_VENV)]]
    steps.append(
        [str(python), "-m", "pip", "install", "--quiet", INTELMQ_SPEC, *INTELMQ_EXTRA_PACKAGES]
    )
    for step in steps:
        try:
            proc = run_logged(step, None, log_path, 900)
        except subprocess.TimeoutExpired:
            return f"`{' '.join(step)}` timed out"
        if proc.returncode != 0:
            return f"`{' '.join(step[:4])}` failed: {last_line(log_path)}"
    if run_logged(check, None, log_path, 120).returncode != 0:
        return f"IntelMQ {INTELMQ_VERSION} is not importable in {rel(BENCH_VENV)}"
    return None


def measure_intelmq(data: Path, rows: int) -> dict[str, Any]:
    log_path = OUT / "logs" / "intelmq.log"
    problem = ensure_intelmq(log_path)
    if problem:
        return not_available(problem)
    log(f"intelmq: ShadowserverParserBot on the first {rows:,} rows")
    cmd = [str(bench_python()), str(BENCH_DIR / "intelmq_peer.py"), str(data), "--rows", str(rows)]
    env = os.environ | {"INTELMQ_ROOT_DIR": str(OUT / "intelmq") + "/"}
    result = run_json(cmd, env, log_path, timeout=3600)
    if "events_per_s" in result:
        result["status"] = "ok"
        log(f"intelmq: {result['events_per_s']:,.0f} events/s over {result['events']:,} events")
    return result


# --------------------------------------------------------------------------- csirtnet


def csirtnet_exe() -> Path:
    return Path(sys.prefix) / "bin" / "csirtnet"


def csirtnet_env(engine: str, name: str) -> dict[str, str]:
    var = OUT / "var"
    var.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        CSIRTNET_DB_ENGINE=engine,
        CSIRTNET_DB_NAME=name,
        CSIRTNET_SECRET_KEY=secrets.token_urlsafe(48),
        CSIRTNET_VAR_DIR=str(var),
        CSIRTNET_EMAIL="file",
        CSIRTNET_MAIL_DIR=str(var / "mail"),
    )
    if engine == "postgresql":
        env.update(
            CSIRTNET_DB_HOST=pg_params()["host"],
            CSIRTNET_DB_PORT=str(pg_params()["port"]),
            CSIRTNET_DB_USER=pg_params()["user"],
        )
    return env


def available_commands(env: dict[str, str], log_path: Path) -> set[str] | str:
    """Management command names, or the reason they cannot be listed."""
    exe = csirtnet_exe()
    if not exe.exists():
        return f"{rel(exe)} does not exist (run from the project venv)"
    try:
        proc = run_logged([str(exe), "help", "--commands"], env, log_path, 300)
    except subprocess.TimeoutExpired:
        return "`csirtnet help --commands` timed out"
    if proc.returncode != 0:
        return f"`csirtnet help --commands` failed: {last_line(log_path)}"
    return {line.strip() for line in proc.stdout.splitlines() if line.strip()}


def prepare_database(
    engine: str, env: dict[str, str], commands: set[str], shared: Path, log_path: Path
) -> dict[str, Any]:
    """Migrate and load the directory + RIR data; return timings or an error."""
    exe = str(csirtnet_exe())
    steps = [["migrate", "--noinput"]]
    skipped_steps = []
    for step in setup_commands(shared):
        (steps if step[0] in commands else skipped_steps).append(step)
    timings: dict[str, Any] = {}
    for step in steps:
        log(f"{engine}: csirtnet {step[0]}")
        started = time.perf_counter()
        try:
            proc = run_logged([exe, *step], env, log_path, 1800)
        except subprocess.TimeoutExpired:
            return error(f"`csirtnet {step[0]}` timed out (log: {rel(log_path)})")
        if proc.returncode != 0:
            return error(f"`csirtnet {step[0]}` failed: {last_line(log_path)}")
        timings[step[0]] = round(time.perf_counter() - started, 2)
    return {"status": "ok", "setup_seconds": timings,
            "setup_skipped": [step[0] for step in skipped_steps]}  # fmt: skip


def count_events(env: dict[str, str], log_path: Path) -> int | None:
    """Events stored, counted through Django (first model named Event); None if unknown."""
    code = (
        "from django.apps import apps\n"
        "models = [m for m in apps.get_models() if m.__name__ == 'Event']\n"
        "print(models[0].objects.count() if models else '')\n"
    )
    try:
        proc = run_logged([str(csirtnet_exe()), "shell", "-c", code], env, log_path, 600)
    except subprocess.TimeoutExpired:
        return None
    text = proc.stdout.strip().splitlines()
    return int(text[-1]) if proc.returncode == 0 and text and text[-1].isdigit() else None


def measure_ingest(
    engine: str,
    env: dict[str, str],
    data: Path,
    rows: int,
    log_path: Path,
) -> dict[str, Any]:
    timeout = env_int("BENCH_INGEST_TIMEOUT", 420)
    cmd = [str(csirtnet_exe()), *ingest_command(data)]
    log(f"{engine}: csirtnet ingest {rel(data)} --format shadowserver")
    code, seconds, rss = run_measured(cmd, env, log_path, timeout)
    timed_out = code != 0 and seconds >= timeout
    if code != 0 and not timed_out:
        return error(f"ingest exit {code}: {last_line(log_path)} (log: {rel(log_path)})")
    stored = count_events(env, log_path)
    if timed_out and not stored:
        return error(f"ingest killed after {timeout} s with no events stored")
    done = stored if timed_out and stored else rows
    result = {
        "status": "ok",
        "rows": rows,
        "seconds": round(seconds, 3),
        "events_per_s": round(done / seconds, 1),
        "peak_rss_mb": round(rss, 1),
        "stored_events": stored,
    }
    if timed_out:
        result["warning"] = (
            f"killed after {timeout} s (BENCH_INGEST_TIMEOUT); rate from the "
            f"{stored:,} events stored by then"
        )
    elif stored is not None and stored != rows:
        result["warning"] = f"{stored:,} events stored for {rows:,} rows"
    log(f"{engine}: {result['events_per_s']:,.0f} events/s, peak RSS {rss:,.0f} MB")
    return result


def pg_params() -> dict[str, Any]:
    return {
        "host": os.environ.get("BENCH_PG_HOST", "127.0.0.1"),
        "port": env_int("BENCH_PG_PORT", 5432),
        "user": os.environ.get("BENCH_PG_USER", "postgres"),
    }


def pg_admin(statements: list[str]) -> str | None:
    """Run statements on the `postgres` database; None on success, else why not."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed in this venv"
    try:
        with psycopg.connect(dbname="postgres", autocommit=True, connect_timeout=5,
                             **pg_params()) as conn:  # fmt: skip
            for statement in statements:
                conn.execute(statement)  # type: ignore[arg-type]
    except psycopg.Error as exc:
        return f"PostgreSQL at {pg_params()['host']}:{pg_params()['port']}: {exc}".strip()
    return None


def bench_sqlite(
    data: Path, rows: int, shared: Path, *, want_routing: bool, want_ingest: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(routing figures, SQLite ingest figures); both share one prepared database."""
    db = OUT / "var" / "bench-ingest.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    env = csirtnet_env("sqlite", str(db))
    log_path = OUT / "logs" / "ingest-sqlite.log"
    log_path.unlink(missing_ok=True)
    commands = available_commands(env, log_path)
    if isinstance(commands, str):
        return error(commands), error(commands)
    setup = prepare_database("sqlite", env, commands, shared, log_path)
    routing: dict[str, Any] = not_available("skipped (BENCH_SKIP)")
    if want_routing:
        if setup["status"] != "ok":
            routing = setup
        else:
            log("routing: per-call and batch lookups")
            cmd = [sys.executable, str(BENCH_DIR / "routing_bench.py"), str(data)]
            routing = run_json(cmd, env, OUT / "logs" / "routing.log", timeout=1800)
            if routing.get("status") == "ok":
                log(f"routing: {routing['per_call_per_s']:,.0f}/s per call, "
                    f"{routing['batch_per_s']:,.0f}/s batch")  # fmt: skip
    ingest: dict[str, Any] = not_available("skipped (BENCH_SKIP)")
    if want_ingest:
        if "ingest" not in commands:
            ingest = not_available("no `csirtnet ingest` command yet")
        elif setup["status"] != "ok":
            ingest = setup
        else:
            ingest = measure_ingest("sqlite", env, data, rows, log_path) | {
                k: v for k, v in setup.items() if k != "status"
            }
    if os.environ.get("BENCH_KEEP_DB") != "1":
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
    return routing, ingest


def bench_postgresql(data: Path, rows: int, shared: Path) -> dict[str, Any]:
    env = csirtnet_env("postgresql", PG_DATABASE)
    log_path = OUT / "logs" / "ingest-postgresql.log"
    log_path.unlink(missing_ok=True)
    commands = available_commands(env, log_path)
    if isinstance(commands, str):
        return error(commands)
    if "ingest" not in commands:
        return not_available("no `csirtnet ingest` command yet")
    drop = f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'
    problem = pg_admin([drop, f'CREATE DATABASE "{PG_DATABASE}"'])
    if problem:
        return not_available(problem)
    try:
        setup = prepare_database("postgresql", env, commands, shared, log_path)
        if setup["status"] != "ok":
            return setup
        result = measure_ingest("postgresql", env, data, rows, log_path)
        return result | {k: v for k, v in setup.items() if k != "status"}
    finally:
        pg_admin([drop])


# --------------------------------------------------------------------------- report


def fmt(value: float | None, digits: int = 0) -> str:
    return "not available" if value is None else f"{value:,.{digits}f}"


def figure(result: dict[str, Any], key: str) -> float | None:
    return result.get(key) if result.get("status") == "ok" else None


def ratio(ours: float | None, theirs: float | None) -> float | None:
    return ours / theirs if ours is not None and theirs else None


def table(results: dict[str, Any]) -> tuple[str, list[str]]:
    """The printed table, and the targets that were measured and missed."""
    routing, base, intel = results["routing"], results["baseline"], results["intelmq"]
    sqlite, pg, gen = results["ingest_sqlite"], results["ingest_postgresql"], results["generate"]
    ours = figure(sqlite, "events_per_s")
    base_ratio = ratio(ours, figure(base, "events_per_s"))
    intel_ratio = ratio(ours, figure(intel, "events_per_s"))
    missed: list[str] = []

    def check(name: str, value: float | None, ok: Callable[[float], bool]) -> str:
        if value is None:
            return ""
        if ok(value):
            return "ok"
        missed.append(name)
        return "MISSED"

    sample = intel.get("sample_rows") or results["meta"]["intelmq_rows"]
    rows_out = [
        ("measure", "value", "target", "ratio / note", ""),
        (f"generate file ({gen['rows']:,} rows, s)", fmt(gen.get("seconds"), 1), "",
         "reused" if gen.get("reused") else f"{gen['rows'] / gen['seconds']:,.0f} rows/s", ""),
        ("routing per call (lookups/s)", fmt(figure(routing, "per_call_per_s")), "", "", ""),
        ("routing batch (lookups/s)", fmt(figure(routing, "batch_per_s")),
         f">= {TARGET_ROUTING_BATCH:,}", "",
         check("routing batch", figure(routing, "batch_per_s"),
               lambda v: v >= TARGET_ROUTING_BATCH)),
        ("ingest sqlite (events/s)", fmt(ours), f">= {TARGET_INGEST_SQLITE:,}", "",
         check("ingest sqlite", ours, lambda v: v >= TARGET_INGEST_SQLITE)),
        ("sqlite executemany baseline", fmt(figure(base, "events_per_s")), "",
         f"ours/baseline = {fmt(base_ratio, 2)} (>= {TARGET_BASELINE_RATIO:.2f})",
         check("ours/baseline", base_ratio, lambda v: v >= TARGET_BASELINE_RATIO)),
        ("ingest postgresql (events/s)", fmt(figure(pg, "events_per_s")), "", "", ""),
        ("peak RSS ingest sqlite (MB)", fmt(figure(sqlite, "peak_rss_mb")),
         f"<= {TARGET_PEAK_RSS_MB}", "",
         check("peak RSS sqlite", figure(sqlite, "peak_rss_mb"),
               lambda v: v <= TARGET_PEAK_RSS_MB)),
        ("peak RSS ingest postgresql (MB)", fmt(figure(pg, "peak_rss_mb")), "", "", ""),
        (f"intelmq 3.5 parser (events/s, {sample:,}-row sample)",
         fmt(figure(intel, "events_per_s")), "",
         f"ours/intelmq = {fmt(intel_ratio, 1)} (>= {TARGET_INTELMQ_RATIO:.0f})",
         check("ours/intelmq", intel_ratio, lambda v: v >= TARGET_INTELMQ_RATIO)),
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in rows_out) for i in range(5)]
    lines = []
    for row in rows_out:
        cells = [row[0].ljust(widths[0]), row[1].rjust(widths[1]), row[2].ljust(widths[2]),
                 row[3].ljust(widths[3]), row[4]]  # fmt: skip
        lines.append("  ".join(cells).rstrip())
    notes = []
    for label, key in (("routing", "routing"), ("ingest sqlite", "ingest_sqlite"),
                       ("ingest postgresql", "ingest_postgresql"), ("baseline", "baseline"),
                       ("intelmq", "intelmq")):  # fmt: skip
        result = results[key]
        if result.get("status") != "ok":
            notes.append(f"  {label}: {result.get('status')}: {result.get('reason', '')}")
        elif result.get("warning"):
            notes.append(f"  {label}: warning: {result['warning']}")
    if notes:
        lines += ["", "notes:", *notes]
    results["ratios"] = {"ours_over_baseline": base_ratio, "ours_over_intelmq": intel_ratio}
    return "\n".join(lines), missed


def git_commit() -> str | None:
    try:
        proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT,
                              capture_output=True, text=True, check=False, timeout=10)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() or None


def main() -> int:
    rows = env_int("BENCH_ROWS", 1_000_000)
    intelmq_rows = min(rows, env_int("BENCH_INTELMQ_ROWS", 50_000))
    seed = env_int("BENCH_SEED", generate.DEFAULT_SEED)
    shared = generate.shared_dir_default()
    if not (shared / "rir" / "americas-country-prefixes").is_dir():
        print(f"shared data not found at {shared} (set CSIRTNET_SHARED_DIR)", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(OUT / "logs", ignore_errors=True)  # logs of this run only
    started = time.perf_counter()
    results: dict[str, Any] = {
        "meta": {
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "rows": rows,
            "intelmq_rows": intelmq_rows,
            "seed": seed,
            "python": platform.python_version(),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
            "git_commit": git_commit(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        }
    }
    data, results["generate"] = ensure_data(rows, seed, shared)
    results["baseline"] = (
        not_available("skipped (BENCH_SKIP)") if skipped("baseline")
        else measure_baseline(data, shared)
    )  # fmt: skip
    results["intelmq"] = (
        not_available("skipped (BENCH_SKIP)") if skipped("intelmq")
        else measure_intelmq(data, intelmq_rows)
    )  # fmt: skip
    results["routing"], results["ingest_sqlite"] = bench_sqlite(
        data, rows, shared, want_routing=not skipped("routing"), want_ingest=not skipped("sqlite")
    )
    results["ingest_postgresql"] = (
        not_available("skipped (BENCH_SKIP)") if skipped("postgresql")
        else bench_postgresql(data, rows, shared)
    )  # fmt: skip
    text, missed = table(results)
    results["meta"]["seconds"] = round(time.perf_counter() - started, 1)
    results["meta"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["missed_targets"] = missed
    (OUT / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print()
    print(text)
    print(f"\nfigures: {rel(OUT / 'results.json')}; whole run {results['meta']['seconds']:.0f} s")
    return 1 if missed and os.environ.get("BENCH_STRICT") == "1" else 0


if __name__ == "__main__":
    sys.exit(main())
