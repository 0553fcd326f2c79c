"""Fuzz the abuse.ch feed parsers (URLhaus, Feodo Tracker, MalwareBazaar, SSLBL)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])  # the repository, not fuzz/

from fuzz import common  # noqa: E402

common.setup_django()
from fuzz import csv_harness  # noqa: E402

FEEDS = ["auto", "urlhaus", "urlhaus_tld", "feodo", "malwarebazaar", "sslbl"]

if __name__ == "__main__":
    target = csv_harness.harness(FEEDS)
    common.instrument()
    common.run(target, name="abusech", seeds=csv_harness.seeds("abusech/*.csv"))
