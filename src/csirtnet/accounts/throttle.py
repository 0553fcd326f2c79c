"""
Sign-in throttling on django-axes: failures lock a username after the limit and a client
address after four times the limit; a successful sign-in clears its username's count.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.http import HttpRequest


class SignInThrottle(AxesDatabaseHandler):  # type: ignore[misc]
    """
    Count failed sign-ins per username and per client address (`AXES_LOCKOUT_PARAMETERS`
    is `["username", "ip_address"]`, in that order) within `AXES_COOLOFF_TIME`.
    """

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        """
        Return the failures to compare with `AXES_FAILURE_LIMIT` (N): those of the
        username, or those of the address divided by `CSIRTNET_LOGIN_ADDRESS_FACTOR`
        (rounded down), whichever is larger; so N failures lock a username and
        N × factor failures, over any usernames, lock an address.
        """
        by_username, by_address = (
            attempts.values_list("failures_since_start", flat=True)
            for attempts in self.get_user_attempts(request, credentials)
        )
        factor = int(settings.CSIRTNET_LOGIN_ADDRESS_FACTOR)
        return max(int(sum(by_username)), int(sum(by_address)) // factor)

    def reset_user_attempts(
        self, request: HttpRequest, credentials: dict[str, Any] | None = None
    ) -> int:
        """
        Forget the failures of the username that just signed in, not those of its
        address with other usernames (one good password must not unlock an address).
        """
        username = get_client_username(request, credentials)
        count, _rows = AccessAttempt.objects.filter(username=username).delete()
        return int(count)


def client_address(request: HttpRequest) -> str:
    """
    Return the client's IP address: `REMOTE_ADDR`, or, when `CSIRTNET_CLIENT_IP_HEADER`
    names a header set by the trusted reverse proxy in front, the last address in that
    header (a proxy appends what it saw to X-Forwarded-For, RFC 7239 section 5.2 alike).
    A missing or malformed header value falls back to `REMOTE_ADDR`.
    """
    remote = str(request.META.get("REMOTE_ADDR", ""))
    header = settings.CSIRTNET_CLIENT_IP_HEADER
    if not header:
        return remote
    value = request.headers.get(header, "")
    candidate = value.split(",")[-1].strip()
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
