"""
Fuzz STIX 2.1 import: `load_stix` on any bytes, the pure mapping functions of
`sharing.stix` on each object, then `import_stix` into a throw-away SQLite database
(rolled back after each input). Documented errors: `ValidationError` for a file that
cannot be read; a bad object is a rejected outcome, never an exception.
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

from csirtnet.sharing import services, stix  # noqa: E402

INDICATOR = {
    "type": "indicator", "spec_version": "2.1",
    "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
    "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
    "name": "<script>alert(1)</script>", "pattern_type": "stix",
    "pattern": "[ipv4-addr:value = '200.7.84.65'] OR [file:hashes.'SHA-256' = "
    "'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']",
    "valid_from": "2026-01-01T00:00:00Z",
    "object_marking_refs": ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"],
}  # fmt: skip
OBSERVABLES = [
    {
        "type": "domain-name", "spec_version": "2.1",
        "id": "domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5", "value": "Bücher.example",
    },
    {
        "type": "autonomous-system", "spec_version": "2.1",
        "id": "autonomous-system--f720c34b-98ae-597f-ade5-27dc241e8c74", "number": 27817,
    },
]  # fmt: skip
BUNDLE = {"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d"}
GENERATED = [
    json.dumps(INDICATOR).encode(),
    json.dumps({**BUNDLE, "objects": OBSERVABLES}).encode(),
]


def check_object(obj: object) -> None:
    """Run the pure mapping functions an import runs on one object."""
    if not isinstance(obj, dict):
        return
    stix.marking_tlp(obj)
    stix.object_tlp(obj)
    stix.parse_timestamp(stix.object_version(obj))
    with contextlib.suppress(UnicodeEncodeError, ValueError):  # lone surrogates: rejected
        stix.content_sha256(obj)
    for kind, value in stix.object_values(obj):
        assert value and kind


def one_input(data: bytes) -> None:
    """Load, map and import one document; roll back what it stored."""
    try:
        objects = services.load_stix(data)
    except ValidationError:
        return
    for obj in objects:
        check_object(obj)
    with transaction.atomic():
        try:
            report = services.import_stix(actor=ACTOR, data=data, source="fuzz")
        except ValidationError:
            pass
        else:
            assert len(report.outcomes) == len(objects)
        transaction.set_rollback(True)


if __name__ == "__main__":
    ACTOR = common.member("fuzz")
    files = common.samples("stix21/**/*.json", "taxii21/*.json")
    common.instrument()
    common.run(one_input, name="stix", seeds=[*GENERATED, *(p.read_bytes() for p in files)])
