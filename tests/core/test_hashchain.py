"""The generic hash chain: canonical records, link hashes, and finding the first break."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest

from csirtnet.core import hashchain
from csirtnet.core.hashchain import GENESIS, Break, Link, canonical, chain, link_hash, verify

RECORDS = [
    {"sequence": 1, "action": "collected", "at": datetime(2026, 3, 14, 9, 0, tzinfo=UTC)},
    {"sequence": 2, "action": "transferred", "to": "CERT.ar", "reason": "análisis"},
    {"sequence": 3, "action": "accepted", "nested": {"b": [1, None, True], "a": "x"}},
]


def test_genesis_is_sixty_four_zeros():
    assert GENESIS == "0" * 64


def test_canonical_form_sorts_keys_has_no_spaces_and_is_utf8():
    record = {"b": 1, "a": "ñ", "c": {"z": None, "y": [True, False]}}
    assert canonical(record) == '{"a":"ñ","b":1,"c":{"y":[true,false],"z":null}}'.encode()


def test_times_are_rfc3339_utc_with_microseconds():
    minus_three = timezone(timedelta(hours=-3))
    record = {"at": datetime(2026, 3, 14, 6, 0, 0, 5, tzinfo=minus_three)}
    assert canonical(record) == b'{"at":"2026-03-14T09:00:00.000005Z"}'


def test_uuids_are_their_lower_case_text():
    record = {"id": UUID("12345678-1234-5678-1234-567812345678")}
    assert canonical(record) == b'{"id":"12345678-1234-5678-1234-567812345678"}'


@pytest.mark.parametrize(
    ("record", "error"),
    [
        ({"at": datetime(2026, 3, 14, 9, 0)}, ValueError),  # noqa: DTZ001 (naive on purpose)
        ({"score": 1.5}, TypeError),
        ({"blob": b"bytes"}, TypeError),
        ({1: "x"}, TypeError),
    ],
)
def test_values_without_one_text_form_are_refused(record, error):
    with pytest.raises(error):
        canonical(record)


def test_link_hash_is_sha256_of_previous_hash_newline_and_record():
    record = RECORDS[1]
    expected = hashlib.sha256(GENESIS.encode() + b"\n" + canonical(record)).hexdigest()
    assert link_hash(GENESIS, record) == expected
    assert len(expected) == 64


@pytest.mark.parametrize("previous", ["", "0" * 63, "G" * 64, "A" * 64])
def test_link_hash_refuses_a_previous_hash_that_is_not_64_lower_case_hex(previous):
    with pytest.raises(ValueError, match="64"):
        link_hash(previous, {})


def test_an_intact_chain_and_an_empty_one_verify():
    assert verify(chain(RECORDS)) is None
    assert verify([]) is None


def test_changing_any_value_of_a_record_breaks_that_link():
    links = chain(RECORDS)
    for index, link in enumerate(links):
        for key in link.record:
            changed = {**link.record, key: "other"}
            tampered = [*links[:index], replace(link, record=changed), *links[index + 1 :]]
            assert verify(tampered) == Break(index, "hash"), (index, key)


def test_adding_a_key_to_a_record_breaks_the_link():
    links = chain(RECORDS)
    links[1] = replace(links[1], record={**links[1].record, "extra": 1})
    assert verify(links) == Break(1, "hash")


def test_a_changed_hash_breaks_the_next_link_or_itself():
    links = chain(RECORDS)
    links[2] = replace(links[2], hash="f" * 64)
    assert verify(links) == Break(2, "hash")
    links = chain(RECORDS)
    links[0] = replace(links[0], hash="f" * 64)
    assert verify(links) == Break(0, "hash")


def test_removing_a_link_breaks_the_chain_at_the_gap():
    links = chain(RECORDS)
    assert verify([links[0], links[2]]) == Break(1, "previous_hash")
    assert verify(links[1:]) == Break(0, "previous_hash")


def test_reordering_links_breaks_the_chain():
    links = chain(RECORDS)
    assert verify([links[0], links[2], links[1]]) == Break(1, "previous_hash")


def test_a_chain_recomputed_after_tampering_keeps_nothing_of_the_original_hashes():
    original = chain(RECORDS)
    rewritten = chain([RECORDS[0], {**RECORDS[1], "to": "CERT-MX"}, RECORDS[2]])
    assert original[0].hash == rewritten[0].hash
    assert original[1].hash != rewritten[1].hash
    assert original[2].hash != rewritten[2].hash  # the head tells a rewrite apart


def test_an_unserializable_record_is_a_hash_break():
    links = chain(RECORDS)
    links[0] = Link(record={"x": 1.5}, previous_hash=GENESIS, hash=links[0].hash)
    assert verify(links) == Break(0, "hash")


def test_is_hash():
    assert hashchain.is_hash("a" * 64)
    assert not hashchain.is_hash("a" * 65)
    assert not hashchain.is_hash(None)
