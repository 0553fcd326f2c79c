"""Baseline: plain `sqlite3` executemany of the rows an ingest would store.

It reads the Shadowserver CSV with the csv module (no validation), builds for
each row the column values an Event would have, and inserts them in batches of
5,000 rows per transaction into a table with the same columns and indexes as the
events table (UNIQUE uuid, UNIQUE content_key, (organization_id, observed_at),
(report_id, organization_id)), in a WAL
database with synchronous=FULL, as the project's SQLite settings use. The clock
runs from opening the CSV to the last commit, so the figure is comparable with
`csirtnet ingest` on the same file.

What a row costs here, and nothing more: csv parsing, a SHA-256 content key,
the row as compact JSON text, a dict look-up of the organisation by country
(standing in for routing), and the insert. No validation, no routing table,
no Django.

Usage: python bench/baseline_sqlite.py CSV DB [--batch 5000]   (prints JSON)
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import resource
import sqlite3
import sys
import time
from pathlib import Path

REPORT_TYPE = "scan_ntp"
TAXONOMY = "vulnerable"
EVENT_TYPE = "vulnerable-system"
REPORT_ID = 1

SCHEMA = """
CREATE TABLE event (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid CHAR(32) NOT NULL,
    route_rule TEXT NOT NULL,
    source_network TEXT NOT NULL,
    malware_family TEXT NOT NULL,
    file_hash TEXT NOT NULL,
    tlp TEXT NOT NULL,
    observed_at TEXT NOT NULL,
    source_ip TEXT,
    source_port INTEGER,
    asn INTEGER,
    hostname TEXT,
    url TEXT,
    report_type TEXT NOT NULL,
    taxonomy TEXT NOT NULL,
    type TEXT NOT NULL,
    country TEXT,
    content_key TEXT NOT NULL,
    raw TEXT NOT NULL,
    organization_id INTEGER,
    report_id INTEGER NOT NULL,
    line INTEGER NOT NULL
);
CREATE UNIQUE INDEX event_uuid ON event (uuid);
CREATE UNIQUE INDEX event_content_key ON event (content_key);
CREATE INDEX event_org_observed ON event (organization_id, observed_at);
CREATE INDEX event_report_org ON event (report_id, organization_id);
"""
INSERT = (
    "INSERT OR IGNORE INTO event (uuid, route_rule, source_network, malware_family,"
    " file_hash, tlp, observed_at, source_ip, source_port, asn, hostname, url,"
    " report_type, taxonomy, type, country, content_key, raw, organization_id, report_id,"
    " line) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def americas_codes(shared: Path) -> list[str]:
    """Country codes that have a prefix list: one organisation (CSIRT) each."""
    base = shared / "rir" / "americas-country-prefixes"
    return sorted(p.name.upper() for p in base.iterdir() if p.is_dir())


def schema_of(migrated: Path) -> str:
    """The events table's DDL (table, constraints, indexes) from a migrated csirtnet database."""
    conn = sqlite3.connect(migrated)
    statements = [
        sql.replace('"reports_event"', "event").replace("IF NOT EXISTS ", "")
        for (sql,) in conn.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'reports_event' AND sql IS NOT NULL"
            " ORDER BY type DESC"
        )
    ]
    conn.close()
    if not statements:
        raise SystemExit(f"{migrated}: no reports_event table")
    return ";\n".join(statements) + ";"


def fresh_database(db_path: Path, schema: str = SCHEMA) -> sqlite3.Connection:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.executescript(schema)
    return conn


def run(
    csv_path: Path, db_path: Path, org_codes: list[str], batch: int = 5000, schema: str = SCHEMA
) -> dict[str, object]:
    """Load `csv_path` into a fresh database at `db_path`; return the figures."""
    conn = fresh_database(db_path, schema)
    org_by_country = {cc: number for number, cc in enumerate(org_codes, start=1)}
    sha256 = hashlib.sha256
    dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    rows = 0
    started = time.perf_counter()
    with csv_path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        at = {name: i for i, name in enumerate(header)}
        i_ts, i_ip, i_port, i_asn = at["timestamp"], at["ip"], at["port"], at["asn"]
        i_host, i_geo = at["hostname"], at["geo"]
        pending: list[tuple[object, ...]] = []
        line = 1
        for row in reader:
            line += 1
            country = row[i_geo] or None
            pending.append(
                (
                    f"{line:032x}",  # sequential: the cheapest unique id to index
                    "country",
                    "",
                    "",
                    "",
                    "amber",
                    row[i_ts],
                    row[i_ip],
                    int(row[i_port]) if row[i_port] else None,
                    int(row[i_asn]) if row[i_asn] else None,
                    row[i_host] or None,
                    None,
                    REPORT_TYPE,
                    TAXONOMY,
                    EVENT_TYPE,
                    country,
                    sha256("\x1f".join(row).encode()).hexdigest(),
                    dumps(dict(zip(header, row, strict=True))),
                    org_by_country.get(country),  # type: ignore[arg-type]
                    REPORT_ID,
                    line,
                )
            )
            if len(pending) >= batch:
                conn.execute("BEGIN")
                conn.executemany(INSERT, pending)
                conn.execute("COMMIT")
                rows += len(pending)
                pending.clear()
        if pending:
            conn.execute("BEGIN")
            conn.executemany(INSERT, pending)
            conn.execute("COMMIT")
            rows += len(pending)
    seconds = time.perf_counter() - started
    stored = conn.execute("SELECT count(*) FROM event").fetchone()[0]
    conn.close()
    return {
        "rows": rows,
        "stored": stored,
        "seconds": round(seconds, 3),
        "events_per_s": round(rows / seconds, 1) if seconds else None,
        "batch": batch,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main(argv: list[str] | None = None) -> int:
    from generate import shared_dir_default  # bench/ is on sys.path when run as a script

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path)
    parser.add_argument("db", type=Path)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--shared-dir", type=Path, default=None)
    parser.add_argument(
        "--schema-from", type=Path, default=None,
        help="a migrated csirtnet SQLite database: use its events table DDL exactly",
    )  # fmt: skip
    args = parser.parse_args(argv)
    codes = americas_codes(args.shared_dir or shared_dir_default())
    schema = schema_of(args.schema_from) if args.schema_from else SCHEMA
    result = run(args.csv, args.db, codes, args.batch, schema)
    result["schema"] = "csirtnet events table" if args.schema_from else "built-in"
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
