"""Routing lookups/s, per call and in batch, on the addresses of the benchmark file.

Run by bench/run.py in a child process with the project's venv and the same
CSIRTNET_* environment as the SQLite ingest (database migrated, directory and
RIR data loaded when those commands exist), after `django.setup()`.

>>> HOOK: `make_routing_table()` below is where csirtnet.directory.routing is
wired in. It must return an object with
    lookup(value: str) -> Route                 (one address per call)
    route_batch(values: list[str]) -> BatchRoutes (parallel lists, one entry per address)
or raise RoutingNotAvailableError("why") while there is nothing to measure.

Usage: python bench/routing_bench.py CSV [--per-call 200000] [--batch 1000000]
(prints JSON)
"""

from __future__ import annotations

import argparse
import csv
import inspect
import itertools
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Protocol


class RoutingNotAvailableError(Exception):
    """The routing table cannot be measured yet; the message says why."""


class RoutingTableLike(Protocol):
    def lookup(self, value: str) -> Any: ...  # or lookup(*, ip: str)

    def route_batch(self, values: list[str]) -> Any: ...


def make_routing_table() -> RoutingTableLike:
    """>>> HOOK: return the routing table that `csirtnet ingest` uses. <<<

    Wired to `RoutingTable.build()` (directory + imported RIR data in the database);
    change it here if the ingest builds its table another way.
    """
    try:
        from csirtnet.directory import routing
    except ImportError as exc:
        raise RoutingNotAvailableError(f"csirtnet.directory.routing: {exc}") from exc
    table_class = getattr(routing, "RoutingTable", None)
    if table_class is None or not hasattr(table_class, "build"):
        raise RoutingNotAvailableError(
            "hook bench/routing_bench.py:make_routing_table() is not wired"
        )
    return table_class.build()  # type: ignore[no-any-return]


def read_addresses(csv_path: Path, count: int) -> list[str]:
    """The first `count` ip values of the file (cycled if the file is shorter)."""
    with csv_path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        column = next(reader).index("ip")
        addresses = [row[column] for row in itertools.islice(reader, count)]
    if not addresses:
        raise SystemExit(f"{csv_path} has no rows")
    return list(itertools.islice(itertools.cycle(addresses), count))


def measure(
    table: RoutingTableLike, addresses: list[str], per_call: int, batch: int, repeats: int = 3
) -> dict[str, object]:
    """Best of `repeats` runs for each mode."""
    lookup = table.lookup
    # lookup(value) or lookup(*, ip=value): call it the way its signature asks.
    by_keyword = inspect.signature(lookup).parameters.get("ip") is not None
    sample = addresses[:per_call]
    best_call = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        if by_keyword:
            for value in sample:
                lookup(ip=value)
        else:
            for value in sample:
                lookup(value)
        best_call = min(best_call, time.perf_counter() - started)
    values = addresses[:batch]
    best_batch = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        results = table.route_batch(values)
        best_batch = min(best_batch, time.perf_counter() - started)
        if len(results) != len(values):
            raise SystemExit(f"route_batch returned {len(results)} for {len(values)}")
    # Not timed: what the routes were, and whether both modes agree on a sample.
    rules = Counter(results.rules)
    check = values[:10_000]
    singles = [lookup(ip=v) if by_keyword else lookup(v) for v in check]
    batch_routes = zip(results.organization_ids, results.rules, results.countries, strict=True)
    agree = sum(
        (s.organization_id, s.rule.value, s.country) == b
        for s, b in zip(singles, batch_routes, strict=False)
    )
    return {
        "status": "ok",
        "per_call_lookups": len(sample),
        "per_call_per_s": round(len(sample) / best_call, 1),
        "batch_lookups": len(values),
        "batch_per_s": round(len(values) / best_batch, 1),
        "repeats": repeats,
        "batch_rules": dict(rules.most_common()),
        "per_call_batch_agreement": round(agree / len(check), 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path)
    parser.add_argument("--per-call", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    try:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csirtnet.settings")
        import django

        django.setup()
        table = make_routing_table()
    except RoutingNotAvailableError as exc:
        figures: dict[str, object] = {"status": "not available", "reason": str(exc)}
    except Exception as exc:  # a broken setup is reported, not fatal to the whole bench
        figures = {"status": "error", "reason": f"{type(exc).__name__}: {exc}"}
    else:
        addresses = read_addresses(args.csv, max(args.per_call, args.batch))
        figures = measure(table, addresses, args.per_call, args.batch)
    sys.stdout.write(json.dumps(figures) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
