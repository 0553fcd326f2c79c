"""Token authentication of the JSON API: `Authorization: Bearer <token>` (RFC 6750)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import HttpBearer

from csirtnet.accounts.middleware import actor_for
from csirtnet.accounts.models import ApiToken
from csirtnet.accounts.services import authenticate_token
from csirtnet.api.errors import NO_MEMBERSHIP, READ_ONLY, ApiError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})  # RFC 9110, section 9.2.1


class TokenAuth(HttpBearer):
    """
    Authenticate a request by a personal API token (RFC 6750, section 2.1) and set
    `request.actor` to the first active membership of its user (STYLE §5) and
    `request.user` to that user. Session cookies are not read: tokens only, so no CSRF.
    """

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        """
        Return the token, or None (answered 401) when it is unknown or revoked or its
        user is inactive.

        Raises:
            ApiError: 403 `read_only_token` for a read-only token on a method that
                writes; 403 `no_membership` when the user acts for no organization.
        """
        api_token = authenticate_token(token.strip())
        if api_token is None:
            return None
        if api_token.is_read_only and request.method not in SAFE_METHODS:
            raise ApiError(403, READ_ONLY, _("This token is read-only."))
        actor = actor_for(api_token.user)
        if actor is None:
            raise ApiError(
                403,
                NO_MEMBERSHIP,
                _("The token's user is not an active member of any organization."),
            )
        request.user = api_token.user
        request.actor = actor  # type: ignore[attr-defined]
        return api_token
