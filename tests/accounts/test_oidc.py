"""
Sign-in with the network's identity provider (OpenID Connect Core 1.0, code flow) against
a provider run by the test on 127.0.0.1: who is signed in, and every token refused.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import SESSION_KEY, get_user_model
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.test import Client
from django.urls import reverse

from csirtnet.accounts.oidc import IssuerOnlySession, NetworkOIDCBackend
from tests.accounts.helpers import ENROLL, VERIFY, confirmed_device
from tests.accounts.oidc_provider import CLIENT_ID, Provider, running_provider

pytestmark = pytest.mark.django_db

INBOX = reverse("reports:inbox")
START = reverse("accounts:oidc_start")
REFUSED = reverse("accounts:oidc_refused")


@pytest.fixture
def provider(settings) -> Iterator[Provider]:  # type: ignore[no-untyped-def]
    """A running provider, and csirtnet configured to use it."""
    with running_provider() as running:
        for name, value in running.settings().items():
            setattr(settings, name, value)
        settings.AUTHENTICATION_BACKENDS = [
            *settings.AUTHENTICATION_BACKENDS,
            "csirtnet.accounts.oidc.NetworkOIDCBackend",
        ]
        yield running


@pytest.fixture
def alice(owner):  # type: ignore[no-untyped-def]
    """The owner fixture's user, with the e-mail the provider will vouch for."""
    owner.user.email = "alice@certuy.example"
    owner.user.save()
    return owner


def _sign_in_with_provider(client: Client, provider: Provider, **callback_changes: str):  # type: ignore[no-untyped-def]
    """Start, let the provider redirect back at once, and follow to the callback."""
    start = client.get(START, {"next": INBOX})
    assert start.status_code == 302
    authorize = start["Location"]
    assert authorize.startswith(provider.settings()["OIDC_OP_AUTHORIZATION_ENDPOINT"])
    answer = requests.get(authorize, allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    back = urlsplit(answer.headers["Location"])
    query = {name: values[0] for name, values in parse_qs(back.query).items()}
    query.update(callback_changes)
    return client.get(back.path, query)


def _signed_in_user(client: Client):  # type: ignore[no-untyped-def]
    user_id = client.session.get(SESSION_KEY)
    return get_user_model().objects.get(pk=user_id) if user_id else None


def test_the_login_page_offers_the_provider_only_when_configured(directory, settings):
    assert b"Sign in with" not in Client().get(reverse("login")).content
    assert Client().get(START).status_code == 404
    with running_provider() as running:
        for name, value in running.settings().items():
            setattr(settings, name, value)
        page = Client().get(reverse("login")).content.decode()
    assert "Sign in with Keycloak (test)" in page
    assert START in page


def test_the_authorization_request_carries_state_nonce_and_pkce(provider, directory):
    start = Client().get(START)
    query = parse_qs(urlsplit(start["Location"]).query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["response_type"] == ["code"]
    assert "openid" in query["scope"][0].split()
    assert len(query["state"][0]) >= 32
    assert len(query["nonce"][0]) >= 32
    assert query["code_challenge_method"] == ["S256"]


def test_a_verified_email_signs_in_its_account(provider, alice, outsider):
    provider.email = "Alice@CERTuy.example"
    client = Client()
    answer = _sign_in_with_provider(client, provider)
    assert answer.status_code == 302
    assert answer["Location"] == INBOX
    assert _signed_in_user(client) == alice.user
    assert client.get(INBOX).status_code == 200
    assert provider.token_requests[0]["client_secret"] == "test-client-secret"


def test_an_unknown_email_gets_the_refusal_page_and_no_account(provider, alice):
    provider.email = "mallory@elsewhere.example"
    client = Client()
    answer = _sign_in_with_provider(client, provider)
    assert answer["Location"] == REFUSED
    assert _signed_in_user(client) is None
    refusal = client.get(REFUSED)
    assert refusal.status_code == 403
    assert b"Accounts are not created by signing in" in refusal.content
    assert not get_user_model().objects.filter(email="mallory@elsewhere.example").exists()


def test_an_unverified_email_is_refused(provider, alice):
    provider.email = "alice@certuy.example"
    provider.email_verified = False
    client = Client()
    assert _sign_in_with_provider(client, provider)["Location"] == REFUSED
    assert _signed_in_user(client) is None


def test_an_inactive_account_is_refused(provider, alice):
    provider.email = "alice@certuy.example"
    get_user_model().objects.filter(pk=alice.user.pk).update(is_active=False)
    client = Client()
    assert _sign_in_with_provider(client, provider)["Location"] == REFUSED


@pytest.mark.parametrize(
    "wrong",
    [
        {"iss": "http://127.0.0.1:1/realms/other"},
        {"aud": "another-client"},
        {"aud": [CLIENT_ID, "another-client"]},  # several audiences and no azp
        {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200},
        {"nonce": "not-the-nonce-we-sent"},
        {"exp": None},
    ],
    ids=["issuer", "audience", "audiences-without-azp", "expired", "nonce", "no-exp"],
)
def test_a_wrong_id_token_is_refused(provider, alice, wrong):
    provider.email = "alice@certuy.example"
    provider.claims = wrong
    client = Client()
    answer = _sign_in_with_provider(client, provider)
    assert answer["Location"] == REFUSED
    assert _signed_in_user(client) is None


def test_an_id_token_signed_by_another_key_is_refused(provider, alice):
    provider.email = "alice@certuy.example"
    provider.signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    client = Client()
    assert _sign_in_with_provider(client, provider)["Location"] == REFUSED
    assert _signed_in_user(client) is None


def test_an_unreachable_provider_is_a_refusal_not_an_error(provider, alice, settings):
    settings.OIDC_OP_TOKEN_ENDPOINT = provider.base_url + "/no-such-endpoint"
    provider.email = "alice@certuy.example"
    client = Client()
    assert _sign_in_with_provider(client, provider)["Location"] == REFUSED


def test_an_unknown_state_is_refused(provider, alice):
    provider.email = "alice@certuy.example"
    client = Client()
    answer = _sign_in_with_provider(client, provider, state="forged-state")
    assert answer.status_code == 400
    assert _signed_in_user(client) is None


def test_a_code_is_exchanged_once(provider, alice):
    provider.email = "alice@certuy.example"
    client = Client()
    start = client.get(START)
    back = urlsplit(
        requests.get(start["Location"], allow_redirects=False, timeout=10).headers["Location"]
    )
    assert client.get(back.path + "?" + back.query)["Location"] == INBOX
    replay = client.get(back.path + "?" + back.query)  # its state was used up: 400
    assert replay.status_code == 400


def test_the_secretariat_still_needs_its_code_without_mfa_from_the_provider(
    provider, secretariat_member
):
    secretariat_member.user.email = "ops@cicte.example"
    secretariat_member.user.save()
    confirmed_device(secretariat_member.user)
    provider.email = "ops@cicte.example"
    provider.claims = {"amr": ["pwd"]}
    client = Client()
    _sign_in_with_provider(client, provider)
    assert _signed_in_user(client) == secretariat_member.user
    assert client.get(INBOX)["Location"].split("?")[0] == VERIFY


def test_mfa_asserted_by_the_provider_replaces_the_code(provider, secretariat_member):
    secretariat_member.user.email = "ops@cicte.example"
    secretariat_member.user.save()
    provider.email = "ops@cicte.example"
    provider.claims = {"amr": ["pwd", "otp"]}
    client = Client()
    _sign_in_with_provider(client, provider)
    assert client.get(INBOX).status_code == 200
    assert client.get(ENROLL).status_code == 200  # may still add an authenticator here


def test_endpoints_off_the_issuer_are_a_configuration_error(provider, settings):
    settings.OIDC_OP_JWKS_ENDPOINT = "https://keys.elsewhere.example/certs"
    with pytest.raises(ImproperlyConfigured):
        NetworkOIDCBackend()


def test_the_http_session_talks_only_to_the_issuer(provider):
    session = IssuerOnlySession(provider.issuer)
    assert session.get(provider.issuer + "/.well-known/openid-configuration", timeout=10).ok
    with pytest.raises(SuspiciousOperation):
        session.get("http://localhost:1/elsewhere", timeout=10)
