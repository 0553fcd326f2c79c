"""What the abuse-report parsers yield: normalized rows, rejected rows, layout errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(slots=True)
class ParsedRow:
    """
    One row of an abuse report or feed, normalized; the subject is the source.

    `line` is the 1-based physical line where the row starts in the file (a quoted
    field may span lines). `observed_at` is aware UTC, from 1990 to a day after
    parsing. `taxonomy` and `type` are RSIT classes as IntelMQ names them (e.g.
    "vulnerable" / "vulnerable-system"). `source_ip` is canonical text (IPv4 dotted
    quad, also for IPv4-mapped IPv6 input; IPv6 compressed, lower case),
    `source_port` 0–65535, `asn` 1–4294967295, `hostname` lower-case ASCII (IDNA
    A-labels for unicode names, RFC 1123 labels), `file_hash` lower-case hex (MD5,
    SHA-1 or SHA-256),
    `country` ISO 3166-1 alpha-2 upper case (pseudo codes such as "ZZ" become None).
    `raw` is the row as read, column name to text; a row that is short of trailing
    columns the parser does not read lacks those keys. `source_network` holds a CIDR
    block (canonical text) when a report lists a network instead of an address
    (Shadowserver blocklist, like IntelMQ's `source.network`).
    """

    line: int
    observed_at: datetime
    report_type: str
    taxonomy: str
    type: str
    source_ip: str | None
    source_port: int | None
    asn: int | None
    hostname: str | None
    url: str | None
    malware_family: str | None
    file_hash: str | None
    country: str | None
    raw: dict[str, str]
    source_network: str | None = None


@dataclass(slots=True)
class Rejection:
    """A row that was not turned into a `ParsedRow`; `reason` is translated and names the field."""

    line: int
    reason: str


class UnknownLayout(ValueError):  # noqa: N818 -- name fixed by the parser interface
    """The file has no header of a layout the parsers know; the message names file and header."""
