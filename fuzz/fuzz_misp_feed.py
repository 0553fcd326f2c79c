"""
Fuzz MISP feed import (`import_misp_feed`): an input is `manifest.json`, a line "===",
then the event file, written as `<first uuid of the manifest>.json` in a feed folder;
imported into a throw-away SQLite database, rolled back after each input. Documented
errors: `ValidationError` (no readable manifest, or not an object of event uuids); a
bad event file is a rejected outcome, never an exception.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])  # the repository, not fuzz/

from fuzz import common  # noqa: E402

common.setup_django(database=True)

from django.core.exceptions import ValidationError  # noqa: E402
from django.db import transaction  # noqa: E402

from csirtnet.sharing import services  # noqa: E402

SEPARATOR = b"\n===\n"
UUID_RE = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


def first_uuid(manifest: bytes) -> str | None:
    """Return the first key of the manifest that names an event file, if any."""
    try:
        document = json.loads(manifest)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    return next((key for key in document if UUID_RE.fullmatch(key)), None)


def one_input(data: bytes) -> None:
    """Write one feed folder and import it; roll back what it stored."""
    manifest, _separator, event = data.partition(SEPARATOR)
    folder = Path(tempfile.mkdtemp(prefix="csirtnet-fuzz-feed-"))
    try:
        (folder / "manifest.json").write_bytes(manifest)
        if (name := first_uuid(manifest)) is not None:
            (folder / f"{name}.json").write_bytes(event)
        with transaction.atomic():
            try:
                services.import_misp_feed(actor=ACTOR, folder=folder, source="fuzz")
            except ValidationError:
                pass
            except Exception as error:
                if not common.known_bug(error):
                    raise
            transaction.set_rollback(True)
    finally:
        shutil.rmtree(folder)


def seeds() -> list[bytes]:
    """Return the sample feed: its manifest, the separator, its event file."""
    feed = common.shared_dir() / "data" / "samples" / "misp-feed"
    manifest = (feed / "manifest.json").read_bytes()
    name = first_uuid(manifest)
    events = [(feed / f"{name}.json").read_bytes()] if name else []
    events += [path.read_bytes() for path in common.samples("misp/*.json", "misp/pymisp/*.json")]
    return [manifest + SEPARATOR + event for event in events]


if __name__ == "__main__":
    ACTOR = common.member("fuzz")
    common.instrument()
    common.run(one_input, name="misp_feed", seeds=seeds())
