"""
A small OpenID Connect provider on 127.0.0.1 for tests, with Keycloak's paths: discovery,
JWKS, an authorization endpoint that redirects back with a code at once, a token endpoint
that checks the code, client secret and PKCE verifier and issues an RS256 ID token, and
UserInfo. Each test says what the next ID token says (or how it is wrong).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

CLIENT_ID = "csirtnet"
CLIENT_SECRET = "test-client-secret"
REALM = "/realms/csirtnet"
OIDC = REALM + "/protocol/openid-connect"


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Provider:
    """The provider's state: its key, the codes it issued and what the next token says."""

    base_url: str = ""
    key: rsa.RSAPrivateKey = field(default_factory=_new_key)
    kid: str = "test-key-1"
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    subject: str = "user-1"
    email: str = ""
    email_verified: bool = True
    claims: dict[str, Any] = field(default_factory=dict)  # override or add ID token claims
    signing_key: rsa.RSAPrivateKey | None = None  # sign with another key than published
    token_requests: list[dict[str, str]] = field(default_factory=list)

    @property
    def issuer(self) -> str:
        """The issuer identifier: the realm's URL."""
        return self.base_url + REALM

    def settings(self) -> dict[str, Any]:
        """The Django settings that point csirtnet at this provider."""
        return {
            "CSIRTNET_OIDC_ISSUER": self.issuer,
            "CSIRTNET_OIDC_PROVIDER_NAME": "Keycloak (test)",
            "OIDC_RP_CLIENT_ID": CLIENT_ID,
            "OIDC_RP_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_OP_AUTHORIZATION_ENDPOINT": self.base_url + OIDC + "/auth",
            "OIDC_OP_TOKEN_ENDPOINT": self.base_url + OIDC + "/token",
            "OIDC_OP_USER_ENDPOINT": self.base_url + OIDC + "/userinfo",
            "OIDC_OP_JWKS_ENDPOINT": self.base_url + OIDC + "/certs",
        }

    def jwks(self) -> dict[str, Any]:
        """The published key set (RFC 7517)."""
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def id_token(self, nonce: str) -> str:
        """Sign the next ID token (RS256) with the claims the test asked for."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": self.subject,
            "aud": CLIENT_ID,
            "exp": now + 300,
            "iat": now,
            "nonce": nonce,
            "email": self.email,
            "email_verified": self.email_verified,
            **self.claims,
        }
        claims = {name: value for name, value in claims.items() if value is not None}
        key = self.signing_key or self.key
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": self.kid})


class _Handler(BaseHTTPRequestHandler):
    provider: Provider

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        """Keep the test output quiet."""

    def _json(self, body: dict[str, Any], status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - the base class's name
        """Discovery, JWKS, UserInfo and the authorization endpoint."""
        provider = self.provider
        url = urlsplit(self.path)
        if url.path == REALM + "/.well-known/openid-configuration":
            self._json(
                {
                    "issuer": provider.issuer,
                    "authorization_endpoint": provider.base_url + OIDC + "/auth",
                    "token_endpoint": provider.base_url + OIDC + "/token",
                    "userinfo_endpoint": provider.base_url + OIDC + "/userinfo",
                    "jwks_uri": provider.base_url + OIDC + "/certs",
                    "id_token_signing_alg_values_supported": ["RS256"],
                }
            )
        elif url.path == OIDC + "/certs":
            self._json(provider.jwks())
        elif url.path == OIDC + "/userinfo":
            expected = f"Bearer access-{provider.subject}"
            if self.headers.get("Authorization") != expected:
                self._json({"error": "invalid_token"}, 401)
                return
            info = {"sub": provider.subject, "email": provider.email}
            self._json({**info, "email_verified": provider.email_verified})
        elif url.path == OIDC + "/auth":
            query = {name: values[0] for name, values in parse_qs(url.query).items()}
            code = secrets.token_urlsafe(16)
            provider.codes[code] = query
            target = (
                query["redirect_uri"] + "?" + urlencode({"code": code, "state": query["state"]})
            )
            self.send_response(302)
            self.send_header("Location", target)
            self.end_headers()
        else:
            self._json({"error": "not_found"}, 404)

    def do_POST(self) -> None:  # noqa: N802 - the base class's name
        """The token endpoint (RFC 6749, section 4.1.3; PKCE, RFC 7636 section 4.6)."""
        provider = self.provider
        if urlsplit(self.path).path != OIDC + "/token":
            self._json({"error": "not_found"}, 404)
            return
        length = int(self.headers.get("Content-Length", "0"))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        provider.token_requests.append(form)
        request = provider.codes.pop(form.get("code", ""), None)
        if (
            request is None
            or form.get("client_id") != CLIENT_ID
            or form.get("client_secret") != CLIENT_SECRET
            or form.get("redirect_uri") != request["redirect_uri"]
            or _challenge(form.get("code_verifier", "")) != request.get("code_challenge")
        ):
            self._json({"error": "invalid_grant"}, 400)
            return
        self._json(
            {
                "access_token": f"access-{provider.subject}",
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": provider.id_token(request.get("nonce", "")),
            }
        )


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@contextmanager
def running_provider() -> Iterator[Provider]:
    """Run a provider on a free port of 127.0.0.1 until the block ends."""
    provider = Provider()
    handler = type("Handler", (_Handler,), {"provider": provider})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    provider.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
