"""Peer: IntelMQ 3.5's own Shadowserver parser bot on the benchmark file.

Runs inside `.venv-bench` (IntelMQ from PyPI), not in the project's venv.

IntelMQ is driven in its "library mode" (`intelmq.lib.bot.BotLibSettings` and
`Bot.process_message`, IntelMQ's documented way to run a bot without a
pipeline or Redis): the stock `ShadowserverParserBot` gets Report messages
whose `raw` is the base64 of the CSV (header plus a chunk of rows), as a
Shadowserver collector would send them, and its own code turns every row into
an `intelmq.lib.message.Event`, each field harmonised and validated by
`Event.add`. The events are counted and checked (Event type, classification,
source.ip present), then dropped.

The schema: IntelMQ >= 3.1 reads the feed mapping from a schema file that it
downloads from Shadowserver (`--update-schema`); this machine cannot reach it.
The test schema shipped in the package (`schema.json.test`) only has three
test feeds (test_smb, test_telnet, test_afs), not scan_ntp. So this script
writes the `scan_ntp` entry (feed "NTP-Version") of Shadowserver's published
IntelMQ schema (report_schema repository, schema dated 2024-09-24) to
`VAR_STATE_PATH/shadowserver-schema.json`, which is where IntelMQ's README
tells air-gapped installs to put the file; IntelMQ loads it unchanged.
INTELMQ_ROOT_DIR points into bench/out so nothing is written to /opt.

Timing covers `process_message` only (Report in, validated Events out); the
`with_serialize` figure adds `MessageFactory.serialize` of each event, which
is what a real pipeline does before pushing to Redis.

Usage: .venv-bench/bin/python bench/intelmq_peer.py CSV [--rows 50000] [--chunk 10000]
(prints JSON)
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import os
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("INTELMQ_ROOT_DIR", str(REPO_ROOT / "bench" / "out" / "intelmq") + "/")

FEED_NAME = "NTP-Version"
FILE_NAME = "scan_ntp"
SCHEMA_DATE = "2024-09-24T21:46:30Z"
_REQUIRED = [
    ["time.source", "timestamp", "add_UTC_to_timestamp"],
    ["source.ip", "ip", "validate_ip"],
    ["source.port", "port", "convert_int"],
]
# (column, conversion) for the columns kept under extra.<column>, in schema order.
_EXTRA_BEFORE = [
    ("clk_wander", "convert_float"), ("frequency", "convert_float"),
    ("jitter", "convert_float"), ("leap", "convert_float"), ("offset", "convert_float"),
    ("peer", "convert_int"), ("poll", "convert_int"), ("precision", "convert_int"),
    ("rootdelay", "convert_float"), ("rootdispersion", "convert_float"),
    ("stratum", "convert_int"), ("tc", "convert_int"), ("severity", "validate_to_none"),
]  # fmt: skip
_EXTRA_AFTER = [
    ("naics", "invalidate_zero"), ("hostname_source", "validate_to_none"),
    ("sector", "validate_to_none"), ("version", "validate_to_none"),
    ("clock", "validate_to_none"), ("error", "validate_to_none"),
    ("mintc", "validate_to_none"), ("noise", "validate_to_none"),
    ("phase", "validate_to_none"), ("processor", "validate_to_none"),
    ("refid", "validate_to_none"), ("reftime", "validate_to_none"),
    ("stability", "validate_to_none"), ("state", "validate_to_none"),
    ("system", "validate_to_none"), ("tai", "validate_to_none"),
    ("response_size", "convert_int"), ("amplification", "convert_float"),
]  # fmt: skip


def scan_ntp_schema() -> dict[str, object]:
    """The `scan_ntp` entry of Shadowserver's IntelMQ schema, as IntelMQ reads it."""
    optional: list[list[str]] = [["extra.", column, conv] for column, conv in _EXTRA_BEFORE]
    optional += [
        ["protocol.transport", "protocol"],
        ["source.reverse_dns", "hostname"],
        ["extra.", "tag", "validate_to_none"],
        ["source.asn", "asn", "invalidate_zero"],
        ["source.geolocation.cc", "geo"],
        ["source.geolocation.region", "region"],
        ["source.geolocation.city", "city"],
    ]
    optional += [["extra.", column, conv] for column, conv in _EXTRA_AFTER]
    return {
        "_meta": {
            "date_created": SCHEMA_DATE,
            "change_log": ["scan_ntp entry written by csirtnet bench/intelmq_peer.py."],
        },
        FILE_NAME: {
            "constant_fields": {
                "classification.identifier": "ntp-version",
                "classification.taxonomy": "vulnerable",
                "classification.type": "vulnerable-system",
                "protocol.application": "ntp",
            },
            "feed_name": FEED_NAME,
            "file_name": FILE_NAME,
            "optional_fields": optional,
            "required_fields": _REQUIRED,
            "url": "https://www.shadowserver.org/what-we-do/network-reporting/ntp-version-report/",
        },
    }


def read_chunks(csv_path: Path, rows: int, chunk: int) -> tuple[list[str], int]:
    """Return the raw CSV text of each chunk (header + up to `chunk` rows) and the row count."""
    texts: list[str] = []
    taken = 0
    with csv_path.open(encoding="utf-8", newline="") as handle:
        header = handle.readline()
        lines = itertools.islice(handle, rows)
        while True:
            block = list(itertools.islice(lines, chunk))
            if not block:
                break
            taken += len(block)
            texts.append(header + "".join(block))
    return texts, taken


def run(csv_path: Path, rows: int, chunk: int) -> dict[str, object]:
    import intelmq
    from intelmq import VAR_STATE_PATH
    from intelmq.bots.parsers.shadowserver.parser import ShadowserverParserBot
    from intelmq.lib.bot import BotLibSettings
    from intelmq.lib.message import Event, MessageFactory

    state = Path(VAR_STATE_PATH)
    state.mkdir(parents=True, exist_ok=True)
    (state / "shadowserver-schema.json").write_text(json.dumps(scan_ntp_schema(), indent=1))

    settings = BotLibSettings | {
        "logging_level": "ERROR",
        "feedname": FEED_NAME,
        "auto_update": False,
    }
    bot = ShadowserverParserBot("bench-shadowserver-parser", settings=settings)

    texts, taken = read_chunks(csv_path, rows, chunk)
    observed = datetime.now(UTC).replace(microsecond=0).isoformat()
    reports = [
        {
            "__type": "Report",
            "raw": base64.b64encode(text.encode("utf-8")).decode("ascii"),
            "feed.name": "Shadowserver",
            "time.observation": observed,
            "extra.file_name": csv_path.name,
        }
        for text in texts
    ]
    del texts

    events = errors = bad = 0
    parse_seconds = serialize_seconds = 0.0
    for report in reports:
        t0 = time.perf_counter()
        result = bot.process_message(report)
        t1 = time.perf_counter()
        output = result.get("output", [])
        for event in output:
            MessageFactory.serialize(event)
        t2 = time.perf_counter()
        parse_seconds += t1 - t0
        serialize_seconds += t2 - t1
        errors += len(result.get("error", []))
        for event in output:
            if not (
                isinstance(event, Event)
                and "source.ip" in event
                and event.get("classification.type") == "vulnerable-system"
                and "raw" in event
            ):
                bad += 1
        events += len(output)
    if bad:
        raise SystemExit(f"{bad} IntelMQ outputs were not complete Event messages")
    return {
        "intelmq_version": intelmq.__version__,
        "feed_name": FEED_NAME,
        "sample_rows": taken,
        "chunk_rows": chunk,
        "events": events,
        "errors": errors,
        "seconds": round(parse_seconds, 3),
        "events_per_s": round(events / parse_seconds, 1) if parse_seconds else None,
        "events_per_s_with_serialize": (
            round(events / (parse_seconds + serialize_seconds), 1) if parse_seconds else None
        ),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path)
    parser.add_argument("--rows", type=int, default=50_000, help="rows of the file to parse")
    parser.add_argument("--chunk", type=int, default=10_000, help="rows per Report message")
    args = parser.parse_args(argv)
    figures = run(args.csv, args.rows, args.chunk)
    sys.stdout.write(json.dumps(figures) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
