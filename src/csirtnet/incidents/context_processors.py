"""Template context of every page: how many incidents await the actor's acknowledgement."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from csirtnet.incidents.models import Incident

if TYPE_CHECKING:
    from django.http import HttpRequest

    from csirtnet.accounts.models import Membership


def _awaiting_count(actor: Membership) -> int:
    """Return how many incidents await the acknowledgement of `actor`'s organization."""
    return Incident.objects.awaiting_acknowledgement_by(actor).count()


def incidents(request: HttpRequest) -> dict[str, Any]:
    """
    Add `incidents_awaiting_count`: the number of incidents awaiting the acknowledgement
    of the actor's organization. It is a callable, so the query runs only on pages
    whose template reads it; nothing is added without an actor.
    """
    actor: Membership | None = getattr(request, "actor", None)
    if actor is None:
        return {}
    return {"incidents_awaiting_count": partial(_awaiting_count, actor)}
