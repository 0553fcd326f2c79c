"""
Operators' values for `csirtnet route`: an IP address, an ASN, a CIDR prefix, a URL or a
domain, read strictly (junk is an error, not a domain) into `RoutingTable.lookup`
arguments.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from django.utils.translation import gettext as _

from csirtnet.core.text import (
    CONTROL_RE,
    HOSTNAME_RE,
    MAX_HOSTNAME,
    printable,
    to_ascii_hostname,
)

ASN_MAX = 4_294_967_295
_ASN_RE = re.compile(r"(?:[aA][sS])?([0-9]+)")  # "AS64496", "as64496", "64496"
_ASN_LIKE_RE = re.compile(r"(?i:asn?)[^a-zA-Z.]*")  # "AS", "AS-1", "ASN64496": a mistyped ASN
_DOTTED_DIGITS_RE = re.compile(r"[0-9]+(?:\.[0-9]+){3}")


@dataclass(frozen=True, slots=True)
class RouteQuery:
    """
    An operator's value read for `RoutingTable.lookup`: exactly one of `ip` (canonical
    text), `asn` (1–4294967295) or `hostname` (lower-case punycode) is set. `network` is
    the CIDR block (canonical text) when one was given; `ip` is then its network address.
    """

    ip: str | None = None
    asn: int | None = None
    hostname: str | None = None
    network: str | None = None

    def lookup_arguments(self) -> dict[str, object]:
        """Return the keyword arguments of `RoutingTable.lookup` for this value."""
        found = {"ip": self.ip, "asn": self.asn, "hostname": self.hostname}
        return {name: given for name, given in found.items() if given is not None}


def parse_route_value(value: str) -> dict[str, object]:
    """
    Turn an operator's value into lookup arguments: an IP address, an ASN ("AS64496",
    "as64496" or "64496"), a CIDR block (its network address), a URL (its host) or a
    domain name (IDNA to punycode). See `parse_route_query` for the rules.

    Raises:
        ValueError: the value is none of these; the message quotes it escaped.
    """
    return parse_route_query(value).lookup_arguments()


def parse_route_query(value: str) -> RouteQuery:
    """
    Read an operator's value as an IP address, ASN, CIDR block, URL or domain name.

    An IPv4-mapped IPv6 address ("::ffff:200.7.84.1") is its IPv4 address. A CIDR block
    ("200.7.84.0/24") is routed by its network address. Refused, rather than taken for a
    domain: blank values, values with control characters, mistyped ASNs ("AS", "AS-1",
    "ASN64496"), dotted quads with leading zeros ("200.007.084.001": octal or decimal?),
    names whose last label is all digits ("999.1.1.1", "0x7f.1"; RFC 3696 section 2),
    names that break RFC 1123 label rules or exceed 253 characters, malformed URLs and
    URLs with a port out of range.

    Raises:
        ValueError: the value is none of these; the message quotes it escaped
            (`core.text.printable`), so it is safe to print on a terminal.
    """
    shown = {"value": _shown(value)}
    if CONTROL_RE.search(value):
        raise ValueError(_('"%(value)s" contains control characters') % shown)
    text = value.strip()
    if not text:
        raise ValueError(
            _("an empty value is not an IP address, an ASN, a network, a URL or a domain")
        )
    if asn_match := _ASN_RE.fullmatch(text):
        asn = int(asn_match.group(1))
        if not 1 <= asn <= ASN_MAX:
            raise ValueError(_('"%(value)s": an ASN is between 1 and 4294967295') % shown)
        return RouteQuery(asn=asn)
    if _ASN_LIKE_RE.fullmatch(text):
        raise ValueError(_('"%(value)s" is not an AS number; write AS64496 or 64496') % shown)
    if "://" in text:
        return _route_host(_url_host(text, shown), shown)
    if "/" in text:
        return _route_network(text, shown)
    return _route_host(text, shown)


def _shown(value: str) -> str:
    """Return `value` fit to quote in a message: escaped (`printable`), cut to 80 characters."""
    return printable(value) if len(value) <= 80 else printable(value[:79]) + "…"


def _url_host(url: str, shown: dict[str, str]) -> str:
    """Return the host of `url`, checking its port.

    Raises:
        ValueError: `url` cannot be split, has no host or a bad port.
    """
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ValueError(
            _('"%(value)s" is not a valid URL (%(error)s)') % {**shown, "error": exc}
        ) from None
    if not parts.hostname:
        raise ValueError(_('"%(value)s" is a URL without a host') % shown)
    _check_url_port(parts, shown)
    return parts.hostname


def _check_url_port(parts: SplitResult, shown: dict[str, str]) -> None:
    """
    Raises:
        ValueError: the URL's port is not a decimal number from 0 to 65535.
    """
    try:
        parts.port  # noqa: B018 -- reading it validates it
    except ValueError:
        port = parts.netloc.rpartition("@")[2].rpartition("]")[2].rpartition(":")[2]
        if port.isascii() and port.isdigit():
            raise ValueError(
                _('"%(value)s": the port %(port)s is out of range (0 to 65535)')
                % {**shown, "port": port}
            ) from None
        raise ValueError(_('"%(value)s": the port is not a number') % shown) from None


def _route_network(text: str, shown: dict[str, str]) -> RouteQuery:
    """Return the query for a CIDR block: its network address (IPv4-mapped blocks as IPv4).

    Raises:
        ValueError: `text` is not a CIDR block.
    """
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        if _is_address(text.partition("/")[0]):
            raise ValueError(
                _('"%(value)s" is not a network in CIDR notation (e.g. 200.7.84.0/24)') % shown
            ) from None
        raise ValueError(
            _(
                '"%(value)s" is not an IP address, an ASN, a network, a URL or a domain '
                '(a URL starts with a scheme, e.g. "https://")'
            )
            % shown
        ) from None
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96:
        mapped = network.network_address.ipv4_mapped
        if mapped is not None:
            return _route_network(f"{mapped}/{network.prefixlen - 96}", shown)
    return RouteQuery(ip=str(network.network_address), network=str(network))


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _route_host(host: str, shown: dict[str, str]) -> RouteQuery:
    """Return the query for a host: an IP address or a domain name.

    Raises:
        ValueError: `host` is neither (see `parse_route_query`).
    """
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return RouteQuery(hostname=_domain_name(host, shown))
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            raise ValueError(_('"%(value)s": an address with a zone index is not routed') % shown)
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
    return RouteQuery(ip=str(address))


def _domain_name(host: str, shown: dict[str, str]) -> str:
    """Return `host` as a lower-case punycode domain name, without the root dot.

    Raises:
        ValueError: `host` has an all-digit last label, is too long, cannot be encoded
            or breaks RFC 1123 label rules.
    """
    text = host[:-1] if host.endswith(".") else host
    if _DOTTED_DIGITS_RE.fullmatch(text) and any(
        len(octet) > 1 and octet.startswith("0") for octet in text.split(".")
    ):
        raise ValueError(
            _(
                '"%(value)s": leading zeros in an IPv4 address are ambiguous (octal or '
                "decimal?); write the address without them"
            )
            % shown
        )
    if len(text) > MAX_HOSTNAME:
        raise ValueError(_('"%(value)s" is too long for a domain (over 253 characters)') % shown)
    name = to_ascii_hostname(text)
    if name is not None and name.rpartition(".")[2].isdigit():
        raise ValueError(
            _(
                '"%(value)s" is not an IP address, and not a domain either: its last label '
                "is all digits"
            )
            % shown
        )
    if name is None or len(name) > MAX_HOSTNAME or not HOSTNAME_RE.fullmatch(name):
        raise ValueError(
            _(
                '"%(value)s" is not an IP address, an ASN, a network, a URL or a domain: a '
                'domain\'s labels are 1 to 63 letters, digits, "-" or "_", and do not start or '
                'end with "-"'
            )
            % shown
        )
    return name
