"""
Fuzz MISP event import: `detect_format`, `misp.load_events` and `misp.event_objects`
on any bytes, then `import_misp` into a throw-away SQLite database (rolled back after
each input). Documented errors: `ValidationError` (not JSON, not a MISP event, an
attribute that cannot be mapped).
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])  # the repository, not fuzz/

from fuzz import common  # noqa: E402

common.setup_django(database=True)

from django.core.exceptions import ValidationError  # noqa: E402
from django.db import transaction  # noqa: E402

from csirtnet.sharing import misp, services  # noqa: E402

EVENT = {
    "uuid": "5d0092c5-5f74-4287-9642-33f4c354e56d", "info": "<img src=x onerror=alert(1)>",
    "date": "2026-01-01", "Tag": [{"name": "tlp:amber+strict"}],
    "Attribute": [
        {
            "uuid": "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "type": "ip-dst",
            "category": "Network activity", "value": "2001:db8::1", "to_ids": True,
            "comment": "javascript:alert(1)", "timestamp": "1767225600",
        },
        {
            "uuid": "9e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "type": "AS",
            "category": "Network activity", "value": "AS27817", "to_ids": False,
        },
    ],
}  # fmt: skip
GENERATED = [json.dumps({"Event": EVENT}).encode(), json.dumps(EVENT).encode()]


def one_input(data: bytes) -> None:
    """Detect, load, map and import one document; roll back what it stored."""
    services.detect_format(data)
    try:
        events = misp.load_events(services.read_json(data))
        for event in events:
            misp.event_objects(event)
    except ValidationError:
        return
    except Exception as error:
        if common.known_bug(error):
            return
        raise
    with contextlib.suppress(ValidationError), transaction.atomic():
        services.import_misp(actor=ACTOR, data=data, source="fuzz")
        transaction.set_rollback(True)


if __name__ == "__main__":
    ACTOR = common.member("fuzz")
    files = common.samples("misp/**/*.json", "misp-feed/*.json")
    common.instrument()
    common.run(one_input, name="misp", seeds=[*GENERATED, *(p.read_bytes() for p in files)])
