"""`csirtnet route`: one line per value, an error line per bad value, a failing exit."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

pytestmark = pytest.mark.django_db


def route(*values: str) -> tuple[list[str], list[str], CommandError | None]:
    """Run the command; return its stdout and stderr lines and the error it ended with."""
    out, err = StringIO(), StringIO()
    error = None
    try:
        call_command("route", *values, stdout=out, stderr=err)
    except CommandError as exc:
        error = exc
    return out.getvalue().splitlines(), err.getvalue().splitlines(), error


def test_good_values_print_one_line_each(directory):
    out, err, error = route("200.7.84.1", "AS28000", "https://www.gub.uy/x")
    assert (err, error) == ([], None)
    assert [line.split("\t")[0] for line in out] == [
        "200.7.84.1",
        "AS28000",
        "https://www.gub.uy/x",
    ]


def test_ipv4_mapped_address_is_routed_as_its_ipv4_address(directory):
    out, _err, _error = route("200.7.84.1", "::ffff:200.7.84.1")
    plain, mapped = (line.split("\t") for line in out)
    assert mapped[0] == "::ffff:200.7.84.1"
    assert mapped[1:] == plain[1:]


def test_cidr_block_is_routed_by_its_network_address_and_says_so(directory):
    out, err, error = route("200.7.84.0", "200.7.84.0/24")
    address, network = (line.split("\t") for line in out)
    assert (err, error) == ([], None)
    assert network[0] == "200.7.84.0/24"
    assert network[1:-1] == address[1:]
    assert network[-1] == "routed by its network address 200.7.84.0"


def test_bad_values_are_reported_and_the_others_still_routed(directory):
    junk = [
        "", "AS", "AS-1", "asn28000", "-", "999.1.1.1", "0x7f.1", "200.007.084.001",
        "evil\x1b[2J.uy", "http://[::1", "http://gub.uy:99999/",
    ]  # fmt: skip
    out, err, error = route("200.7.84.1", *junk, "AS28000")
    assert [line.split("\t")[0] for line in out] == ["200.7.84.1", "AS28000"]
    assert len(err) == len(junk)
    assert all(line.startswith("route: ") and line.isprintable() for line in err)
    assert '"evil\\x1b[2J.uy" contains control characters' in err[8]
    assert '"http://[::1" is not a valid URL' in err[9]
    assert "99999 is out of range" in err[10]
    assert str(error) == f"{len(junk)} values could not be routed"


def test_one_bad_value_fails_the_command(directory):
    out, err, error = route("AS0")
    assert out == []
    assert err == ['route: "AS0": an ASN is between 1 and 4294967295']
    assert str(error) == "1 value could not be routed"
