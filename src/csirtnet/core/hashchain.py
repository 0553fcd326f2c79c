"""
A generic append-only hash chain: canonical records, link hashes, and verification.

Each link of a chain is a record (a flat or nested mapping of JSON values and times)
with the hash of the link before it. The hash of a link is

    sha256(previous_hash as 64 lower-case hex ASCII characters + "\\n" + canonical(record))

written as 64 lower-case hex digits; the first link's previous hash is `GENESIS` (64
zeros). Changing, removing, inserting or reordering any link changes the hash of that
link or breaks the next link's `previous_hash`, so a reader holding the records can
check the chain without trusting whoever stored it (see `verify`). Nothing here knows
what the records mean: custody events and audit entries both use it.

`canonical(record)` is JSON with keys sorted (by code point), no spaces
(`","` and `":"` as separators), non-ASCII characters written as themselves, encoded
as UTF-8; aware datetimes become RFC 3339 strings in UTC with six fractional digits
and `Z` (`"2026-03-14T09:00:00.000000Z"`), UUIDs their hyphenated lower-case text.
Floats are refused: their text form differs between languages, and a hash must not.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

GENESIS = "0" * 64  # the previous hash of a chain's first link
_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class Link:
    """One stored link: its record, the previous hash it claims, and its own hash."""

    record: Mapping[str, Any]
    previous_hash: str
    hash: str


@dataclass(frozen=True)
class Break:
    """
    The first place a chain does not hold: `index` (0-based position in the sequence
    given to `verify`) and `reason`, one of "previous_hash" (the link does not point at
    the link before it, or the first link not at `GENESIS`) and "hash" (the record or
    the previous hash was changed after the hash was computed).
    """

    index: int
    reason: str


def rfc3339(moment: datetime) -> str:
    """
    Return an aware datetime as RFC 3339 in UTC with microseconds:
    "2026-03-14T09:00:00.000000Z".

    Raises:
        ValueError: `moment` is naive (its instant is unknown).
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a naive datetime has no place in a hash chain")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _plain(value: Any) -> Any:
    """Return `value` as JSON data: times and UUIDs as text, mappings and lists walked."""
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, float):
        raise TypeError("floats are not allowed in a hash chain record")
    if isinstance(value, Mapping):
        if not all(isinstance(key, str) for key in value):
            raise TypeError("record keys must be strings")
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, str | int | bool):
        return value
    raise TypeError(f"{type(value).__name__} is not allowed in a hash chain record")


def canonical(record: Mapping[str, Any]) -> bytes:
    """
    Return the canonical UTF-8 bytes of `record` (see the module's description).

    Raises:
        TypeError: a value is a float or of a type JSON cannot hold.
        ValueError: a datetime is naive.
    """
    return json.dumps(
        _plain(record), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def link_hash(previous_hash: str, record: Mapping[str, Any]) -> str:
    """
    Return the hash of a link: SHA-256 (FIPS 180-4) of `previous_hash`, a line feed and
    `canonical(record)`, as 64 lower-case hex digits.

    Raises:
        ValueError: `previous_hash` is not 64 lower-case hex digits; a datetime is naive.
        TypeError: see `canonical`.
    """
    if not is_hash(previous_hash):
        raise ValueError("the previous hash must be 64 lower-case hex digits")
    digest = hashlib.sha256(previous_hash.encode("ascii") + b"\n")
    digest.update(canonical(record))
    return digest.hexdigest()


def is_hash(value: object) -> bool:
    """Return True when `value` is 64 lower-case hex digits (a SHA-256 in hex)."""
    return isinstance(value, str) and len(value) == 64 and set(value) <= _HEX


def verify(links: Iterable[Link]) -> Break | None:
    """
    Check links in chain order: the first points at `GENESIS`, each next one at the
    hash of the one before, and each hash is `link_hash(previous_hash, record)`.
    Return the first `Break`, or None when the whole chain holds (an empty chain holds).
    A record that cannot be serialized counts as a "hash" break.
    """
    expected_previous = GENESIS
    for index, link in enumerate(links):
        if link.previous_hash != expected_previous:
            return Break(index, "previous_hash")
        try:
            computed = link_hash(link.previous_hash, link.record)
        except (TypeError, ValueError):
            return Break(index, "hash")
        if computed != link.hash:
            return Break(index, "hash")
        expected_previous = link.hash
    return None


def chain(records: Sequence[Mapping[str, Any]]) -> list[Link]:
    """Return `records` linked from `GENESIS`, in order (to build or re-create a chain)."""
    links: list[Link] = []
    previous = GENESIS
    for record in records:
        current = link_hash(previous, record)
        links.append(Link(record=record, previous_hash=previous, hash=current))
        previous = current
    return links
