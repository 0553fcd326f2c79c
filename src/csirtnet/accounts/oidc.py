"""
Sign-in with the network's identity provider by OpenID Connect (Core 1.0, authorization
code flow, section 3.1) on mozilla-django-oidc: users are matched by verified e-mail to
existing accounts, never created; the only host contacted is the configured issuer's.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from csirtnet.accounts.second_factor import mark_verified_by_provider

logger = logging.getLogger(__name__)

CLOCK_SKEW_SECONDS = 60  # tolerated between the provider's clock and ours (exp, iat, nbf)
REQUIRED_CLAIMS = ["iss", "sub", "aud", "exp", "iat"]  # OpenID Connect Core 1.0, section 2


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()


class IssuerOnlySession(requests.Session):
    """
    An HTTP session that refuses any request, redirects included, to another origin
    (scheme, host and port) than the issuer's: the ID token's keys and the user's
    claims come from the issuer or from nowhere.
    """

    def __init__(self, issuer: str) -> None:
        super().__init__()
        self.origin = _origin(issuer)
        self.max_redirects = 0

    def send(self, request: Any, **kwargs: Any) -> requests.Response:
        """Send `request` when it goes to the issuer's origin.

        Raises:
            SuspiciousOperation: it goes anywhere else.
        """
        if _origin(str(request.url)) != self.origin:
            raise SuspiciousOperation("OpenID Connect request outside the issuer's origin.")
        return super().send(request, **kwargs)


class NetworkOIDCBackend(OIDCAuthenticationBackend):  # type: ignore[misc]
    """
    Authenticate by the ID token of the configured issuer: RS256 signature by a key of
    the issuer's JWKS, `iss` equal to `CSIRTNET_OIDC_ISSUER`, `aud` containing our
    client id, `exp`/`iat` current, `nonce` the one we sent (OpenID Connect Core 1.0,
    section 3.1.3.7). The user is the one active account whose e-mail equals the
    provider's `email` claim with `email_verified` true; no account is ever created.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.issuer = settings.CSIRTNET_OIDC_ISSUER
        endpoints = [self.OIDC_OP_TOKEN_ENDPOINT, self.OIDC_OP_USER_ENDPOINT]
        endpoints += [self.OIDC_OP_JWKS_ENDPOINT, settings.OIDC_OP_AUTHORIZATION_ENDPOINT]
        if any(_origin(url) != _origin(self.issuer) for url in endpoints):
            raise ImproperlyConfigured("Every OpenID Connect endpoint must be on the issuer.")
        self.http = IssuerOnlySession(self.issuer)

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> Any:
        """
        Return the user the provider's answer names, or None (the refusal page) when
        the ID token or the answers are refused or the provider cannot be reached.
        """
        try:
            return super().authenticate(request, **kwargs)
        except (SuspiciousOperation, requests.RequestException) as error:
            logger.warning("OpenID Connect sign-in refused: %s", error)
            return None

    def _request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        response = self.http.request(
            method, url, timeout=settings.OIDC_TIMEOUT, allow_redirects=False, **kwargs
        )
        response.raise_for_status()
        return response

    def get_token(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Exchange the code at the token endpoint (Core 1.0, section 3.1.3.1)."""
        answer: dict[str, Any] = self._request(
            "POST", self.OIDC_OP_TOKEN_ENDPOINT, data=payload
        ).json()
        return answer

    def retrieve_matching_jwk(self, token: str) -> jwt.PyJWK:
        """
        Return the issuer's key (JWKS, RFC 7517) named by the token's `kid`, for RS256.

        Raises:
            SuspiciousOperation: no such key.
        """
        keys = self._request("GET", self.OIDC_OP_JWKS_ENDPOINT).json().get("keys", [])
        header = jwt.get_unverified_header(token)
        for key in keys:
            if key.get("kid") == header.get("kid") and key.get("alg", "RS256") == "RS256":
                return jwt.PyJWK(key)
        raise SuspiciousOperation("The ID token's key is not in the issuer's key set.")

    def get_payload_data(self, token: str, key: Any) -> dict[str, Any]:
        """
        Return the verified claims of the ID token (Core 1.0, section 3.1.3.7).

        Raises:
            SuspiciousOperation: bad signature or algorithm, wrong issuer or audience,
                expired, or a required claim missing.
        """
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=self.issuer,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.InvalidTokenError as error:
            raise SuspiciousOperation(f"ID token refused: {error}") from error
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.OIDC_RP_CLIENT_ID:
            raise SuspiciousOperation("ID token refused: it was issued to another party.")
        return claims

    def get_userinfo(
        self, access_token: str, id_token: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """
        Return the claims of the ID token with those of the UserInfo endpoint (Core 1.0,
        section 5.3), whose `sub` must be the ID token's (section 5.3.2).

        Raises:
            SuspiciousOperation: the two `sub` differ.
        """
        headers = {"Authorization": f"Bearer {access_token}"}
        info: dict[str, Any] = self._request(
            "GET", self.OIDC_OP_USER_ENDPOINT, headers=headers
        ).json()
        if info.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("UserInfo is about another subject than the ID token.")
        self.request.csirtnet_oidc_mfa = asserts_mfa(payload)
        return {**payload, **info}

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        """Return True when the provider vouches for the e-mail (`email_verified`)."""
        return bool(claims.get("email")) and claims.get("email_verified") is True

    def filter_users_by_claims(self, claims: dict[str, Any]) -> QuerySet[Any]:
        """Return the active accounts with that e-mail (case-insensitive)."""
        return get_user_model().objects.filter(email__iexact=claims["email"], is_active=True)


def asserts_mfa(claims: dict[str, Any]) -> bool:
    """
    Return True when the ID token says the provider checked a second factor: an `amr`
    value (RFC 8176) in `CSIRTNET_OIDC_MFA_AMR` or an `acr` in `CSIRTNET_OIDC_MFA_ACR`
    (OpenID Connect Core 1.0, section 2).
    """
    amr = claims.get("amr") or []
    methods = set(amr) if isinstance(amr, list) else set()
    return bool(methods & set(settings.CSIRTNET_OIDC_MFA_AMR)) or (
        claims.get("acr") in set(settings.CSIRTNET_OIDC_MFA_ACR)
    )


class CallbackView(OIDCAuthenticationCallbackView):  # type: ignore[misc]
    """
    The provider's redirect back (`code`, `state`): signs the user in, past the second
    factor when the provider asserted one (`asserts_mfa`); any failure, including an
    e-mail that matches no account, goes to the refusal page.
    """

    @property
    def failure_url(self) -> str:
        """The page that says why the provider's sign-in was refused."""
        return reverse("accounts:oidc_refused")

    def login_success(self) -> HttpResponse:
        """Sign the user in; skip the TOTP code when the provider checked a second factor."""
        response: HttpResponse = super().login_success()
        request: HttpRequest = self.request
        if getattr(request, "csirtnet_oidc_mfa", False):
            mark_verified_by_provider(request)
        return response


def start(request: HttpRequest) -> HttpResponse:
    """
    Send the visitor to the provider's authorization endpoint with a new `state`, `nonce`
    and PKCE challenge kept in the session (Core 1.0, section 3.1.2.1); 404 when
    OpenID Connect is not configured.
    """
    if not settings.CSIRTNET_OIDC_ISSUER:
        raise Http404
    response: HttpResponse = OIDCAuthenticationRequestView.as_view()(request)
    return response


def callback(request: HttpRequest) -> HttpResponse:
    """The provider's redirect back (`CallbackView`); 404 when not configured."""
    if not settings.CSIRTNET_OIDC_ISSUER:
        raise Http404
    response: HttpResponse = CallbackView.as_view()(request)
    return response
