"""Fuzz the Shadowserver report parser (layout from header and file name, then rows)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])  # the repository, not fuzz/

from fuzz import common  # noqa: E402

common.setup_django()
from fuzz import csv_harness  # noqa: E402

if __name__ == "__main__":
    target = csv_harness.harness(["auto", "shadowserver"])
    common.instrument()
    common.run(target, name="shadowserver_csv", seeds=csv_harness.seeds("shadowserver/*.csv"))
