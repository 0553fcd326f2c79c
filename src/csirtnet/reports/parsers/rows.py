"""The row loop: CSV records of a resolved layout to `ParsedRow` or `Rejection`, streamed.

Throughput matters (a million-row Shadowserver file is routine), so the per-row code
inlines the common fast paths (canonical IPv4 text, decimal ports and AS numbers,
ASCII host names, cached timestamps and country codes) and calls `fields` otherwise.
"""

from __future__ import annotations

import csv
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Protocol

from csirtnet.core.text import HOSTNAME_RE, MAX_HOSTNAME, printable
from csirtnet.reports.parsers.fields import (
    ASN_MAX,
    EARLIEST,
    FUTURE_SLACK,
    FieldError,
    _,
    check_controls,
    check_time,
    join_url,
    normalize_country,
    parse_asn,
    parse_datetime,
    parse_hash,
    parse_ip,
    parse_network,
    parse_port,
    split_host,
    url_parts,
)
from csirtnet.reports.parsers.layouts import RSIT_TAXONOMY_OF_TYPE, URL_SUBJECT, Layout
from csirtnet.reports.parsers.records import ParsedRow, Rejection

CACHE_SIZE = 4096  # distinct timestamps / country values remembered per file


class RecordReader(Protocol):
    """A `csv.reader`: records as lists of fields, and the count of lines read so far."""

    line_num: int

    def __iter__(self) -> Iterator[list[str]]: ...

    def __next__(self) -> list[str]: ...


def iter_rows(
    reader: RecordReader, layout: Layout, *, base: int, default_observed_at: datetime
) -> Iterator[ParsedRow | Rejection]:
    """
    Yield one `ParsedRow` or `Rejection` per record of `reader` (a strict `csv.reader`).

    `base` is the number of physical lines before the reader's first line; a record's
    line is `base` plus the reader's `line_num` after the previous record, plus one, so
    quoted fields spanning lines and blank lines keep the count physical. Blank lines
    (and, for abuse.ch feeds, "#" comment lines) are not rows. A record with more fields
    than the header, or too few to reach every column the layout reads, is rejected;
    one short of trailing columns the layout does not read is kept. A record whose
    fields are all blank is rejected as empty.
    """
    build = make_builder(layout, default_observed_at)
    expected = len(layout.header)
    needed = max([*layout.columns.values(), *layout.family_columns], default=0) + 1
    comments = layout.skip_comments
    previous = 0
    while True:  # a CSV error ends the for loop; the reader resumes on the next line
        try:
            for row in reader:
                line = base + previous + 1
                previous = reader.line_num
                count = len(row)
                if count != expected or comments:
                    if not count or (count == 1 and not row[0].strip()):
                        continue
                    if comments and row[0].lstrip().startswith("#"):
                        continue
                    if count > expected or count < needed:
                        result: ParsedRow | Rejection = Rejection(
                            line,
                            _empty_reason()
                            if _is_blank(row)
                            else _column_count_reason(count, expected),
                        )
                    else:
                        result = build(row, line)
                else:
                    result = build(row, line)
                if base + previous > line and isinstance(result, Rejection):
                    result.reason += " " + _span_note(line, base + previous)
                yield result
            return
        except csv.Error as error:  # strict quoting: a stray or unclosed quote
            line = base + previous + 1
            previous = reader.line_num
            reason = _("row is not valid CSV: %(error)s") % {"error": printable(str(error))}
            if base + previous > line:
                reason += " " + _span_note(line, base + previous)
            yield Rejection(line, reason)


def _column_count_reason(count: int, expected: int) -> str:
    return _("row has %(count)d fields, the header has %(expected)d") % {
        "count": count,
        "expected": expected,
    }


def _is_blank(row: list[str]) -> bool:
    return not any(field.strip() for field in row)


def _empty_reason() -> str:
    return _("row is empty: every field is blank")


def _span_note(first: int, last: int) -> str:
    """Name the lines of a rejected row that spans several: often a quote left open."""
    return _("(the row spans lines %(first)d to %(last)d: is a quote left open?)") % {
        "first": first,
        "last": last,
    }


def make_builder(
    layout: Layout, default_observed_at: datetime
) -> Callable[[list[str], int], ParsedRow | Rejection]:
    """
    Return a function turning one record (started at `line`) into a `ParsedRow` or `Rejection`.

    One function on purpose: a call per field would cost about a tenth of the throughput.
    Rows without a time column are observed at `default_observed_at`. A row time later
    than a day after this call (`FUTURE_SLACK`) or before 1990 (`EARLIEST`) is rejected:
    the reporting clock is wrong. URLs and host names with control characters are rejected.
    """
    header, columns = layout.header, layout.columns
    i_time, i_ip, i_port, i_asn, i_host, i_url, i_http_host, i_scheme, i_hash, i_country = (
        columns.get(role, -1)
        for role in (
            "time", "ip", "port", "asn", "host", "url", "http_host", "scheme", "hash", "country"
        )
    )  # fmt: skip
    names = {index: header[index] for index in columns.values()}
    family_columns, family_fix = layout.family_columns, layout.family_fix
    subject_url, allow_network = layout.url_mode == URL_SUBJECT, layout.allow_network
    report_type, taxonomy, type_ = layout.report_type, layout.taxonomy, layout.type
    classify = _classifier(layout) if "type" in columns or "taxonomy" in columns else None
    times: dict[str, datetime] = {}
    countries: dict[str, str | None] = {}
    inet_pton, af_inet, hostname_match = socket.inet_pton, socket.AF_INET, HOSTNAME_RE.fullmatch
    fromisoformat = datetime.fromisoformat
    latest = datetime.now(UTC) + FUTURE_SLACK

    def build(row: list[str], line: int) -> ParsedRow | Rejection:
        try:
            observed = default_observed_at
            if i_time >= 0:
                text = row[i_time]
                cached = times.get(text)
                if cached is None:
                    try:  # the common naive UTC text, without the function calls
                        cached = fromisoformat(text + "+00:00")
                    except ValueError:
                        cached = None
                    if cached is None or cached.tzinfo is not UTC:
                        cached = parse_datetime(text, names[i_time])
                    if not EARLIEST <= cached <= latest:
                        check_time(cached, text, names[i_time], latest)
                    if len(times) >= CACHE_SIZE:
                        times.clear()
                    times[text] = cached
                observed = cached
            ip = network = None
            if i_ip >= 0 and (text := row[i_ip]):
                try:
                    inet_pton(af_inet, text)  # accepts canonical dotted quads only
                    ip = text
                except (OSError, ValueError):
                    if allow_network and "/" in text:
                        network = parse_network(text, names[i_ip])
                    else:
                        ip = parse_ip(text, names[i_ip])
            port = None
            if i_port >= 0 and (text := row[i_port]):
                port = int(text) if text.isascii() and text.isdigit() else -1
                if not 0 <= port <= 65535:
                    port = parse_port(text, names[i_port])
            asn = None
            if i_asn >= 0 and (text := row[i_asn]):
                asn = int(text) if text.isascii() and text.isdigit() else 0
                if not 0 < asn <= ASN_MAX:
                    asn = parse_asn(text, names[i_asn])
            hostname = None
            if i_host >= 0 and (text := row[i_host]):
                lowered = text.lower()
                if (
                    text.isascii()
                    and not lowered[-1].isdigit()  # may be an IP literal
                    and len(lowered) <= MAX_HOSTNAME
                    and hostname_match(lowered)
                ):
                    hostname = lowered
                else:
                    hostname, literal = split_host(text, names[i_host])
                    if ip is None and network is None:
                        ip = literal
            url = None
            if i_url >= 0 and (text := row[i_url]):
                if subject_url:
                    url = text.strip()
                    url_host, url_ip, url_port = url_parts(text, names[i_url])
                    if hostname is None and ip is None and network is None:
                        hostname, ip = url_host, url_ip
                    if port is None:
                        port = url_port
                else:
                    host = row[i_http_host] if i_http_host >= 0 else ""
                    if not text.isprintable():
                        check_controls(text, names[i_url])
                    if not host.isprintable():
                        check_controls(host, names[i_http_host])
                    scheme = row[i_scheme].lower() if i_scheme >= 0 else ""
                    url = join_url(text, host, scheme if scheme in ("http", "https") else "http")
            family = None
            for index in family_columns:
                if row[index] and (family := family_fix(row[index])) is not None:
                    break
            file_hash = parse_hash(row[i_hash], names[i_hash]) if i_hash >= 0 else None
            country = None
            if i_country >= 0 and (text := row[i_country]):
                country = countries.get(text, "")
                if country == "":
                    country = normalize_country(text)
                    if len(countries) >= CACHE_SIZE:
                        countries.clear()
                    countries[text] = country
            if (
                ip is None
                and network is None
                and hostname is None
                and url is None
                and file_hash is None
            ):
                if _is_blank(row):
                    return Rejection(line, _empty_reason())
                return Rejection(line, _("row has no IP address, host name, URL or hash"))
            row_taxonomy, row_type = classify(row) if classify else (taxonomy, type_)
        except FieldError as error:
            return Rejection(line, _empty_reason() if _is_blank(row) else str(error))
        return ParsedRow(
            line,
            observed,
            report_type,
            row_taxonomy,
            row_type,
            ip,
            port,
            asn,
            hostname,
            url,
            family,
            file_hash,
            country,
            dict(zip(header, row)),  # noqa: B905 -- zip(strict=) is slower; short rows are meant
            network,
        )

    return build


def _classifier(layout: Layout) -> Callable[[list[str]], tuple[str, str]]:
    """Return a function reading a generic CSV row's RSIT (taxonomy, type), both optional.

    Without either column the row is other/undetermined; a type fixes its taxonomy
    (IntelMQ 3 mapping), and a taxonomy given beside it must agree.
    """
    i_taxonomy = layout.columns.get("taxonomy", -1)
    i_type = layout.columns.get("type", -1)
    known: dict[tuple[str, str], tuple[str, str]] = {}

    def classify(row: list[str]) -> tuple[str, str]:
        given_taxonomy = row[i_taxonomy].strip().lower() if 0 <= i_taxonomy < len(row) else ""
        given_type = row[i_type].strip().lower() if 0 <= i_type < len(row) else ""
        key = (given_taxonomy, given_type)
        if key in known:
            return known[key]
        if not given_type and not given_taxonomy:
            return "other", "undetermined"
        taxonomy = RSIT_TAXONOMY_OF_TYPE.get(given_type)
        if taxonomy is None:
            column = layout.header[i_type] if i_type >= 0 else "classification.type"
            raise FieldError(
                column, given_type, _('field "%(field)s": "%(value)s" is not an RSIT type')
            )
        if given_taxonomy and given_taxonomy != taxonomy:
            raise FieldError(
                layout.header[i_taxonomy],
                given_taxonomy,
                _('field "%(field)s": "%(value)s" is not the RSIT taxonomy of the type'),
            )
        if len(known) < CACHE_SIZE:
            known[key] = (taxonomy, given_type)
        return taxonomy, given_type

    return classify
