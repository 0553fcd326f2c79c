"""
A short run of every fuzz target (`fuzz/fuzz_*.py`): each runs in its own process for
CSIRTNET_FUZZ_SECONDS (default 10) and must end without a crash, that is without an
exception other than the documented errors of what it calls. Targets run two at a time;
a long run passes a larger `-max_total_time`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import REPO, shared_dir

TARGETS = sorted((REPO / "fuzz").glob("fuzz_*.py"))
SECONDS = int(os.environ.get("CSIRTNET_FUZZ_SECONDS", "10"))
PARALLEL = min(2, os.cpu_count() or 1)
DONE = re.compile(r"Done (\d+) runs in (\d+) second")

pytestmark = pytest.mark.skipif(
    os.environ.get("CSIRTNET_DB_ENGINE") == "postgresql",
    reason="the targets use their own SQLite database: one run, with the SQLite suite",
)


def _fuzz(target: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CSIRTNET_SHARED_DIR": str(shared_dir())}
    return subprocess.run(
        [sys.executable, str(target), f"-max_total_time={SECONDS}", "-timeout=60"],
        capture_output=True,
        text=True,
        errors="replace",
        env=env,
        cwd=REPO,
        timeout=SECONDS + 240,
        check=False,
    )


@pytest.fixture(scope="module")
def runs() -> dict[str, Future[subprocess.CompletedProcess[str]]]:
    """Start every target, two at a time; each test waits for its own."""
    pool = ThreadPoolExecutor(max_workers=PARALLEL)
    yield {target.stem: pool.submit(_fuzz, target) for target in TARGETS}
    pool.shutdown(cancel_futures=True)


def test_there_is_a_target_per_parser():
    assert {target.stem for target in TARGETS} >= {
        "fuzz_shadowserver_csv", "fuzz_generic_csv", "fuzz_abusech", "fuzz_stix",
        "fuzz_misp", "fuzz_misp_feed", "fuzz_taxii_query", "fuzz_observables",
    }  # fmt: skip


@pytest.mark.parametrize("target", [target.stem for target in TARGETS])
def test_target_runs_without_a_crash(target, runs, capsys):
    result = runs[target].result()
    done = DONE.search(result.stderr)
    with capsys.disabled():  # shown in the run's output, passing or not
        print(f" {target}: {done.group(1) if done else '?'} executions", end=" ")  # noqa: T201
    assert result.returncode == 0 and done, result.stderr[-6000:]
