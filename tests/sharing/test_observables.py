"""Normalized observables: one value however it is written."""

from __future__ import annotations

import pytest

from csirtnet.sharing.observables import detect, normalize, route_arguments


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("ipv4", " 192.0.2.1 ", "192.0.2.1"),
        ("ipv6", "2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("cidr", "192.0.2.77/24", "192.0.2.0/24"),
        ("cidr", "2001:DB8::/32", "2001:db8::/32"),
        ("domain", "Bücher.Example.BR.", "xn--bcher-kva.example.br"),
        ("domain", "EXAMPLE.com", "example.com"),
        ("url", "HTTP://Bücher.example/Path?q=1", "http://xn--bcher-kva.example/Path?q=1"),
        ("url", "https://[2001:DB8::1]:8443/x", "https://[2001:db8::1]:8443/x"),
        ("url", "http://example.com", "http://example.com/"),
        ("email", "Abuse@Ejemplo.GOB.MX", "Abuse@ejemplo.gob.mx"),
        ("md5", "D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e"),
        ("sha1", "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709",
         "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ("sha256", "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("asn", "AS64496", "64496"),
        ("asn", "as4294967295", "4294967295"),
    ],
)  # fmt: skip
def test_values_are_normalized(kind, value, expected):
    assert normalize(kind, value) == expected


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("ipv4", "256.1.1.1"),
        ("ipv6", "2001:db8::g"),
        ("cidr", "192.0.2.1"),
        ("domain", "-bad-.example"),
        ("domain", "localhost"),
        ("domain", "1.2.3.4"),
        ("url", "javascript:alert(1)"),
        ("url", "http://"),
        ("email", "no-at-sign"),
        ("email", "a b@example.com"),
        ("md5", "d41d8cd98f00b204e9800998ecf8427"),
        ("sha256", "z" * 64),
        ("asn", "AS0"),
        ("asn", "AS4294967296"),
        ("ipv4", "192.0.2.1\x1b[31m"),
        ("nope", "192.0.2.1"),
    ],
)
def test_invalid_values_are_refused_with_the_value_quoted(kind, value):
    with pytest.raises(ValueError, match="is not") as error:
        normalize(kind, value)
    assert "\x1b" not in str(error.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("198.51.100.7", ("ipv4", "198.51.100.7")),
        ("2001:DB8::7", ("ipv6", "2001:db8::7")),
        ("198.51.100.0/24", ("cidr", "198.51.100.0/24")),
        ("AS13335", ("asn", "13335")),
        ("ejemplo.com.ar", ("domain", "ejemplo.com.ar")),
        ("https://ejemplo.com.ar/x", ("url", "https://ejemplo.com.ar/x")),
        ("abuse@ejemplo.com.ar", ("email", "abuse@ejemplo.com.ar")),
        ("D41D8CD98F00B204E9800998ECF8427E", ("md5", "d41d8cd98f00b204e9800998ecf8427e")),
    ],
)
def test_types_are_detected(value, expected):
    assert detect(value) == expected


def test_junk_is_no_observable():
    with pytest.raises(ValueError, match="not an observable"):
        detect("not a value at all")


def test_route_arguments_follow_the_type():
    assert route_arguments("cidr", "192.0.2.0/24") == {"ip": "192.0.2.0"}
    assert route_arguments("url", "http://[2001:db8::1]/") == {"ip": "2001:db8::1"}
    assert route_arguments("url", "http://ejemplo.com.ar/") == {"hostname": "ejemplo.com.ar"}
    assert route_arguments("email", "a@ejemplo.gob.mx") == {"hostname": "ejemplo.gob.mx"}
    assert route_arguments("asn", "64496") == {"asn": 64496}
    assert route_arguments("ipv6", "::ffff:190.210.0.1") == {"ip": "190.210.0.1"}
    assert route_arguments("sha256", "e3" * 32) is None
