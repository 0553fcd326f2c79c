"""The shared timeline of an incident: who did what, when."""

from __future__ import annotations

from csirtnet.accounts.models import Membership
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
    """Add a timeline entry by `actor` (its user and organization), now (UTC)."""
    return TimelineEntry.objects.create(
        incident=incident, kind=kind, author=actor.user, organization=actor.organization,
        text=text, old_value=old_value[:200], new_value=new_value[:200],
    )  # fmt: skip
