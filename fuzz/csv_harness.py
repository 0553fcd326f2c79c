"""
The harness of the abuse-report fuzz targets: an input is a file name line and the file.

The first line names the file ("2019-09-04-scan_ntp-country-geo.csv"; Shadowserver
report types are read from file names), the rest is the file's bytes. Documented
outcomes: `UnknownLayout` for a file of no known layout, else a `ParsedRow` or a
`Rejection` per row; a `ParsedRow` must keep the promises of its docstring.
"""

from __future__ import annotations

import ipaddress
import os
import tempfile
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fuzz.common import samples

FILE_NAME_MAX = 120  # bytes; file systems allow 255


def seeds(*patterns: str) -> list[bytes]:
    """Return the sample files matching `patterns` as inputs: name line, then content."""
    return [path.name.encode() + b"\n" + path.read_bytes() for path in samples(*patterns)]


def split(data: bytes) -> tuple[str, bytes]:
    """Return the file name (a safe default for a bad one) and the content of an input."""
    head, _newline, content = data.partition(b"\n")
    name = head.decode("utf-8", "replace").strip()
    if (
        not name
        or "/" in name
        or "\x00" in name
        or name in (".", "..")
        or len(name.encode()) > FILE_NAME_MAX
    ):
        name = "report.csv"
    return name, content


def harness(formats: Iterable[str]) -> Callable[[bytes], None]:
    """Return a target parsing each input in each of `formats` ("auto", "csv", ...)."""
    from csirtnet.reports.parsers import ParsedRow, Rejection, UnknownLayout, parse_file
    from csirtnet.reports.parsers.base import detect_format

    work = Path(tempfile.mkdtemp(prefix="csirtnet-fuzz-csv-"))
    chosen = tuple(formats)

    def one_input(data: bytes) -> None:
        name, content = split(data)
        path = work / name
        path.write_bytes(content)
        try:
            try:
                lines = content.decode("utf-8", "replace").splitlines(keepends=True)
                detect_format(path, lines[:50])
            except UnknownLayout:
                pass
            for fmt in chosen:
                try:
                    rows = parse_file(path, fmt)
                except UnknownLayout:
                    continue
                for row in rows:
                    if isinstance(row, ParsedRow):
                        check_row(row)
                    else:
                        assert isinstance(row, Rejection) and row.reason and row.line >= 1
        finally:
            os.unlink(path)

    return one_input


def check_row(row: object) -> None:
    """Assert the promises of `ParsedRow`'s docstring."""
    from csirtnet.reports.parsers import ParsedRow

    assert isinstance(row, ParsedRow)
    assert row.line >= 1
    assert row.observed_at.tzinfo is not None
    assert row.observed_at.utcoffset() == timedelta(0)
    assert (
        datetime(1990, 1, 1, tzinfo=UTC)
        <= row.observed_at
        <= datetime.now(UTC) + timedelta(days=2)
    )
    if row.source_ip is not None:
        assert str(ipaddress.ip_address(row.source_ip)) == row.source_ip
    if row.source_network is not None:
        assert str(ipaddress.ip_network(row.source_network)) == row.source_network
    if row.source_port is not None:
        assert 0 <= row.source_port <= 65535
    if row.asn is not None:
        assert 1 <= row.asn <= 4_294_967_295
    if row.hostname is not None:
        assert row.hostname.isascii() and row.hostname == row.hostname.lower()
        assert 0 < len(row.hostname) <= 253
    if row.file_hash is not None:
        assert len(row.file_hash) in (32, 40, 64) and row.file_hash == row.file_hash.lower()
    if row.country is not None:
        assert len(row.country) == 2 and row.country.isascii() and row.country.isupper()
    assert any(
        value is not None
        for value in (row.source_ip, row.source_network, row.hostname, row.url, row.file_hash)
    )
