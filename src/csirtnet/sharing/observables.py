"""
Observable types and their normalized text form, so the same value written two ways is
one value: IDN names to punycode, IPv6 compressed, hashes lower-case, ASNs as integers.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from csirtnet.core.text import CONTROL_RE, HOSTNAME_RE, MAX_HOSTNAME, printable, to_ascii_hostname

ASN_MAX = 4_294_967_295
MAX_VALUE = 2048  # characters of a normalized observable (a long URL)
_ASN_RE = re.compile(r"(?i:as)?([0-9]{1,10})")
_HEX = {"md5": 32, "sha1": 40, "sha256": 64}
_HEX_RE = re.compile(r"[0-9a-fA-F]+")
_URL_SCHEMES = frozenset({"http", "https", "ftp", "ftps", "ws", "wss"})


class ObservableType(models.TextChoices):
    """Kinds of observable (STIX 2.1 cyber-observable types, section 6, by their value)."""

    IPV4 = "ipv4", gettext_lazy("IPv4 address")
    IPV6 = "ipv6", gettext_lazy("IPv6 address")
    CIDR = "cidr", gettext_lazy("Network (CIDR)")
    DOMAIN = "domain", gettext_lazy("Domain name")
    URL = "url", gettext_lazy("URL")
    EMAIL = "email", gettext_lazy("E-mail address")
    MD5 = "md5", "MD5"
    SHA1 = "sha1", "SHA-1"
    SHA256 = "sha256", "SHA-256"
    ASN = "asn", gettext_lazy("Autonomous system number")


def normalize(kind: str, value: str) -> str:
    """
    Return `value` of type `kind` (an `ObservableType` value) in normalized text:
    addresses in canonical form (IPv6 compressed, RFC 5952), networks by their network
    address ("192.0.2.0/24"), domain names and URL and e-mail hosts lower-case punycode
    without a trailing dot, hashes lower-case hex, ASNs as the bare integer ("64496").

    Raises:
        ValueError: `value` is not a valid `kind`; the message quotes it escaped.
    """
    text = value.strip()
    if not text or len(text) > MAX_VALUE or CONTROL_RE.search(text):
        raise ValueError(_invalid(kind, value))
    try:
        result = _NORMALIZERS[ObservableType(kind)](text)
    except (ValueError, UnicodeError) as error:
        raise ValueError(_invalid(kind, value)) from error
    if result is None or len(result) > MAX_VALUE:
        raise ValueError(_invalid(kind, value))
    return result


def detect(value: str) -> tuple[str, str]:
    """
    Guess the type of `value` and return `(type, normalized value)`, trying in order:
    IPv4, IPv6, CIDR, hash (by length), ASN ("AS64496"), URL (has "://"), e-mail, domain.

    Raises:
        ValueError: `value` is none of the observable types.
    """
    text = value.strip()
    if "://" in text:
        order = [ObservableType.URL]
    elif "@" in text:
        order = [ObservableType.EMAIL]
    elif _HEX_RE.fullmatch(text) and len(text) in _HEX.values():
        order = [ObservableType(name) for name, size in _HEX.items() if size == len(text)]
    else:
        order = [
            ObservableType.IPV4, ObservableType.IPV6, ObservableType.CIDR,
            ObservableType.ASN, ObservableType.DOMAIN,
        ]  # fmt: skip
    for kind in order:
        try:
            return kind.value, normalize(kind, text)
        except ValueError:
            continue
    raise ValueError(
        _("%(value)s is not an observable of a known type.") % {"value": _quote(value)}
    )


def route_arguments(kind: str, value: str) -> dict[str, object] | None:
    """
    Return the `RoutingTable.lookup` arguments for a normalized observable, or None
    when its type says nothing about a place (hashes).
    """
    if kind == ObservableType.IPV6:
        mapped = ipaddress.IPv6Address(value).ipv4_mapped  # ::ffff:192.0.2.1 is an IPv4 host
        return {"ip": str(mapped) if mapped else value}
    if kind == ObservableType.IPV4:
        return {"ip": value}
    if kind == ObservableType.CIDR:
        return {"ip": str(ipaddress.ip_network(value).network_address)}
    if kind == ObservableType.ASN:
        return {"asn": int(value)}
    if kind == ObservableType.DOMAIN:
        return {"hostname": value}
    if kind == ObservableType.URL:
        host = urlsplit(value).hostname or ""
        try:
            return {"ip": str(ipaddress.ip_address(host.strip("[]")))}
        except ValueError:
            return {"hostname": host}
    if kind == ObservableType.EMAIL:
        return {"hostname": value.rsplit("@", 1)[1]}
    return None


def _ipv4(text: str) -> str:
    return str(ipaddress.IPv4Address(text))


def _ipv6(text: str) -> str:
    return str(ipaddress.IPv6Address(text))


def _cidr(text: str) -> str:
    if "/" not in text:
        raise ValueError(text)
    return str(ipaddress.ip_network(text, strict=False))


def _domain(text: str) -> str | None:
    name = to_ascii_hostname(text.rstrip("."))
    if not name or len(name) > MAX_HOSTNAME or not HOSTNAME_RE.fullmatch(name):
        return None
    if "." not in name or name.replace(".", "").isdigit():
        return None
    return name


def _url(text: str) -> str | None:
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in _URL_SCHEMES or not parts.hostname:
        return None
    host = parts.hostname
    try:
        address = ipaddress.ip_address(host)
        host = f"[{address}]" if address.version == 6 else str(address)
    except ValueError:
        host = _domain(host) or ""
        if not host:
            return None
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    if parts.username is not None:
        netloc = f"{parts.username}@{netloc}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, parts.fragment))


def _email(text: str) -> str | None:
    local, _at, host = text.rpartition("@")
    domain = _domain(host)
    if not local or not domain or len(local) > 64 or any(c.isspace() for c in local):
        return None
    return f"{local}@{domain}"


def _asn(text: str) -> str | None:
    match = _ASN_RE.fullmatch(text)
    if not match or not 1 <= int(match.group(1)) <= ASN_MAX:
        return None
    return str(int(match.group(1)))


def _hash(size: int) -> Callable[[str], str | None]:
    def normalize_hash(text: str) -> str | None:
        return text.lower() if len(text) == size and _HEX_RE.fullmatch(text) else None

    return normalize_hash


_NORMALIZERS: dict[ObservableType, Callable[[str], str | None]] = {
    ObservableType.IPV4: _ipv4,
    ObservableType.IPV6: _ipv6,
    ObservableType.CIDR: _cidr,
    ObservableType.DOMAIN: _domain,
    ObservableType.URL: _url,
    ObservableType.EMAIL: _email,
    ObservableType.ASN: _asn,
    ObservableType.MD5: _hash(32),
    ObservableType.SHA1: _hash(40),
    ObservableType.SHA256: _hash(64),
}


def _quote(value: str) -> str:
    shown = value if len(value) <= 80 else value[:80] + "…"
    return f'"{printable(shown)}"'


def _invalid(kind: str, value: str) -> str:
    try:
        label = str(ObservableType(kind).label)
    except ValueError:
        return _("%(kind)s is not an observable type.") % {"kind": _quote(kind)}
    return _("%(value)s is not a valid %(type)s.") % {"value": _quote(value), "type": label}
