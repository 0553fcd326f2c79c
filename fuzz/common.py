"""
What the fuzz targets share: Django set-up, seeds from the real sample files, coverage
instrumentation of csirtnet's own code, and the libFuzzer run loop (Atheris).

A target is a script `fuzz/fuzz_<thing>.py` calling `run(one_input, name=…, seeds=…)`.
It accepts libFuzzer's options (`-max_total_time=20`, `-runs=1000`) and, instead of the
default corpus, files or folders to read: `python fuzz/fuzz_stix.py crash-1a2b` replays
one input. Work files (corpus, crash artifacts) go to `$CSIRTNET_VAR_DIR/fuzz/<name>/`.
"""

from __future__ import annotations

import gc
import hashlib
import inspect
import io
import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TEST_SECRET_KEY = "test-only-secret-key-not-for-production-use"  # noqa: S105 (no secret)
MAX_SEED_BYTES = 64 * 1024  # larger sample files are left out of the seed corpus


def shared_dir() -> Path:
    """Return the shared data folder: `../shared` beside the repository or CSIRTNET_SHARED_DIR."""
    return Path(os.environ.get("CSIRTNET_SHARED_DIR", REPO.parent / "shared"))


def samples(*patterns: str) -> list[Path]:
    """Return the sample files (under shared/data/samples) matching the glob `patterns`."""
    root = shared_dir() / "data" / "samples"
    found = sorted({path for pattern in patterns for path in root.glob(pattern)})
    return [path for path in found if path.is_file() and path.stat().st_size <= MAX_SEED_BYTES]


def var_dir() -> Path:
    """Return the folder for work files: CSIRTNET_VAR_DIR, else `var/` of the repository."""
    return Path(os.environ.get("CSIRTNET_VAR_DIR", REPO / "var"))


def setup_django(*, database: bool = False) -> None:
    """
    Configure Django with test settings (never production secrets) and set it up.

    With `database`, use a new SQLite file in a temporary folder, migrated, so a target
    can call services and views; the folder is removed when the process ends.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csirtnet.settings")
    os.environ.setdefault("CSIRTNET_SECRET_KEY", TEST_SECRET_KEY)
    os.environ.setdefault("CSIRTNET_DEBUG", "false")
    os.environ.setdefault("CSIRTNET_VAR_DIR", str(var_dir()))
    if database:
        folder = tempfile.TemporaryDirectory(prefix="csirtnet-fuzz-")
        _keep.append(folder)
        os.environ["CSIRTNET_DB_ENGINE"] = "sqlite"
        os.environ["CSIRTNET_DB_NAME"] = str(Path(folder.name) / "fuzz.sqlite3")
        os.environ["CSIRTNET_EMAIL"] = "file"  # follow-up tasks are queued, never run
        os.environ["CSIRTNET_MAIL_DIR"] = str(Path(folder.name) / "mail")
    import django

    django.setup()
    if database:
        from django.conf import settings
        from django.core.management import call_command

        # Tables straight from the models, as pytest-django's --nomigrations: seconds faster.
        settings.MIGRATION_MODULES = {
            app.label: None for app in django.apps.apps.get_app_configs()
        }
        call_command("migrate", verbosity=0, interactive=False, run_syncdb=True)
        call_command("load_directory", verbosity=0, stdout=io.StringIO())


def member(username: str, short_name: str = "CERTuy") -> Any:
    """Return a new active handler membership of `username` in the organization `short_name`."""
    from django.contrib.auth import get_user_model

    from csirtnet.accounts.models import Membership
    from csirtnet.directory.models import Organization

    user = get_user_model().objects.create_user(username=username, password=None)
    return Membership.objects.create(
        user=user, organization=Organization.objects.get(short_name=short_name)
    )


_keep: list[tempfile.TemporaryDirectory[str]] = []


# Bugs found by fuzzing and reported to the owners of the code, each pinned by a strict
# xfail test (tests/sharing/test_fuzz_findings.py): `(exception type, message)`. A
# target tolerates them so that a run goes on to find others; remove an entry when its
# test starts passing.
KNOWN_BUGS: tuple[tuple[type[BaseException], str], ...] = ()


def known_bug(error: BaseException) -> bool:
    """Tell whether `error` is one of `KNOWN_BUGS`."""
    return any(isinstance(error, kind) and str(error) == text for kind, text in KNOWN_BUGS)


def instrument(prefixes: tuple[str, ...] = ("csirtnet.",)) -> None:
    """
    Add coverage instrumentation to every loaded function of the modules named by
    `prefixes` (csirtnet's own code): the feedback libFuzzer steers by. Instrumenting
    every loaded library would take minutes at each start.
    """
    import atheris
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (imports every view, which load lazily)
    for obj in gc.get_objects():
        if inspect.isfunction(obj) and str(obj.__module__).startswith(prefixes):
            try:
                atheris.instrument_func(obj)
            except Exception:  # noqa: BLE001, S112 (an uninstrumented function still runs)
                continue


def run(one_input: Callable[[bytes], None], *, name: str, seeds: Iterable[bytes]) -> None:
    """
    Fuzz `one_input` with libFuzzer until its options say stop; never returns.

    `seeds` start the corpus (written to `<var>/fuzz/<name>/seeds/`); new inputs go to
    `<var>/fuzz/<name>/corpus/` and crashing ones to `<var>/fuzz/<name>/crash-<sha1>`.
    When the command line names files or folders, those are read instead (replay).
    """
    import atheris

    work = var_dir() / "fuzz" / name
    seed_dir, corpus_dir = work / "seeds", work / "corpus"
    for folder in (seed_dir, corpus_dir):
        folder.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        (seed_dir / hashlib.sha1(seed, usedforsecurity=False).hexdigest()).write_bytes(seed)
    argv = list(sys.argv)
    if not any(arg.startswith("-artifact_prefix=") for arg in argv[1:]):
        argv.append(f"-artifact_prefix={work}/")
    if not any(not arg.startswith("-") for arg in argv[1:]):
        argv += [str(corpus_dir), str(seed_dir)]
    atheris.Setup(argv, one_input)
    atheris.Fuzz()
