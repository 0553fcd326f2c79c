"""
Routing: which organization is responsible for an address, an ASN or a domain.

The order of rules (DESIGN.md, capability 2): the most specific constituency prefix,
else a constituency ASN, else a constituency domain suffix (ccTLDs included), else the
national CSIRT of the address's country in RIR delegation data, else the network
secretariat's unrouted queue. A `RoutingTable` is built once per run from the database
(radix tries for constituency prefixes and IPv6, sorted IPv4 intervals searched by
bisection for single lookups and in numpy arrays for batches) and never queries the
database per lookup.
"""

from __future__ import annotations

import bisect
import ipaddress
import itertools
import socket
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import radix
from django.db.models import Count, Max

from csirtnet.directory.models import (
    Constituency,
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


_RULE_VALUES = [
    RouteRule.PREFIX.value, RouteRule.ASN.value, RouteRule.DOMAIN.value,
    RouteRule.COUNTRY.value, RouteRule.UNROUTED.value,
]  # fmt: skip
_RULE_CODE = {RouteRule(v): code for code, v in enumerate(_RULE_VALUES)}
_PREFIX, _ASN, _DOMAIN, _COUNTRY, _UNROUTED = range(5)
_inet_aton = socket.inet_aton


@dataclass(frozen=True, slots=True)
class BatchRoutes:
    """Routes of a batch, as parallel lists: organization ids, rule values, countries."""

    organization_ids: list[int]
    rules: list[str]
    countries: list[str | None]

    def __len__(self) -> int:
        return len(self.organization_ids)


@dataclass(slots=True)
class _Intervals:
    """Disjoint IPv4 ranges [starts[i], ends[i]] mapped to values[i], sorted by start."""

    starts: np.ndarray
    ends: np.ndarray
    values: list[object]

    @classmethod
    def from_ranges(cls, ranges: Iterable[tuple[Any, ...]]) -> _Intervals:
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


def _ipv4_int(address: str) -> int:
    """Return an IPv4 address in dotted-quad text as an integer."""
    return int.from_bytes(socket.inet_aton(address), "big")


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
        self._v6_country = radix.Radix()
        v4_country: list[tuple[int, int, int, object]] = []
        for order, (kind, start, country, size) in enumerate(country_records):
            if kind == RirKind.IPV4:
                first = _ipv4_int(start)
                v4_country.append((first, first + size - 1, order, country))
            else:
                self._v6_country.add(f"{start}/{size}").data["cc"] = country
        self._v4_country = _Intervals.from_ranges(v4_country)
        self._country_org = np.asarray(
            [national_csirt_by_country.get(cc, -1) for cc in self._v4_country.values]  # type: ignore[call-overload]
            + [-1],
            dtype=np.int64,
        )
        self._v4_country_starts = self._v4_country.starts.tolist()
        self._v4_country_ends = self._v4_country.ends.tolist()
        self._asn_country = _Intervals.from_ranges(asn_records)
        self._v4_constituency = _Intervals.from_ranges(v4_constituency)

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
        if ":" in ip:
            node = self._v6_country.search_best(ip)
            return node.data["cc"] if node else None
        address = _ipv4_int(ip)
        i = bisect.bisect_right(self._v4_country_starts, address) - 1
        if i >= 0 and address <= self._v4_country_ends[i]:
            return self._v4_country.values[i]  # type: ignore[return-value]
        return None

    def country_of_asn(self, asn: int | None) -> str | None:
        """Return the RIR country of an ASN's registrant, or None."""
        if asn is None:
            return None
        found = self._asn_country.find(np.array([asn], dtype=np.uint32))[0]
        return self._asn_country.values[found] if found >= 0 else None

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
        """Route a batch of events; the same answers as `lookup` per event (see `route_batch`)."""
        batch = self.route_batch(ips, asns, hostnames)
        return [
            Route(org, RouteRule(rule), country)
            for org, rule, country in zip(
                batch.organization_ids, batch.rules, batch.countries, strict=True
            )
        ]

    def route_batch(
        self,
        ips: Sequence[str | None],
        asns: Sequence[int | None] | None = None,
        hostnames: Sequence[str | None] | None = None,
    ) -> BatchRoutes:
        """
        Route a batch of events at once, with the rules of `lookup`. IPv4 addresses go
        through numpy interval search (constituency prefixes, then countries) with no
        Python work per address; the ASN and domain rules are checked only for events
        that carry an ASN or hostname and no constituency prefix matched; IPv6 and
        address-less events fall back to `lookup`. Sequences are parallel, one entry per
        event; addresses are valid canonical text or None.
        """
        n = len(ips)
        org = np.full(n, self.secretariat_id, dtype=np.int64)
        rule = np.full(n, _UNROUTED, dtype=np.int8)
        country_idx = np.full(n, -1, dtype=np.int64)
        v4 = [i for i, ip in enumerate(ips) if ip and ":" not in ip]
        if v4:
            packed = b"".join([_inet_aton(ips[i]) for i in v4])  # type: ignore[arg-type]
            addresses = np.frombuffer(packed, dtype=">u4").astype(np.uint32)
            pos = np.asarray(v4, dtype=np.int64)
            ctry = self._v4_country.find(addresses)
            country_idx[pos] = ctry
            national = self._country_org[ctry]  # index -1 is the trailing "no CSIRT" sentinel
            has_country = national >= 0
            org[pos[has_country]] = national[has_country]
            rule[pos[has_country]] = _COUNTRY
            cons = self._v4_constituency.find(addresses)
            hit = cons >= 0
            if hit.any():
                org[pos[hit]] = np.asarray(self._v4_constituency.values, dtype=np.int64)[cons[hit]]
                rule[pos[hit]] = _PREFIX
        countries = [self._v4_country.values[k] if k >= 0 else None for k in country_idx.tolist()]
        self._asn_and_domain_rules(org, rule, asns, hostnames)
        v4_set = set(v4)
        for i in range(n):
            if i not in v4_set:
                route = self.lookup(
                    ip=ips[i],
                    asn=asns[i] if asns is not None else None,
                    hostname=hostnames[i] if hostnames is not None else None,
                )
                org[i], rule[i], countries[i] = (
                    route.organization_id,
                    _RULE_CODE[route.rule],
                    route.country,
                )
        return BatchRoutes(
            organization_ids=org.tolist(),
            rules=[_RULE_VALUES[c] for c in rule.tolist()],
            countries=countries,  # type: ignore[arg-type]
        )

    def _asn_and_domain_rules(
        self,
        org: np.ndarray,
        rule: np.ndarray,
        asns: Sequence[int | None] | None,
        hostnames: Sequence[str | None] | None,
    ) -> None:
        """Apply the constituency ASN, then domain, rules where no prefix matched (in place)."""
        if asns is not None and self.asns:
            for i, asn in enumerate(asns):
                if asn is not None and rule[i] != _PREFIX and asn in self.asns:
                    org[i], rule[i] = self.asns[asn], _ASN
        if hostnames is not None and self.domains:
            owner_of = self._domain_owner
            for i, hostname in enumerate(hostnames):
                if hostname and rule[i] > _ASN:
                    owner = owner_of(hostname)
                    if owner is not None:
                        org[i], rule[i] = owner, _DOMAIN


_CACHE: dict[str, tuple[float, tuple[object, ...], RoutingTable]] = {}


def shared_routing_table(*, max_age_seconds: float = 300.0) -> RoutingTable:
    """
    Return a routing table of this process, for interactive work (proposing the
    affected states of an incident) where building one per request would cost a second.
    It is rebuilt after `max_age_seconds`, and at once when the organizations or the
    RIR data changed (two cheap aggregate queries tell). Batch jobs build their own with
    `RoutingTable.build`.
    """
    version = (
        tuple(Organization.objects.aggregate(count=Count("pk"), last=Max("pk")).values()),
        tuple(RirRecord.objects.aggregate(count=Count("pk"), last=Max("pk")).values()),
        tuple(Constituency.objects.aggregate(count=Count("pk"), last=Max("pk")).values()),
    )
    now = time.monotonic()
    cached = _CACHE.get("table")
    if cached is None or cached[1] != version or now - cached[0] > max_age_seconds:
        cached = (now, version, RoutingTable.build())
        _CACHE["table"] = cached
    return cached[2]


def forget_shared_routing_table() -> None:
    """Drop the table `shared_routing_table` keeps (after the directory or RIR data change)."""
    _CACHE.clear()
