"""Receiver of Django's sign-in signal: session bookkeeping only, no domain rule."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from csirtnet.accounts.services import record_sign_in


def on_sign_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Record the new session of `user` and the fingerprint of its memberships."""
    if request is not None and hasattr(request, "session"):
        record_sign_in(user=user, session=request.session)
