"""
Routing: which organization is responsible for an address, an ASN or a domain.

The order of rules (DESIGN.md, capability 2): the most specific constituency prefix,
else a constituency ASN, else a constituency domain suffix (ccTLDs included), else the
national CSIRT of the address's country in RIR delegation data, else the network
secretariat's unrouted queue. A `RoutingTable` is built once per run from the database
(a radix trie per address family for single lookups, sorted IPv4 intervals in numpy
arrays for batches) and never queries the database per lookup.
"""

from __future__ import annotations

import ipaddress
import itertools
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np
import radix

from csirtnet.directory.models import (
    Constituency,
    MemberState,
    Organization,
    RirKind,
    RirRecord,
    RouteRule,
)

# Territories whose incidents the sovereign state's national CSIRT handles.
TERRITORY_STATE = {"PR": "US", "VI": "US", "GU": "US", "AS": "US", "MP": "US", "UM": "US"}


@dataclass(frozen=True, slots=True)
class Route:
    """The responsible organization's id, the rule that chose it, and the country (or None)."""

    organization_id: int
    rule: RouteRule
    country: str | None = None


@dataclass(slots=True)
class _Intervals:
    """Disjoint IPv4 ranges [starts[i], ends[i]] mapped to values[i], sorted by start."""

    starts: np.ndarray
    ends: np.ndarray
    values: list[object]

    @classmethod
    def from_ranges(cls, ranges: Iterable[tuple[int, ...]]) -> _Intervals:
        """
        Flatten possibly nested ranges (start, end[, order], value) so that the most
        specific range wins and, among equal ranges, the one with the higher order.
        """
        keyed = sorted(
            ((r[0], r[1], r[2] if len(r) == 4 else 0, r[-1]) for r in ranges),
            key=lambda r: (r[0], -r[1], r[2]),
        )
        flat = _flatten([(s, e, v) for s, e, _o, v in keyed])
        return cls(
            starts=np.fromiter((r[0] for r in flat), dtype=np.uint32, count=len(flat)),
            ends=np.fromiter((r[1] for r in flat), dtype=np.uint32, count=len(flat)),
            values=[r[2] for r in flat],
        )

    def find(self, addresses: np.ndarray) -> np.ndarray:
        """Return, per address (uint32), the index into `values`, or -1 when none covers it."""
        if not len(self.starts):
            return np.full(len(addresses), -1, dtype=np.int64)
        idx = np.searchsorted(self.starts, addresses, side="right").astype(np.int64) - 1
        hit = (idx >= 0) & (addresses <= self.ends[np.maximum(idx, 0)])
        return np.where(hit, idx, -1)


def _flatten(ranges: Sequence[tuple[int, int, object]]) -> list[tuple[int, int, object]]:
    """Turn ranges sorted by (start, -end), nested or disjoint, into disjoint ones; inner wins."""
    out: list[tuple[int, int, object]] = []
    stack: list[tuple[int, object]] = []
    cursor = 0

    def close_until(limit: int) -> None:
        nonlocal cursor
        while stack and stack[-1][0] < limit:
            end, value = stack.pop()
            if cursor <= end:
                out.append((cursor, end, value))
                cursor = end + 1

    for start, end, value in ranges:
        close_until(start)
        if stack and cursor < start:
            out.append((cursor, start - 1, stack[-1][1]))
        cursor = start
        stack.append((end, value))
    close_until(1 << 128)
    return out


def _ipv4_ranges_of_record(start: str, size: int) -> tuple[int, int]:
    first = int(ipaddress.IPv4Address(start))
    return first, first + size - 1


def _cidrs_of_range(kind: str, start: str, size: int) -> list[str]:
    """Return the CIDR prefixes covering an RIR record (IPv4 counts may not be powers of 2)."""
    if kind == RirKind.IPV6:
        return [f"{ipaddress.IPv6Address(start)}/{size}"]
    first = ipaddress.IPv4Address(start)
    last = ipaddress.IPv4Address(int(first) + size - 1)
    return [str(n) for n in ipaddress.summarize_address_range(first, last)]


class RoutingTable:
    """
    The routing rules in memory. Build with `RoutingTable.build()` (a few database
    queries, about a second for the shipped RIR data); then `lookup` per value or
    `lookup_batch` per batch of events, with no database access.
    """

    def __init__(
        self,
        *,
        secretariat_id: int,
        national_csirt_by_country: dict[str, int],
        constituency_prefixes: list[tuple[str, int]],
        constituency_asns: dict[int, int],
        constituency_domains: dict[str, int],
        country_records: Iterable[tuple[str, str, str, int]],
        asn_records: Iterable[tuple[int, int, object]] = (),
    ) -> None:
        """
        Args:
            secretariat_id: organization id of the unrouted queue's owner.
            national_csirt_by_country: ISO 3166-1 alpha-2 code -> organization id.
            constituency_prefixes: (CIDR text, organization id) pairs.
            constituency_asns: ASN -> organization id.
            constituency_domains: ".suffix" (lower-case punycode) -> organization id.
            country_records: (kind "ipv4"|"ipv6", first address, size, country) from RIR data.
            asn_records: (first ASN, last ASN, country) from RIR data.
        """
        self.secretariat_id = secretariat_id
        self.national_csirt_by_country = national_csirt_by_country
        self.asns = constituency_asns
        self.domains = constituency_domains
        self._prefix_tree = radix.Radix()
        v4_constituency: list[tuple[int, int, object]] = []
        for cidr, org_id in constituency_prefixes:
            self._prefix_tree.add(cidr).data["org"] = org_id
            net = ipaddress.ip_network(cidr)
            if net.version == 4:
                v4_constituency.append(
                    (int(net.network_address), int(net.broadcast_address), org_id)
                )
        self._country_tree = radix.Radix()
        v4_country: list[tuple[int, int, int, object]] = []
        for order, (kind, start, country, size) in enumerate(country_records):
            for cidr in _cidrs_of_range(kind, start, size):
                self._country_tree.add(cidr).data["cc"] = country
            if kind == RirKind.IPV4:
                first, last = _ipv4_ranges_of_record(start, size)
                v4_country.append((first, last, order, country))
        self._asn_country = _Intervals.from_ranges(asn_records)
        self._v4_constituency = _Intervals.from_ranges(v4_constituency)
        self._v4_country = _Intervals.from_ranges(v4_country)  # type: ignore[arg-type]

    @classmethod
    def build(cls) -> RoutingTable:
        """
        Load the routing rules from the directory and the imported RIR data.

        Raises:
            Organization.DoesNotExist: the directory has no network secretariat.
        """
        secretariat = Organization.objects.secretariat()
        csirts = {
            code: org_id
            for code, org_id in Organization.objects.national_csirts()
            .order_by("-pk")
            .values_list("state__code", "pk")
        }
        for territory, state in TERRITORY_STATE.items():
            if state in csirts and territory not in csirts:
                csirts[territory] = csirts[state]
        prefixes: list[tuple[str, int]] = []
        asns: dict[int, int] = {}
        domains: dict[str, int] = {}
        for c in Constituency.objects.filter(organization__is_member=True).order_by("pk"):
            prefixes.extend((p, c.organization_id) for p in c.prefixes)
            asns.update({int(a): c.organization_id for a in c.asns})
            domains.update({d: c.organization_id for d in c.domains})
        # Delegated files are the authority where they and the aggregated lists disagree
        # on the same block (data/rir/README.md): they are added last, so they win ties.
        addresses = RirRecord.objects.exclude(kind=RirKind.ASN)
        records = itertools.chain(
            addresses.filter(registry="aggregated")
            .values_list("kind", "start", "country", "size")
            .iterator(chunk_size=20000),
            addresses.exclude(registry="aggregated")
            .values_list("kind", "start", "country", "size")
            .iterator(chunk_size=20000),
        )
        asn_records = [
            (int(start), int(start) + size - 1, cc)
            for start, size, cc in RirRecord.objects.filter(kind=RirKind.ASN).values_list(
                "start", "size", "country"
            )
        ]
        return cls(
            secretariat_id=secretariat.pk,
            national_csirt_by_country=csirts,
            constituency_prefixes=prefixes,
            constituency_asns=asns,
            constituency_domains=domains,
            country_records=records,
            asn_records=asn_records,
        )

    def country_of(self, ip: str) -> str | None:
        """Return the RIR country (ISO 3166-1 alpha-2) of an address, or None."""
        node = self._country_tree.search_best(ip)
        return node.data["cc"] if node else None

    def country_of_asn(self, asn: int | None) -> str | None:
        """Return the RIR country of an ASN's registrant, or None."""
        if asn is None:
            return None
        found = self._asn_country.find(np.array([asn], dtype=np.uint32))[0]
        return self._asn_country.values[found] if found >= 0 else None  # type: ignore[return-value]

    def lookup(
        self, *, ip: str | None = None, asn: int | None = None, hostname: str | None = None
    ) -> Route:
        """
        Return the responsible organization for one event's address, ASN and hostname.

        `ip` must be a valid address in canonical text; `hostname` lower-case punycode.
        """
        country = self.country_of(ip) if ip else self.country_of_asn(asn)
        if ip:
            node = self._prefix_tree.search_best(ip)
            if node:
                return Route(node.data["org"], RouteRule.PREFIX, country)
        return self._after_prefix(asn, hostname, country)

    def _after_prefix(self, asn: int | None, hostname: str | None, country: str | None) -> Route:
        if asn is not None and asn in self.asns:
            return Route(self.asns[asn], RouteRule.ASN, country)
        if hostname:
            org = self._domain_owner(hostname)
            if org is not None:
                return Route(org, RouteRule.DOMAIN, country)
        if country and country in self.national_csirt_by_country:
            return Route(self.national_csirt_by_country[country], RouteRule.COUNTRY, country)
        return Route(self.secretariat_id, RouteRule.UNROUTED, country)

    def _domain_owner(self, hostname: str) -> int | None:
        labels = hostname.rstrip(".").split(".")
        for i in range(len(labels)):
            owner = self.domains.get("." + ".".join(labels[i:]))
            if owner is not None:
                return owner
        return None

    def lookup_batch(
        self,
        ips: Sequence[str | None],
        asns: Sequence[int | None] | None = None,
        hostnames: Sequence[str | None] | None = None,
    ) -> list[Route]:
        """
        Route a batch of events at once: the IPv4 addresses through numpy interval search,
        the rest (IPv6, no address) one by one. Sequences are parallel, one entry per event.
        """
        n = len(ips)
        asns = asns if asns is not None else [None] * n
        hostnames = hostnames if hostnames is not None else [None] * n
        v4_pos = [i for i, ip in enumerate(ips) if ip and ":" not in ip]
        routes: list[Route | None] = [None] * n
        if v4_pos:
            packed = b"".join([socket.inet_aton(ips[i]) for i in v4_pos])  # type: ignore[arg-type]
            addresses = np.frombuffer(packed, dtype=">u4").astype(np.uint32)
            cons = self._v4_constituency.find(addresses).tolist()
            ctry = self._v4_country.find(addresses).tolist()
            cons_values, ctry_values = self._v4_constituency.values, self._v4_country.values
            for pos, ci, ki in zip(v4_pos, cons, ctry, strict=True):
                country = ctry_values[ki] if ki >= 0 else None
                if ci >= 0:
                    routes[pos] = Route(cons_values[ci], RouteRule.PREFIX, country)  # type: ignore[arg-type]
                else:
                    routes[pos] = self._after_prefix(asns[pos], hostnames[pos], country)  # type: ignore[arg-type]
        for i in range(n):
            if routes[i] is None:
                routes[i] = self.lookup(ip=ips[i], asn=asns[i], hostname=hostnames[i])
        return routes  # type: ignore[return-value]

    def lookup_ipv4_batch(self, ips: Sequence[str]) -> list[Route]:
        """Route a batch of IPv4 addresses only (no ASN or hostname); see `lookup_batch`."""
        return self.lookup_batch(ips)


def parse_route_value(value: str) -> dict[str, object]:
    """
    Turn an operator's value into lookup arguments: an IP address, an ASN ("AS64496" or
    "64496"), a URL (its host) or a domain name (IDNA to punycode).

    Raises:
        ValueError: the value is none of these.
    """
    text = value.strip()
    if text.upper().startswith("AS") and text[2:].isdigit() or text.isdigit():
        asn = int(text.upper().removeprefix("AS"))
        if not 1 <= asn <= 4294967295:
            raise ValueError(f"{value!r}: an ASN is between 1 and 4294967295")
        return {"asn": asn}
    host = urlsplit(text).hostname if "://" in text else text
    if not host:
        raise ValueError(f"{value!r} is not an IP address, an ASN, a URL or a domain")
    try:
        return {"ip": str(ipaddress.ip_address(host.strip("[]")))}
    except ValueError:
        pass
    try:
        name = host.rstrip(".").lower().encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError(f"{value!r} is not a valid domain name") from exc
    if not name or " " in name:
        raise ValueError(f"{value!r} is not an IP address, an ASN, a URL or a domain")
    return {"hostname": name}


def state_name(country: str | None) -> str:
    """Return the member state's name in the active language, or the code itself."""
    if not country:
        return "-"
    state = MemberState.objects.filter(code=country).first()
    return state.name if state else country
