"""
Sets `request.actor`, the signed-in user's active membership (STYLE §5); ends a session
whose memberships changed since sign-in; holds back a user who owes a second factor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import logout
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse

from csirtnet.accounts.models import Membership
from csirtnet.accounts.second_factor import (
    HAS_DEVICE_SESSION_KEY,
    has_confirmed_device,
    is_verified,
)
from csirtnet.accounts.services import (
    FINGERPRINT_SESSION_KEY,
    membership_fingerprint,
    memberships_of,
    requires_second_factor,
)


def first_active(memberships: list[Membership]) -> Membership | None:
    """Return the oldest active membership of the list, or None."""
    return next((m for m in memberships if m.is_active), None)


def actor_for(user: Any) -> Membership | None:
    """Return the first active membership of `user`, or None (anonymous or no membership)."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return None
    return first_active(memberships_of(user))


class ActorMiddleware:
    """
    Attach `request.actor` (a `Membership` or None) after authentication, and
    `request.requires_second_factor` (the rule of `requires_second_factor`, or a user
    who has an authenticator of its own choice). A session whose user's memberships, roles or
    flags differ from those at sign-in (`membership_fingerprint`) is ended: the request
    goes on signed out. One query for the memberships, none more.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        memberships = memberships_of(user) if user.is_authenticated else []
        if user.is_authenticated and request.session.get(
            FINGERPRINT_SESSION_KEY
        ) != membership_fingerprint(user, memberships):
            logout(request)
            memberships = []
        request.actor = first_active(memberships)  # type: ignore[attr-defined]
        request.requires_second_factor = requires_second_factor(  # type: ignore[attr-defined]
            request.user, memberships
        ) or bool(request.user.is_authenticated and request.session.get(HAS_DEVICE_SESSION_KEY))
        return self.get_response(request)


def second_factor_not_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view reachable before the second factor (sign-in, sign-out, the code pages)."""
    view.second_factor_not_required = True  # type: ignore[attr-defined]
    return view


class SecondFactorMiddleware:
    """
    Hold back a signed-in user who must use a second factor and has not entered a code
    in this session: pages marked `second_factor_not_required` work; public pages, the
    API and TAXII (which authenticate by token) see an anonymous visitor; every other
    page sends the user to enter a code or, without a confirmed device, to enroll one.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not getattr(request, "requires_second_factor", False) or is_verified(request):
            return self.get_response(request)
        try:
            match = resolve(request.path_info)
        except Resolver404:
            match = None
        view = match.func if match is not None else None
        if view is not None and getattr(view, "second_factor_not_required", False):
            return self.get_response(request)
        is_admin = match is not None and "admin" in match.app_names
        if view is None or (not getattr(view, "login_required", True) and not is_admin):
            request.user = AnonymousUser()
            request.actor = None  # type: ignore[attr-defined]
            return self.get_response(request)
        name = "accounts:verify" if has_confirmed_device(request.user) else "accounts:enroll"
        return redirect(f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}")
