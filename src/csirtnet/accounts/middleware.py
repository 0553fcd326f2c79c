"""Sets `request.actor`: the signed-in user's active membership (STYLE §5)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from csirtnet.accounts.models import Membership


def actor_for(user: Any) -> Membership | None:
    """Return the first active membership of `user`, or None (anonymous or no membership)."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return None
    return (
        Membership.objects.select_related("organization", "organization__state", "user")
        .filter(user=user, is_active=True)
        .order_by("pk")
        .first()
    )


class ActorMiddleware:
    """Attach `request.actor` (a `Membership` or None) after authentication."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.actor = actor_for(request.user)  # type: ignore[attr-defined]
        return self.get_response(request)
