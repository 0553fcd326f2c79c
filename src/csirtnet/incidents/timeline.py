"""The shared timeline of an incident: who did what, when."""

from __future__ import annotations

from csirtnet.accounts.models import Membership
from csirtnet.core import audit
from csirtnet.incidents.models import Incident, TimelineEntry


def record_entry(
    incident: Incident,
    actor: Membership,
    kind: str,
    *,
    text: str = "",
    old_value: str = "",
    new_value: str = "",
) -> TimelineEntry:
    """
    Add a timeline entry by `actor` (its user and organization), now (UTC), and the
    audit entry of the same write (`incident.<kind>`): every change of an incident
    passes here, in the caller's transaction.
    """
    entry = TimelineEntry.objects.create(
        incident=incident, kind=kind, author=actor.user, organization=actor.organization,
        text=text, old_value=old_value[:200], new_value=new_value[:200],
    )  # fmt: skip
    audit.record(
        actor=actor, action=f"incident.{kind}", target=incident,
        detail={"timeline_entry": entry.pk, "old": old_value[:200], "new": new_value[:200]},
    )  # fmt: skip
    return entry
