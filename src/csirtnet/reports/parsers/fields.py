"""Normalize single values of abuse reports: times, addresses, ports, AS numbers, host names.

The row loop (`rows.py`) inlines the common fast paths and calls these functions for
everything else; each function either returns the normalized value (None when the
value is blank) or raises `FieldError` with a translated reason naming the column.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from datetime import UTC, datetime
from urllib.parse import urlsplit

import idna
from django.conf import settings
from django.utils.translation import gettext

MAX_SHOWN = 80  # characters of an offending value quoted in a reason
HOSTNAME_RE = re.compile(r"(?:[a-z0-9_-]{1,63}\.)*[a-z0-9_-]{1,63}")
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
    """Return `value` on one line, cut to `MAX_SHOWN` characters (an ellipsis marks the cut)."""
    value = value.replace("\r", "\\r").replace("\n", "\\n")
    return value if len(value) <= MAX_SHOWN else value[: MAX_SHOWN - 1] + "…"


class FieldError(ValueError):
    """A value that cannot be normalized; `str(error)` is the translated rejection reason."""

    def __init__(self, column: str, value: str, template: str) -> None:
        super().__init__(template % {"field": column, "value": shorten(value)})


def to_datetime(value: str) -> datetime | None:
    """Parse ISO 8601 text into an aware UTC datetime; naive times are UTC. None if invalid."""
    value = value.strip()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
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


def canonical_ip(value: str) -> str | None:
    """Return the canonical text of an IPv4 or IPv6 address, or None if `value` is not one.

    IPv6 text is compressed and lower case (RFC 5952, as `ipaddress` prints it). Uses
    `socket.inet_pton`, which refuses IPv4 octets with leading zeros, so valid IPv4
    text is already canonical.
    """
    value = value.strip()
    try:
        if ":" not in value:
            socket.inet_pton(socket.AF_INET, value)
            return value
        text = socket.inet_ntop(socket.AF_INET6, socket.inet_pton(socket.AF_INET6, value))
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

    Raises:
        FieldError: `value` is neither an IP address nor a CIDR block.
    """
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError:
        raise FieldError(
            column, value, _('field "%(field)s": "%(value)s" is not an IP address or network')
        ) from None


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


def _to_ascii_hostname(name: str) -> str | None:
    """Encode a unicode host name as IDNA A-labels (UTS 46), falling back to IDNA 2003."""
    try:
        return idna.encode(name, uts46=True).decode("ascii")
    except idna.IDNAError:
        pass
    try:
        return name.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None


def split_host(value: str, column: str) -> tuple[str | None, str | None]:
    """Return (hostname, None) for a host name or (None, address) for an IP literal in `value`.

    The host name is lower case, without a trailing dot, IDNA-encoded when it is unicode,
    made of labels of 1–63 letters, digits, "-" or "_", at most 253 characters.

    Raises:
        FieldError: `value` cannot be encoded as such a host name.
    """
    text = value.strip()
    if text.endswith("."):  # the root label of a fully qualified name
        text = text[:-1]
    if not text:
        return None, None
    address = canonical_ip(text.strip("[]"))
    if address is not None:
        return None, address
    name = text.lower() if text.isascii() else _to_ascii_hostname(text)
    if name is None or len(name) > 253 or not HOSTNAME_RE.fullmatch(name):
        raise FieldError(
            column,
            value,
            _('field "%(field)s": "%(value)s" is not a host name that can be encoded'),
        )
    return name, None


def url_parts(url: str, column: str) -> tuple[str | None, str | None, int | None]:
    """Return (hostname, address, explicit port) of the host in `url`; one of the first two is set.

    Raises:
        FieldError: `url` has no host, a bad port or a host that is not a valid host name.
    """
    try:
        parts = urlsplit(url.strip())
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if not host:
        raise FieldError(column, url, _('field "%(field)s": "%(value)s" is not a URL with a host'))
    hostname, address = split_host(host, column)
    return hostname, address, port


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
