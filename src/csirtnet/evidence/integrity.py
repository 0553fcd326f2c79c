"""
Checks of evidence integrity: each custody chain against `core.hashchain`, and each
stored file against the SHA-256 on record (RFC 3227, section 2.4: "how and where it was
stored" can be shown to be unchanged).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from csirtnet.core import hashchain
from csirtnet.evidence.models import Action, CustodyEvent, Evidence
from csirtnet.evidence.storage import file_sha256


@dataclass(frozen=True)
class Problem:
    """
    The first thing found wrong with one evidence item: `sequence` of the custody event
    where it shows (0 for the item itself or its file) and `reason`:

    - "hash": an event's content differs from what its hash covers;
    - "previous_hash": an event does not point at the one before it;
    - "sequence": sequence numbers are not 1, 2, 3… (an event removed or inserted);
    - "first_action": the first event is not "collected";
    - "sha256": an event recorded another SHA-256 than the item's;
    - "order": an event the events before it do not allow (an accept by another
      organization than the one offered, an action by a non-custodian, anything after
      "released");
    - "head": the chain does not end where the item says (last event removed);
    - "state": the item's owner, custodian, pending receiver or release differ from
      what its chain says;
    - "file_missing", "file_sha256": the stored file is gone or its bytes changed.
    """

    evidence: Evidence
    sequence: int
    reason: str


def check_chain(evidence: Evidence) -> Problem | None:
    """Return the first broken link of the evidence's custody chain, or None when it holds."""
    events = list(
        CustodyEvent.objects.filter(evidence=evidence)
        .select_related("evidence", "actor", "organization", "receiving_organization")
        .order_by("sequence")
    )
    for position, event in enumerate(events, start=1):
        if event.sequence != position:
            return Problem(evidence, event.sequence, "sequence")
    links = [
        hashchain.Link(event.custody_record(), event.previous_hash, event.hash) for event in events
    ]
    broken = hashchain.verify(links)
    if broken is not None:
        return Problem(evidence, events[broken.index].sequence, broken.reason)
    if not events or events[0].action != Action.COLLECTED:
        return Problem(evidence, events[0].sequence if events else 0, "first_action")
    for event in events:
        if event.sha256 != evidence.sha256:
            return Problem(evidence, event.sequence, "sha256")
    disorder = _replay(events)
    if disorder is not None:
        return Problem(evidence, disorder.sequence, "order")
    if evidence.custody_length != len(events) or evidence.head_hash != events[-1].hash:
        return Problem(evidence, len(events), "head")
    if _state(events) != (
        evidence.owner_id, evidence.custodian_id, evidence.pending_receiver_id,
        evidence.released_at is not None,
    ):  # fmt: skip
        return Problem(evidence, 0, "state")
    return None


def _replay(events: list[CustodyEvent]) -> CustodyEvent | None:
    """Return the first event that the events before it do not allow, or None."""
    custodian, pending, released = events[0].organization_id, None, False
    for event in events[1:]:
        acting = event.organization_id
        if released or event.action == Action.COLLECTED:
            return event
        if event.action == Action.ACCEPTED:
            if pending is None or acting != pending:
                return event
            custodian, pending = pending, None
            continue
        if acting != custodian or (event.action == Action.TRANSFERRED and pending is not None):
            return event
        if event.action == Action.TRANSFERRED:
            pending = event.receiving_organization_id
        released = event.action == Action.RELEASED
    return None


def _state(events: list[CustodyEvent]) -> tuple[int, int, int | None, bool]:
    """Return (owner, custodian, pending receiver, released) as a valid chain leaves them."""
    owner = custodian = events[0].organization_id
    pending: int | None = None
    for event in events[1:]:
        if event.action == Action.TRANSFERRED:
            pending = event.receiving_organization_id
        elif event.action == Action.ACCEPTED:
            custodian, pending = event.organization_id, None
    return owner, custodian, pending, events[-1].action == Action.RELEASED


def check_file(evidence: Evidence) -> Problem | None:
    """Return a problem when the stored file is gone or its SHA-256 differs, else None."""
    found = file_sha256(evidence.sha256)
    if found is None:
        return Problem(evidence, 0, "file_missing")
    if found != evidence.sha256:
        return Problem(evidence, 0, "file_sha256")
    return None


def check_all() -> Iterator[tuple[Evidence, int, Problem | None]]:
    """
    Check every evidence item (chain first, then file, each file read 1 MiB at a time);
    yield `(evidence, custody events counted, first problem or None)`.
    """
    for evidence in Evidence.objects.order_by("pk").iterator(chunk_size=200):
        problem = check_chain(evidence) or check_file(evidence)
        yield evidence, evidence.custody.count(), problem
