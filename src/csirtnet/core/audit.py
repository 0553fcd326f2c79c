"""
Recording actions in the audit log (`AuditEntry`): every write, and every read of
TLP:AMBER+STRICT or TLP:RED data, with who, what, when and from where, in one hash chain.

Services call `record(actor=..., action=..., target=...)` inside their transaction, so an
action rolled back leaves no entry and a committed one always has its entry. Pages and
API handlers call `record_reads` for the rows they show. Where a request came from is
set once per request by `AuditOriginMiddleware` (and by commands and the worker) in a
context variable, so services need no request. Chain appends are serialized: an
advisory lock on PostgreSQL, the database write lock of SQLite's IMMEDIATE transactions.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from csirtnet.core import hashchain

if TYPE_CHECKING:
    from csirtnet.core.models import AuditEntry

READ_AUDITED_LABELS = frozenset({"amber+strict", "red"})  # reads of these are recorded
_ORIGIN: contextvars.ContextVar[str] = contextvars.ContextVar("audit_origin", default="")
_LOCK = 0x41554454  # "AUDT": the PostgreSQL advisory lock of chain appends
MAX_READ_TARGETS = 200  # ids listed in one read entry; the count is always whole


def record(
    *,
    actor: Any,
    action: str,
    target: Any = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """
    Append one entry to the audit chain and return it. `actor` is a membership (its
    `user` and `organization` are read) or a user or None (a system action); `target` a
    model instance (its model label, `uuid` or `reference` or pk, and `tlp` when it has
    one) or None; `detail` JSON data without floats. An organization alone may act
    (a report it submitted), as may nobody (None: a system action). Runs in the
    caller's transaction (or its own) under the chain lock.

    Raises:
        TypeError: `detail` holds a float or a value JSON cannot hold.
    """
    from csirtnet.core.models import AuditEntry  # imported late: the CLI sets `origin` first

    with transaction.atomic():
        _lock_chain()
        last = AuditEntry.objects.order_by("-sequence").values("sequence", "hash").first()
        entry = AuditEntry(
            sequence=(last["sequence"] + 1) if last else 1,
            at=timezone.now(),
            origin=_ORIGIN.get()[:100],
            action=action[:60],
            detail=detail or {},
            **_who(actor),
            **_what(target),
        )
        entry.previous_hash = last["hash"] if last else hashchain.GENESIS
        entry.hash = hashchain.link_hash(entry.previous_hash, entry.record())
        entry.save(force_insert=True)
        return entry


def record_reads(*, actor: Any, rows: Iterable[Any], action: str) -> AuditEntry | None:
    """
    Record that `actor` was shown `rows` when some of them are TLP:AMBER+STRICT or
    TLP:RED (one entry listing their ids, at most MAX_READ_TARGETS, and their count);
    return it, or None when there was nothing to record.
    """
    audited = [row for row in rows if str(getattr(row, "tlp", "")) in READ_AUDITED_LABELS]
    if not audited:
        return None
    if len(audited) == 1:
        return record(actor=actor, action=action, target=audited[0])
    ids = [_target_id(row) for row in audited]
    return record(
        actor=actor, action=action,
        detail={"count": len(ids), "targets": ids[:MAX_READ_TARGETS],
                "target_type": audited[0]._meta.label_lower},
    )  # fmt: skip


def verify() -> tuple[int, hashchain.Break | None, str]:
    """
    Check the whole audit chain in `sequence` order, streaming it: each entry links to
    the one before (`GENESIS` for the first), its hash matches its fields, and the
    sequence has no gap. Return `(entries checked, first break or None, head hash)`;
    a gap or a sequence out of order is a "previous_hash" break at that entry. Removing
    the newest entries leaves a shorter chain that holds: compare the head hash with one
    kept elsewhere (`csirtnet verify-audit --expect-head`).
    """
    from csirtnet.core.models import AuditEntry

    count = 0
    head = hashchain.GENESIS
    found: hashchain.Break | None = None

    def links() -> Iterator[hashchain.Link]:
        nonlocal count, head, found
        for entry in AuditEntry.objects.order_by("sequence", "pk").iterator(chunk_size=2000):
            if found is None and entry.sequence != count + 1:
                found = hashchain.Break(count, "sequence")
            count += 1
            head = entry.hash
            yield hashchain.Link(entry.record(), entry.previous_hash, entry.hash)

    broken = hashchain.verify(links())
    if broken is not None and (found is None or broken.index < found.index):
        found = broken
    return count, found, head


def entry_at(index: int) -> AuditEntry | None:
    """Return the entry at 0-based position `index` of the chain, for reporting a break."""
    from csirtnet.core.models import AuditEntry

    return AuditEntry.objects.order_by("sequence", "pk")[index : index + 1].first()


@contextmanager
def origin(value: str) -> Iterator[None]:
    """Record actions inside the block as coming from `value` ("cli", "worker", an address)."""
    token = _ORIGIN.set(value)
    try:
        yield
    finally:
        _ORIGIN.reset(token)


class AuditOriginMiddleware:
    """Set where the actions of a request come from: its client address (REMOTE_ADDR)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with origin(str(request.META.get("REMOTE_ADDR", ""))):
            return self.get_response(request)


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])


def _who(actor: Any) -> dict[str, Any]:
    """Read a membership (user and organization), a user, an organization, or None."""
    if hasattr(actor, "user") and hasattr(actor, "organization"):
        user, organization = actor.user, actor.organization
    elif hasattr(actor, "username"):
        user, organization = actor, None
    else:
        user, organization = None, actor
    return {
        "user_id": getattr(user, "pk", None),
        "username": str(getattr(user, "username", "") or "")[:150],
        "organization_id": getattr(organization, "pk", None),
        "organization": str(getattr(organization, "short_name", "") or "")[:50],
    }


def _what(target: Any) -> dict[str, Any]:
    if target is None:
        return {"target_type": "", "target_id": "", "tlp": ""}
    return {
        "target_type": target._meta.label_lower[:60],
        "target_id": _target_id(target)[:300],
        "tlp": str(getattr(target, "tlp", "") or "")[:12],
    }


def _target_id(target: Any) -> str:
    for name in ("reference", "uuid", "pk"):
        value = getattr(target, name, None)
        if value:
            return str(value)
    return ""
