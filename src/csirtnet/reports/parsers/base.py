"""Read abuse reports: find a file's layout from its header and stream its rows.

Files are UTF-8 (a byte order mark is dropped, undecodable bytes become U+FFFD),
with LF or CRLF line ends, separated by ","; UTF-16, gzip-compressed, binary and
";"-separated files are recognized and refused with a message saying so. Lines
before the header may be blank or "#" comments; the header is the first other line,
or the last comment before it when that comment names the columns (URLhaus,
MalwareBazaar and SSLBL write "# id,dateadded,...").
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from csirtnet.core.text import printable
from csirtnet.reports.parsers.fields import _, shorten
from csirtnet.reports.parsers.layouts import (
    ABUSECH_FEEDS,
    CSV_FAMILY,
    CSV_ROLES,
    SHADOWSERVER_FAMILY,
    SHADOWSERVER_REPORTS,
    SHADOWSERVER_ROLES,
    URL_SUBJECT,
    AbuseChFeed,
    Layout,
    ShadowserverReport,
    fingerprint_shadowserver,
    looks_like_shadowserver,
    shadowserver_name,
    shadowserver_report,
)
from csirtnet.reports.parsers.records import ParsedRow, Rejection, UnknownLayout
from csirtnet.reports.parsers.rows import iter_rows

__all__ = ["FORMATS", "ParsedRow", "Rejection", "UnknownLayout", "detect_format", "parse_file"]

FORMATS = ("shadowserver", "urlhaus", "urlhaus_tld", "feodo", "malwarebazaar", "sslbl", "csv")
MAX_PREAMBLE_LINES = 1000  # blank and comment lines tolerated before the header
SNIFF_BYTES = 4096  # bytes read from the start of a file to tell text from UTF-16 or gzip
GZIP_MAGIC = b"\x1f\x8b"  # RFC 1952 section 2.3.1
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")  # little- and big-endian (UTF-32 LE starts alike)


def detect_format(path: Path, first_lines: list[str] | None = None) -> str:
    """
    Return the format of the report at `path`: one of `FORMATS`.

    `first_lines` are the file's first lines when the caller has read them already
    (one string per physical line); `path` then only supplies the file name, which
    names the Shadowserver report type ("2019-09-04-scan_ntp-country-geo.csv").

    Raises:
        UnknownLayout: the file is empty, not UTF-8 text (UTF-16, gzip, binary), has no
            header row, its header is ";"-separated or of no known layout (including a
            Shadowserver header of an unsupported report).
    """
    layout, _line = _resolve(path, first_lines, "auto", None)
    return layout.fmt


def parse_file(
    path: Path, fmt: str = "auto", *, report_type: str | None = None
) -> Iterator[ParsedRow | Rejection]:
    """
    Stream the rows of the report at `path` as `ParsedRow` or `Rejection`, in file order.

    The layout is resolved when this is called, so a bad file raises here, before any
    row; rows are then read lazily (the file is never loaded whole). `fmt` forces a
    format of `FORMATS`. `report_type` names the Shadowserver report type when the file
    name does not (it then selects the layout), and replaces the report type of other
    formats ("csv", "urlhaus", ...). Rows without a time column (generic CSV) are
    observed at the file's modification time.

    Raises:
        ValueError: `fmt` is not "auto" or one of `FORMATS`.
        UnknownLayout: as for `detect_format`, or the header is not of the forced `fmt`.
    """
    if fmt != "auto" and fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected 'auto' or one of {FORMATS}")
    layout, header_line = _resolve(path, None, fmt, report_type)
    default_observed_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    return _stream(path, layout, header_line, default_observed_at)


def _open(path: Path) -> TextIO:
    return path.open(encoding="utf-8-sig", errors="replace", newline="")


def _stream(
    path: Path, layout: Layout, header_line: int, default_observed_at: datetime
) -> Iterator[ParsedRow | Rejection]:
    with _open(path) as handle:
        for _skipped in range(header_line):
            handle.readline()
        # Strict: a stray or unclosed quote is an error (a rejection), not a merged row.
        reader = csv.reader(handle, skipinitialspace=layout.skipinitialspace, strict=True)
        yield from iter_rows(
            reader, layout, base=header_line, default_observed_at=default_observed_at
        )


@dataclass(frozen=True, slots=True)
class _Line:
    number: int
    text: str


def _preamble(lines: Iterable[str]) -> tuple[_Line | None, _Line | None]:
    """Return the first line that is neither blank nor a comment, and the last comment before it.

    Comment text comes without its "#" marks; reading stops at the first other line.
    """
    comment = None
    for number, raw in enumerate(lines, 1):
        text = raw.rstrip("\r\n").lstrip("\ufeff") if number == 1 else raw.rstrip("\r\n")
        stripped = text.strip()
        if stripped.startswith("#"):
            comment = _Line(number, stripped.lstrip("#").strip())
        elif stripped:
            return _Line(number, text), comment
        if number >= MAX_PREAMBLE_LINES:
            break
    return None, comment


def _resolve(
    path: Path, first_lines: Sequence[str] | None, fmt: str, report_type: str | None
) -> tuple[Layout, int]:
    """Return the layout of the file and the physical line of its header row.

    Raises:
        UnknownLayout: as for `detect_format`.
    """
    if first_lines is None:
        with path.open("rb") as raw:
            _refuse_non_text(raw.read(SNIFF_BYTES), path)
        with _open(path) as handle:
            first, comment = _preamble(handle)
    else:
        _refuse_non_text("".join(first_lines[:MAX_PREAMBLE_LINES])[:SNIFF_BYTES], path)
        first, comment = _preamble(first_lines)
    shown = first or comment
    if shown is None:
        raise UnknownLayout(
            _("%(file)s: the file is empty; expected a header row naming the columns")
            % {"file": _name(path)}
        )
    for candidate in (first, comment):
        if candidate is not None:
            names = next(csv.reader([candidate.text], skipinitialspace=True), [])
            layout = _layout_for([name.strip() for name in names], path, fmt, report_type)
            if layout is not None:
                return layout, candidate.number
    if _splits_wider_on_semicolons(shown.text):
        raise UnknownLayout(
            _("%(file)s: the file uses ';' as separator; csirtnet reads ',' separated files")
            % {"file": _name(path)}
        )
    raise UnknownLayout(
        _(
            "%(file)s: no header row of a known layout (%(expected)s); line %(line)d reads: "
            "%(text)s"
        )
        % {
            "file": _name(path),
            "expected": _expected(fmt),
            "line": shown.number,
            "text": shorten(shown.text),
        }
    )


def _name(path: Path) -> str:
    """Return the file name fit for a message: non-printable characters escaped."""
    return printable(path.name)


def _refuse_non_text(head: bytes | str, path: Path) -> None:
    """Refuse a file whose start (`head`: bytes, or lines the caller read) is not UTF-8 text.

    gzip is told by its magic number, UTF-16 by its byte order mark or by NUL bytes on
    every other position (ASCII text in UTF-16); a start that is a quarter NUL bytes
    otherwise is binary. Lines read by a caller are those bytes decoded as UTF-8 (U+FFFD
    for undecodable bytes) or Latin-1.

    Raises:
        UnknownLayout: the file is gzip-compressed, UTF-16 or binary.
    """
    if isinstance(head, bytes):
        is_gzip, is_bom = head.startswith(GZIP_MAGIC), head.startswith(UTF16_BOMS)
        even, odd = head[0::2].count(0), head[1::2].count(0)
    else:
        is_gzip = head[:2] in ("\x1f\x8b", "\x1f\ufffd")
        is_bom = head[:2] in ("\ufffd\ufffd", "\xff\xfe", "\xfe\xff")  # as UTF-8 or Latin-1
        even, odd = head[0::2].count("\x00"), head[1::2].count("\x00")
    if is_gzip:
        raise UnknownLayout(
            _("%(file)s: the file is gzip-compressed; decompress it first") % {"file": _name(path)}
        )
    if not head or (not is_bom and (even + odd) * 4 < len(head)):
        return
    if is_bom or min(even, odd) * 10 <= max(even, odd):
        raise UnknownLayout(
            _("%(file)s: the file looks like UTF-16; save it as UTF-8") % {"file": _name(path)}
        )
    raise UnknownLayout(
        _("%(file)s: the file is not text (it holds NUL bytes); expected a CSV file")
        % {"file": _name(path)}
    )


def _splits_wider_on_semicolons(text: str) -> bool:
    """Tell whether a header line splits into more fields on ";" than on ","."""
    by_semicolon = next(csv.reader([text], delimiter=";"), [])
    by_comma = next(csv.reader([text]), [])
    return len(by_semicolon) > len(by_comma)


def _expected(fmt: str) -> str:
    if fmt == "auto":
        return _(
            'expected a Shadowserver header ("timestamp","ip",...), an abuse.ch feed header '
            '(URLhaus, Feodo Tracker, MalwareBazaar, SSLBL) or CSV with an "ip" or "url" column'
        )
    return _('expected a header of the format "%(fmt)s"') % {"fmt": fmt}


def _layout_for(names: list[str], path: Path, fmt: str, report_type: str | None) -> Layout | None:
    """Return the layout a header row `names` identifies under `fmt`, None if it is no header.

    Raises:
        UnknownLayout: the header is Shadowserver's but of no supported report type.
    """
    lower = [name.lower() for name in names]
    present = frozenset(lower)
    for feed in ABUSECH_FEEDS:
        if fmt in ("auto", feed.fmt) and _is_feed_header(feed, present):
            return _abusech_layout(feed, names, lower, path, report_type)
    if fmt in ("auto", "shadowserver"):
        layout = _shadowserver_layout(names, lower, path, report_type, forced=fmt != "auto")
        if layout is not None:
            return layout
    if fmt in ("auto", "csv"):
        return _csv_layout(names, lower, path, report_type)
    return None


def _is_feed_header(feed: AbuseChFeed, present: frozenset[str]) -> bool:
    wanted = {*feed.roles.values(), *feed.also, *([feed.family] if feed.family else [])}
    return wanted <= present


def _positions(lower: list[str], path: Path) -> dict[str, int]:
    """Map each column name to its index.

    Raises:
        UnknownLayout: a column name occurs twice, so the layout is ambiguous.
    """
    positions = {name: index for index, name in enumerate(lower)}
    if len(positions) != len(lower):
        twice = sorted({name for name in lower if lower.count(name) > 1})
        raise UnknownLayout(
            _("%(file)s: the header names a column more than once: %(columns)s")
            % {"file": _name(path), "columns": shorten(", ".join(twice))}
        )
    return positions


def _abusech_layout(
    feed: AbuseChFeed, names: list[str], lower: list[str], path: Path, report_type: str | None
) -> Layout:
    positions = _positions(lower, path)
    return Layout(
        fmt=feed.fmt,
        report_type=report_type or feed.fmt,
        taxonomy=feed.taxonomy,
        type=feed.type,
        header=tuple(names),
        columns={role: positions[column] for role, column in feed.roles.items()},
        family_columns=(positions[feed.family],) if feed.family else (),
        family_fix=feed.family_fix,
        url_mode=feed.url_mode,
        skip_comments=True,
        skipinitialspace=True,
    )


def _roles(positions: dict[str, int], roles: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Map each role to the index of its first alias present in the header."""
    found: dict[str, int] = {}
    for role, aliases in roles.items():
        for alias in aliases:
            if alias in positions:
                found[role] = positions[alias]
                break
    return found


def _shadowserver_layout(
    names: list[str], lower: list[str], path: Path, report_type: str | None, *, forced: bool
) -> Layout | None:
    """Return the Shadowserver layout named by `report_type` or the file name, or fingerprinted.

    Raises:
        UnknownLayout: the header has Shadowserver's shape (or the format is forced) but
            the named report type is unsupported, lacks its columns, or no fingerprint
            matches exactly one supported report type.
    """
    named, dated = (report_type, True) if report_type else shadowserver_name(path)
    shaped = forced or looks_like_shadowserver(lower)
    present = frozenset(lower)
    if named:
        report = shadowserver_report(named)
        if report is not None and report.required <= present:
            return _build_shadowserver(named, report, names, lower, path)
        if report is not None and shaped:
            raise UnknownLayout(
                _('%(file)s: a Shadowserver "%(type)s" report needs the columns %(missing)s')
                % {
                    "file": _name(path),
                    "type": printable(named),
                    "missing": ", ".join(sorted(report.required - present)),
                }
            )
        if report is None and dated and shaped:
            raise UnknownLayout(
                _('%(file)s: Shadowserver report type "%(type)s" is not supported (%(known)s)')
                % {
                    "file": _name(path),
                    "type": printable(named),
                    "known": ", ".join(SHADOWSERVER_REPORTS),
                }
            )
    if not shaped:
        return None
    matches = fingerprint_shadowserver(present)
    if len(matches) == 1:
        return _build_shadowserver(
            matches[0], SHADOWSERVER_REPORTS[matches[0]], names, lower, path
        )
    raise UnknownLayout(
        _(
            "%(file)s: the Shadowserver header matches %(count)d supported report types "
            "(%(matches)s); name the file like Shadowserver does or pass the report type. "
            "Columns: %(columns)s"
        )
        % {
            "file": _name(path),
            "count": len(matches),
            "matches": ", ".join(matches) or "-",
            "columns": shorten(",".join(names)),
        }
    )


def _build_shadowserver(
    report_type: str, report: ShadowserverReport, names: list[str], lower: list[str], path: Path
) -> Layout:
    positions = _positions(lower, path)
    return Layout(
        fmt="shadowserver",
        report_type=report_type,
        taxonomy=report.taxonomy,
        type=report.type,
        header=tuple(names),
        columns=_roles(positions, SHADOWSERVER_ROLES),
        family_columns=tuple(positions[c] for c in SHADOWSERVER_FAMILY if c in positions),
        url_mode=report.url_mode,
        allow_network=report.allow_network,
    )


def _csv_layout(
    names: list[str], lower: list[str], path: Path, report_type: str | None
) -> Layout | None:
    """Return the generic CSV layout when the header has an IP or URL column, else None."""
    if not ({*CSV_ROLES["ip"], *CSV_ROLES["url"]} & set(lower)):
        return None
    positions = _positions(lower, path)
    return Layout(
        fmt="csv",
        report_type=report_type or "csv",
        taxonomy="other",
        type="undetermined",
        header=tuple(names),
        columns=_roles(positions, CSV_ROLES),
        family_columns=tuple(positions[c] for c in CSV_FAMILY if c in positions),
        url_mode=URL_SUBJECT,
    )
