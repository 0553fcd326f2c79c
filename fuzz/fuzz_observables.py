"""
Fuzz the observable normalizers: `sharing.observables.normalize` for each type, `detect`
and `route_arguments`, the incidents' `normalized_observables`, and the abuse-report
field normalizers. Documented errors: `ValueError` (normalizers), `ValidationError`
(incident input), `FieldError` (report fields). A normalized value must normalize to
itself, so one value written two ways is stored once.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])  # the repository, not fuzz/

from fuzz import common  # noqa: E402

common.setup_django()

from django.core.exceptions import ValidationError  # noqa: E402

from csirtnet.incidents.validation import normalized_observables  # noqa: E402
from csirtnet.reports.parsers import fields  # noqa: E402
from csirtnet.sharing.observables import (  # noqa: E402
    ObservableType,
    detect,
    normalize,
    route_arguments,
)

KINDS = [kind.value for kind in ObservableType] + ["bogus"]
SEEDS = [
    "200.7.84.65", "::ffff:200.7.84.65", "2001:DB8::0:1", "190.210.0.0/16", "2001:db8::/32",
    "Bücher.Example.", "xn--bcher-kva.example", "https://USER@Bücher.example:8443/a?b#c",
    "http://[2001:db8::1]/", "ftp://200.7.84.1:21", "abuse@CERT.example.uy", "AS27817",
    "4294967295", "D41D8CD98F00B204E9800998ECF8427E", "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "999.1.1.1",
    "2026-01-01T00:00:00+14:00", "0001-01-01T00:00:00+01:00", "GET /x HTTP/1.1",
]  # fmt: skip
FIELD_PARSERS = (
    fields.parse_ip, fields.parse_network, fields.split_host, fields.url_parts,
    fields.parse_datetime, fields.parse_asn, fields.parse_port, fields.parse_hash,
)  # fmt: skip


def check_kind(kind: str, text: str) -> None:
    """Normalize `text` as `kind`: a `ValueError`, or a value that normalizes to itself."""
    try:
        value = normalize(kind, text)
    except ValueError:
        return
    assert normalize(kind, value) == value, (kind, text, value)
    route_arguments(kind, value)


def check_detect(text: str) -> None:
    """Detect `text`'s type: a `ValueError`, or a pair that `normalize` keeps."""
    try:
        kind, value = detect(text)
    except ValueError:
        return
    assert normalize(kind, value) == value, (kind, text, value)
    route_arguments(kind, value)


def check_fields(text: str) -> None:
    """Run every report field normalizer on `text`: a value or a `FieldError`."""
    for parse in FIELD_PARSERS:
        with contextlib.suppress(fields.FieldError):
            parse(text, "column")
    fields.normalize_country(text)
    fields.to_datetime(text)
    fields.join_url(text, text[:20], "http")
    fields.shorten(text)


def decode(data: bytes) -> str:
    """Return `data` as text: UTF-8, encoded lone surrogates kept (JSON can carry them)."""
    try:
        return data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace")


def one_input(data: bytes) -> None:
    """Feed one fuzzed value (a type byte, then UTF-8 text) to every normalizer."""
    if not data:
        return
    kind, text = KINDS[data[0] % len(KINDS)], decode(data[1:])
    check_kind(kind, text)
    check_detect(text)
    check_fields(text)
    with contextlib.suppress(ValidationError):
        normalized_observables([text, (kind, text)])


def seeds() -> list[bytes]:
    """Return each sample value under each type (type index byte, then UTF-8 text)."""
    return [bytes([index]) + value.encode() for index in range(len(KINDS)) for value in SEEDS]


if __name__ == "__main__":
    common.instrument()
    common.run(one_input, name="observables", seeds=seeds())
