"""Normalize single values of abuse reports: times, addresses, ports, AS numbers, host names.

The row loop (`rows.py`) inlines the common fast paths and calls these functions for
everything else; each function either returns the normalized value (None when the
value is blank) or raises `FieldError` with a translated reason naming the column.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from datetime import UTC, datetime, timedelta
from urllib.parse import SplitResult, urlsplit

from django.conf import settings
from django.utils.translation import gettext

from csirtnet.core.text import (
    CONTROL_RE,
    HOSTNAME_RE,
    MAX_HOSTNAME,
    printable,
    to_ascii_hostname,
)

MAX_SHOWN = 80  # characters of an offending value quoted in a reason
EARLIEST_TIME = datetime.min.replace(tzinfo=UTC)  # bounds of `datetime`, aware
LATEST_TIME = datetime.max.replace(tzinfo=UTC)
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)  # an event time before this is a wrong clock
FUTURE_SLACK = timedelta(days=1)  # an event time later than now plus this is a wrong clock
_IPV4_MAPPED = b"\x00" * 10 + b"\xff\xff"  # ::ffff:0:0/96 (RFC 4291 section 2.5.5.2)
HASH_RE = re.compile(r"[0-9a-f]{32}(?:[0-9a-f]{8}(?:[0-9a-f]{24})?)?")  # MD5, SHA-1, SHA-256
ASN_MAX = 4_294_967_295
# ISO 3166-1 user-assigned codes (AA, QM-QZ, XA-XZ, ZZ) except XK (Kosovo, used as a
# country code by registries and geolocation vendors), and MaxMind's EU/AP continents.
PSEUDO_COUNTRIES = frozenset(
    ["AA", "ZZ", "EU", "AP"]
    + [f"Q{c}" for c in "MNOPQRSTUVWXYZ"]
    + [f"X{c}" for c in "ABCDEFGHIJLMNOPQRSTUVWXYZ"]
)


def _(message: str) -> str:
    """Translate `message` (Django gettext); unchanged when Django settings are not configured.

    The parsers are pure functions and also run in scripts and benchmarks without settings.
    """
    if not settings.configured:
        return message
    return gettext(message)


def shorten(value: str) -> str:
    """Return `value` fit to quote in a reason: on one line, safe on a terminal, short.

    Control and other non-printable characters are escaped (`\\n`, `\\x1b`, `\\u202e`;
    see `core.text.printable`), so a hostile file cannot drive the operator's terminal;
    letters of any script are kept. The value is cut to `MAX_SHOWN` characters before
    escaping (an ellipsis marks the cut), so no escape is cut in half.
    """
    if len(value) <= MAX_SHOWN:
        return printable(value)
    return printable(value[: MAX_SHOWN - 1]) + "…"


class FieldError(ValueError):
    """A value that cannot be normalized; `str(error)` is the translated rejection reason."""

    def __init__(self, column: str, value: str, template: str) -> None:
        super().__init__(template % {"field": column, "value": shorten(value)})


def to_datetime(value: str) -> datetime | None:
    """Parse ISO 8601 text into an aware UTC datetime; naive times are UTC. None if invalid.

    A time whose UTC equivalent lies outside `datetime`'s range (year 1 or 9999 with an
    offset) becomes `datetime.min` or `datetime.max` in UTC.
    """
    value = value.strip()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            return LATEST_TIME if moment.year > 1 else EARLIEST_TIME
    try:  # ten times faster than moment.replace(tzinfo=UTC); gives the same UTC object
        aware = datetime.fromisoformat(value + "+00:00")
    except ValueError:
        aware = moment
    # A date without a time reads "+00:00" as nothing: keep the slow, sure way for it.
    return aware if aware.tzinfo is UTC else moment.replace(tzinfo=UTC)


def parse_datetime(value: str, column: str) -> datetime:
    """Return `value` as aware UTC (see `to_datetime`).

    Raises:
        FieldError: `value` is blank or not an ISO 8601 date and time.
    """
    moment = to_datetime(value)
    if moment is None:
        raise FieldError(column, value, _('field "%(field)s": "%(value)s" is not a date and time'))
    return moment


def check_time(moment: datetime, value: str, column: str, latest: datetime) -> None:
    """Refuse an implausible event time: `moment` (aware) must be from `EARLIEST` to `latest`.

    `latest` is the time of parsing plus `FUTURE_SLACK`; `value` is the text read.

    Raises:
        FieldError: `moment` is later than `latest` or earlier than `EARLIEST`.
    """
    if moment > latest:
        raise FieldError(column, value, _('field "%(field)s": "%(value)s" is in the future'))
    if moment < EARLIEST:
        raise FieldError(column, value, _('field "%(field)s": "%(value)s" is before 1990'))


def check_controls(value: str, column: str) -> None:
    """Refuse `value` if it holds a control character (C0, DEL or C1: ESC, NUL, CSI...).

    Raises:
        FieldError: `value` contains a control character.
    """
    if not value.isprintable() and CONTROL_RE.search(value):
        raise FieldError(
            column, value, _('field "%(field)s": "%(value)s" contains control characters')
        )


def canonical_ip(value: str) -> str | None:
    """Return the canonical text of an IPv4 or IPv6 address, or None if `value` is not one.

    IPv6 text is compressed and lower case (RFC 5952, as `ipaddress` prints it); an
    IPv4-mapped IPv6 address ("::ffff:200.7.84.65", "::ffff:c807:5441") becomes its
    IPv4 address ("200.7.84.65"), which is how it is routed. Uses `socket.inet_pton`,
    which refuses IPv4 octets with leading zeros, so valid IPv4 text is already canonical.
    """
    value = value.strip()
    try:
        if ":" not in value:
            socket.inet_pton(socket.AF_INET, value)
            return value
        packed = socket.inet_pton(socket.AF_INET6, value)
        if packed.startswith(_IPV4_MAPPED):
            return socket.inet_ntop(socket.AF_INET, packed[12:])
        text = socket.inet_ntop(socket.AF_INET6, packed)
    except (OSError, ValueError):
        return None
    if "." in text:  # libc prints embedded IPv4 in dotted form; match `ipaddress`
        return str(ipaddress.IPv6Address(text))
    return text


def parse_ip(value: str, column: str) -> str | None:
    """Return the canonical address in `value`, None if blank.

    Raises:
        FieldError: `value` is not an IPv4 or IPv6 address.
    """
    if not value.strip():
        return None
    address = canonical_ip(value)
    if address is None:
        raise FieldError(column, value, _('field "%(field)s": "%(value)s" is not an IP address'))
    return address


def parse_network(value: str, column: str) -> str:
    """Return the CIDR block in `value` as canonical text (host bits cleared).

    An IPv4-mapped IPv6 block of /96 or longer ("::ffff:200.7.84.0/120") becomes its
    IPv4 block ("200.7.84.0/24"), as `canonical_ip` does for addresses.

    Raises:
        FieldError: `value` is neither an IP address nor a CIDR block.
    """
    try:
        network = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        raise FieldError(
            column, value, _('field "%(field)s": "%(value)s" is not an IP address or network')
        ) from None
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96:
        mapped = network.network_address.ipv4_mapped
        if mapped is not None:
            return str(ipaddress.IPv4Network((mapped, network.prefixlen - 96)))
    return str(network)


def parse_port(value: str, column: str) -> int | None:
    """Return the port number in `value` (0–65535), None if blank.

    Raises:
        FieldError: `value` is not a decimal integer in range.
    """
    text = value.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit() and int(text) <= 65535:
        return int(text)
    raise FieldError(
        column, value, _('field "%(field)s": "%(value)s" is not a port number (0 to 65535)')
    )


def parse_asn(value: str, column: str) -> int | None:
    """Return the AS number in `value` ("64496" or "AS64496"), None if blank or 0 (unknown).

    Shadowserver writes 0 when the AS is unknown; IntelMQ drops it the same way.

    Raises:
        FieldError: `value` is not a decimal integer from 0 to 4294967295.
    """
    text = value.strip()
    if not text:
        return None
    if text[:2].upper() == "AS":
        text = text[2:]
    if text.isascii() and text.isdigit() and int(text) <= ASN_MAX:
        return int(text) or None
    raise FieldError(
        column, value, _('field "%(field)s": "%(value)s" is not an AS number (1 to 4294967295)')
    )


def split_host(value: str, column: str) -> tuple[str | None, str | None]:
    """Return (hostname, None) for a host name or (None, address) for an IP literal in `value`.

    The host name is lower case, without a trailing dot, IDNA-encoded when it is unicode,
    made of RFC 1123 labels (1–63 letters, digits, "-" or "_", not starting or ending
    with "-"), at most 253 characters, and its last label is not all digits (RFC 3696
    section 2: such a name is a mistyped address, e.g. "999.1.1.1").

    Raises:
        FieldError: `value` holds control characters, is too long, ends in an all-digit
            label, or cannot be encoded as such a host name.
    """
    check_controls(value, column)
    text = value.strip()
    if text.endswith("."):  # the root label of a fully qualified name
        text = text[:-1]
    if not text:
        return None, None
    address = canonical_ip(text.strip("[]"))
    if address is not None:
        return None, address
    name = text.lower() if text.isascii() else to_ascii_hostname(text)
    if len(name or text) > MAX_HOSTNAME:
        raise FieldError(
            column,
            value,
            _('field "%(field)s": "%(value)s" is too long for a host name (over 253 characters)'),
        )
    if name is None:
        raise FieldError(
            column,
            value,
            _('field "%(field)s": "%(value)s" is not a host name that can be encoded'),
        )
    if name.rpartition(".")[2].isdigit():
        raise FieldError(
            column,
            value,
            _(
                'field "%(field)s": "%(value)s" is not an IP address, and not a host name '
                "either: its last label is all digits"
            ),
        )
    if not HOSTNAME_RE.fullmatch(name):
        raise FieldError(
            column,
            value,
            _(
                'field "%(field)s": "%(value)s" is not a host name: its labels must be 1 to 63 '
                'letters, digits, "-" or "_", and not start or end with "-"'
            ),
        )
    return name, None


def url_parts(url: str, column: str) -> tuple[str | None, str | None, int | None]:
    """Return (hostname, address, explicit port) of the host in `url`; one of the first two is set.

    Raises:
        FieldError: `url` holds control characters, cannot be split (an unclosed "["),
            has no host, a port that is not a number from 0 to 65535, or a host that is
            not a valid host name (see `split_host`).
    """
    check_controls(url, column)
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        raise FieldError(
            column, url, _('field "%(field)s": "%(value)s" is not a valid URL')
        ) from None
    host = parts.hostname
    if not host:
        raise FieldError(column, url, _('field "%(field)s": "%(value)s" is not a URL with a host'))
    hostname, address = split_host(host, column)
    return hostname, address, _url_port(parts, url, column)


def _url_port(parts: SplitResult, url: str, column: str) -> int | None:
    """Return the explicit port of a split URL, None without one.

    Raises:
        FieldError: the port is not a decimal number, or not from 0 to 65535.
    """
    try:
        return parts.port
    except ValueError:
        pass
    text = parts.netloc.rpartition("@")[2].rpartition("]")[2].rpartition(":")[2]
    if text.isascii() and text.isdigit():
        template = _('field "%(field)s": "%(value)s" has a port out of range (0 to 65535)')
    else:
        template = _('field "%(field)s": "%(value)s" has a port that is not a number')
    raise FieldError(column, url, template)


def join_url(value: str, host: str, scheme: str) -> str | None:
    """Return an absolute URL for a Shadowserver `url`/`http_url` value, None without a host.

    The value is an absolute URL, a path ("/header.php", joined to `host`) or an HTTP
    request line ("GET /path HTTP/1.1", whose path is joined to `host`).
    """
    text = value.strip()
    if "://" in text:
        return text
    words = text.split(" ")
    if len(words) == 3 and words[2].startswith("HTTP/"):
        text = words[1]
    host = host.strip()
    if not host or not text.startswith("/"):
        return None
    return f"{scheme}://{host}{text}"


def normalize_country(value: str) -> str | None:
    """Return an ISO 3166-1 alpha-2 code, upper case; None for blanks, pseudo codes, non-codes."""
    code = value.strip().upper()
    if len(code) != 2 or not (code.isascii() and code.isalpha()) or code in PSEUDO_COUNTRIES:
        return None
    return code


def parse_hash(value: str, column: str) -> str | None:
    """Return the MD5, SHA-1 or SHA-256 hex digest in `value` in lower case, None if blank.

    Raises:
        FieldError: `value` is not 32, 40 or 64 hexadecimal digits.
    """
    digest = value.strip().lower()
    if not digest:
        return None
    if HASH_RE.fullmatch(digest):
        return digest
    raise FieldError(
        column,
        value,
        _('field "%(field)s": "%(value)s" is not an MD5, SHA-1 or SHA-256 hash in hexadecimal'),
    )
