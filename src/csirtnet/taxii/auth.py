"""
Authentication of TAXII 2.1 clients by personal API token (OASIS TAXII 2.1, section
1.6.6): `Authorization: Bearer <token>` as the JSON API, or HTTP Basic with any user
name and the token as password, which most TAXII clients send.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from django.http import HttpRequest
from django.utils.translation import gettext as _

from csirtnet.accounts.middleware import actor_for
from csirtnet.accounts.models import ApiToken, Membership
from csirtnet.accounts.services import authenticate_token
from csirtnet.taxii.envelopes import TaxiiError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})  # RFC 9110, section 9.2.1


@dataclass(frozen=True)
class Requester:
    """Who calls: `actor` (None for an anonymous client) and whether it may write."""

    actor: Membership | None
    can_write: bool

    @property
    def is_anonymous(self) -> bool:
        """Return True when the request carried no credentials."""
        return self.actor is None


ANONYMOUS = Requester(actor=None, can_write=False)


def authenticate(request: HttpRequest) -> Requester:
    """
    Return the requester of `request`: anonymous without an `Authorization` header,
    else the first active membership of the token's user (STYLE §5). Sets
    `request.actor` and `request.user`. Session cookies are not read.

    Raises:
        TaxiiError: 401 for an unknown, revoked or malformed credential; 403 when the
            token's user acts for no organization.
    """
    header = request.headers.get("Authorization", "")
    if not header.strip():
        return ANONYMOUS
    api_token = authenticate_token(_token_of(header))
    if api_token is None:
        raise TaxiiError(401, _("Unauthorized"), _("Send a valid API token."))
    actor = actor_for(api_token.user)
    if actor is None:
        raise TaxiiError(
            403,
            _("Forbidden"),
            _("The token's user is not an active member of any organization."),
        )
    request.user = api_token.user
    request.actor = actor  # type: ignore[attr-defined]
    return Requester(actor=actor, can_write=_can_write(api_token))


def require_write(request: HttpRequest, requester: Requester) -> None:
    """
    Refuse a write by an anonymous client (401) or with a read-only token (403).

    Raises:
        TaxiiError: as above.
    """
    if requester.is_anonymous:
        raise TaxiiError(401, _("Unauthorized"), _("Send a valid API token."))
    if not requester.can_write:
        raise TaxiiError(403, _("Forbidden"), _("This token is read-only."))


def _can_write(api_token: ApiToken) -> bool:
    return not api_token.is_read_only


def _token_of(header: str) -> str:
    scheme, _sep, credentials = header.strip().partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return decoded.partition(":")[2]
    return ""
