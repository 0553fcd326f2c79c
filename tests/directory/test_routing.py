"""Routing on the real RIR data: prefix, ASN, domain, country, unrouted."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from csirtnet.directory.models import Constituency, Organization, RouteRule
from csirtnet.directory.route_values import RouteQuery, parse_route_query, parse_route_value
from csirtnet.directory.routing import RoutingTable

pytestmark = pytest.mark.django_db

# Twelve member states: an address inside the first prefix of each state's real list.
STATES = ["AR", "BR", "CA", "CL", "CO", "CR", "EC", "MX", "PE", "US", "UY", "TT"]


def _delegated_starts(rir_dir: Path) -> dict[str, str]:
    """First address -> country of every LACNIC delegation (the authority on conflicts)."""
    starts = {}
    for line in (rir_dir / "delegated-lacnic-extended-20240104").read_text().splitlines():
        fields = line.split("|")
        if len(fields) >= 7 and fields[2] in ("ipv4", "ipv6"):
            starts[fields[3]] = fields[1]
    return starts


def _first_address(rir_dir: Path, cc: str, family: str = "ipv4") -> str:
    """An address in the first prefix of `cc`'s list that the LACNIC file does not contradict."""
    delegated = _delegated_starts(rir_dir)
    path = rir_dir / "americas-country-prefixes" / cc.lower() / f"{family}-aggregated.txt"
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            net = ipaddress.ip_network(line.strip())
            if delegated.get(str(net.network_address), cc) == cc:
                return str(net.network_address + 1)
    raise AssertionError(f"no prefix for {cc}")


def test_delegated_file_wins_over_the_aggregated_list_for_the_same_block(routing_table):
    # 45.4.92.0/22: PE in the 2026 aggregated list, AR in LACNIC's delegated file.
    route = routing_table.lookup(ip="45.4.92.1")
    assert route.country == "AR"
    assert routing_table.lookup_batch(["45.4.92.1"])[0] == route


@pytest.mark.parametrize("cc", STATES)
def test_address_of_a_member_state_reaches_its_national_csirt(routing_table, rir_dir, cc):
    ip = _first_address(rir_dir, cc)
    route = routing_table.lookup(ip=ip)
    org = Organization.objects.get(pk=route.organization_id)
    assert (org.state.code, org.kind, route.rule) == (cc, "national_csirt", RouteRule.COUNTRY)


@pytest.mark.parametrize("cc", ["BR", "MX", "US"])
def test_ipv6_address_of_a_member_state_reaches_its_national_csirt(routing_table, rir_dir, cc):
    route = routing_table.lookup(ip=_first_address(rir_dir, cc, "ipv6"))
    assert Organization.objects.get(pk=route.organization_id).state.code == cc


@pytest.mark.parametrize("ip", ["41.86.0.1", "88.84.0.1", "2001:448a:1082::1", "1.1.1.1"])
def test_address_outside_the_americas_lands_in_the_unrouted_queue(routing_table, ip):
    route = routing_table.lookup(ip=ip)
    assert route.rule == RouteRule.UNROUTED
    assert route.organization_id == Organization.objects.secretariat().pk


def test_batch_lookup_agrees_with_single_lookups(routing_table, rir_dir):
    ips = [_first_address(rir_dir, cc) for cc in STATES] + ["41.86.0.1", None, "2800:a0::1"]
    single = [routing_table.lookup(ip=ip) for ip in ips]
    assert routing_table.lookup_batch(ips) == single


def _table_with(**constituency: list[object]) -> RoutingTable:
    sectoral = Organization.objects.create(
        short_name="CSIRT-BANCA",
        name="CSIRT bancario",
        kind="sectoral_csirt",
        state=Organization.objects.get(short_name="CERTuy").state,
    )
    c = Constituency(organization=sectoral, **constituency)
    c.full_clean()
    c.save()
    return RoutingTable.build()


def test_constituency_prefix_beats_the_country_rule(rir_dir):
    ar_ip = _first_address(rir_dir, "AR")
    table = _table_with(prefixes=[f"{ar_ip}/32"])
    route = table.lookup(ip=ar_ip)
    assert route.rule == RouteRule.PREFIX
    assert Organization.objects.get(pk=route.organization_id).short_name == "CSIRT-BANCA"
    assert table.lookup_batch([ar_ip])[0] == route
    neighbour = str(ipaddress.ip_address(ar_ip) + 1)
    assert table.lookup(ip=neighbour).rule == RouteRule.COUNTRY


def test_most_specific_constituency_prefix_wins(rir_dir):
    table = _table_with(prefixes=["203.0.113.0/25"])
    national = Organization.objects.get(short_name="CERTuy")
    Constituency.objects.filter(organization=national).update(prefixes=["203.0.113.0/24"])
    table = RoutingTable.build()
    inner, outer = table.lookup(ip="203.0.113.5"), table.lookup(ip="203.0.113.200")
    assert Organization.objects.get(pk=inner.organization_id).short_name == "CSIRT-BANCA"
    assert outer.organization_id == national.pk
    assert table.lookup_batch(["203.0.113.5", "203.0.113.200"]) == [inner, outer]


def test_constituency_asn_and_domain_rules_come_before_the_country():
    table = _table_with(asns=["AS64500"], domains=["bancos.example"])
    by_asn = table.lookup(ip="41.86.0.1", asn=64500)
    by_domain = table.lookup(ip="41.86.0.1", hostname="www.bancos.example")
    assert (by_asn.rule, by_domain.rule) == (RouteRule.ASN, RouteRule.DOMAIN)


def test_cctld_domain_reaches_the_national_csirt(routing_table):
    route = routing_table.lookup(hostname="www.gub.uy")
    assert route.rule == RouteRule.DOMAIN
    assert Organization.objects.get(pk=route.organization_id).short_name == "CERTuy"


def test_route_values_are_parsed_as_address_asn_url_or_domain():
    assert parse_route_value("200.7.84.1") == {"ip": "200.7.84.1"}
    assert parse_route_value("AS28000") == {"asn": 28000}
    assert parse_route_value("https://Bücher.example/x") == {"hostname": "xn--bcher-kva.example"}
    assert parse_route_value("2800:00a0::1") == {"ip": "2800:a0::1"}
    with pytest.raises(ValueError, match="ASN"):
        parse_route_value("AS0")


def test_importing_the_rir_data_again_replaces_it(rir_dir):
    from django.core.management import call_command

    from csirtnet.directory.models import RirRecord

    before = RirRecord.objects.count()
    call_command("import_rir", str(rir_dir / "americas-country-prefixes" / "uy"), verbosity=0)
    assert RirRecord.objects.count() == before


def test_ipv4_mapped_ipv6_route_values_are_their_ipv4_address():
    assert parse_route_value("::ffff:200.7.84.1") == {"ip": "200.7.84.1"}
    assert parse_route_value("::FFFF:C807:5401") == {"ip": "200.7.84.1"}
    assert parse_route_value("http://[::ffff:200.7.84.1]:8080/x") == {"ip": "200.7.84.1"}


def test_route_values_accept_asns_in_asplain_only():
    assert [parse_route_value(v) for v in ("AS28000", "as28000", "28000")] == [{"asn": 28000}] * 3
    for value in ("AS", "AS-1", "asn28000", "ASN28000", "AS 28000"):
        with pytest.raises(ValueError, match="is not an AS number"):
            parse_route_value(value)


def test_cidr_route_value_is_routed_by_its_network_address():
    assert parse_route_query("200.7.84.0/24") == RouteQuery(
        ip="200.7.84.0", network="200.7.84.0/24"
    )
    assert parse_route_query("200.7.84.9/24").ip == "200.7.84.0"
    assert parse_route_query("::ffff:200.7.84.0/120").network == "200.7.84.0/24"
    assert parse_route_value("2800:a0::/32") == {"ip": "2800:a0::"}


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "an empty value is not an IP address"),
        ("   ", "an empty value is not an IP address"),
        ("-", '"-" is not an IP address, an ASN, a network, a URL or a domain'),
        ("999.1.1.1", '"999.1.1.1" is not an IP address, and not a domain either'),
        ("0x7f.1", '"0x7f.1" is not an IP address, and not a domain either'),
        ("200.007.084.001", "leading zeros in an IPv4 address are ambiguous"),
        ("exa\x1bmple.uy", '"exa\\x1bmple.uy" contains control characters'),
        ("http://[::1", '"http://[::1" is not a valid URL'),
        ("http://gub.uy:99999/", "the port 99999 is out of range (0 to 65535)"),
        ("http://gub.uy:8o/", "the port is not a number"),
        ("1.2.3.0/33", "is not a network in CIDR notation"),
        ("gub.uy/path", "a URL starts with a scheme"),
        ("a-.gub.uy", "a domain's labels are 1 to 63 letters"),
        ("x" * 254, "is too long for a domain"),
        ("fe80::1%eth0", "an address with a zone index is not routed"),
    ],
)
def test_junk_route_values_are_errors_not_domains(value, reason):
    with pytest.raises(ValueError) as caught:
        parse_route_value(value)
    assert reason in str(caught.value)
    assert str(caught.value).isprintable()


def test_national_contacts_speak_their_state_languages():
    from csirtnet.directory.models import PointOfContact

    languages = dict(
        PointOfContact.objects.filter(
            role="csirt_24_7", organization__state__isnull=False
        ).values_list("organization__state__code", "languages")
    )
    assert (languages["US"], languages["JM"], languages["MX"]) == (["en"], ["en"], ["es", "en"])
    assert (languages["BR"][0], languages["HT"][0]) == ("pt", "fr")


def test_a_state_has_one_national_csirt_and_the_admin_can_save_cctlds(directory):
    from django.db import IntegrityError, transaction

    from csirtnet.directory.models import Constituency, Organization

    argentina = Organization.objects.get(short_name="CERT.ar")
    with pytest.raises(IntegrityError), transaction.atomic():
        Organization.objects.create(
            short_name="SHADOW-AR", name="Shadow", kind="national_csirt", state=argentina.state
        )
    constituency = Constituency.objects.get(organization=argentina)
    constituency.domains = [".ar", "Bücher.example."]
    constituency.full_clean()
    assert constituency.domains == [".ar", ".xn--bcher-kva.example"]
