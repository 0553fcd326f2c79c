"""Sign-in throttling: a username locks after N failures, a client address after 4 × N."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tests.accounts.helpers import sign_in

pytestmark = pytest.mark.django_db

INBOX = reverse("reports:inbox")


@pytest.fixture(autouse=True)
def _limit(settings):  # type: ignore[no-untyped-def]
    """The default limit of 5 failures a username (20 an address)."""
    settings.CSIRTNET_LOGIN_FAILURE_LIMIT = 5
    settings.AXES_FAILURE_LIMIT = 5


def _fail(client: Client, username: str, times: int, **extra):  # type: ignore[no-untyped-def]
    answers = [sign_in(client, username, "wrong-password", **extra) for _ in range(times)]
    return answers[-1]


def test_wrong_password_answers_the_form_again(owner):
    answer = _fail(Client(), "owner", 1)
    assert answer.status_code == 200
    assert b"Please enter a correct username and password" in answer.content


def test_five_failures_lock_the_username_with_a_translated_429_page(owner):
    client = Client()
    answer = _fail(client, "owner", 5)
    assert answer.status_code == 429
    assert b"Too many failed sign-ins" in answer.content
    assert sign_in(client, "owner").status_code == 429  # even with the right password
    spanish = sign_in(Client(), "owner", HTTP_ACCEPT_LANGUAGE="es")
    assert spanish.status_code == 429
    assert spanish["Content-Language"] == "es"


def test_a_locked_username_is_locked_from_another_address_too(owner):
    _fail(Client(), "owner", 5, REMOTE_ADDR="192.0.2.1")
    assert sign_in(Client(), "owner", REMOTE_ADDR="198.51.100.9").status_code == 429


def test_four_failures_then_the_right_password_resets_the_count(owner):
    client = Client()
    _fail(client, "owner", 4)
    assert sign_in(client, "owner").status_code == 302
    client.post(reverse("logout"))
    assert _fail(client, "owner", 4).status_code == 200
    assert sign_in(client, "owner").status_code == 302


def test_twenty_failures_over_many_usernames_lock_the_address(owner):
    for index in range(20):
        _fail(Client(), f"nobody{index}", 1, REMOTE_ADDR="203.0.113.7")
    assert sign_in(Client(), "owner", REMOTE_ADDR="203.0.113.7").status_code == 429
    assert sign_in(Client(), "owner", REMOTE_ADDR="203.0.113.8").status_code == 302


def test_nineteen_failures_of_an_address_do_not_lock_it(owner):
    for index in range(19):
        _fail(Client(), f"nobody{index}", 1, REMOTE_ADDR="203.0.113.7")
    assert sign_in(Client(), "owner", REMOTE_ADDR="203.0.113.7").status_code == 302


def test_a_success_does_not_reset_the_address_count_of_other_usernames(owner):
    for index in range(19):
        _fail(Client(), f"nobody{index}", 1, REMOTE_ADDR="203.0.113.7")
    assert sign_in(Client(), "owner", REMOTE_ADDR="203.0.113.7").status_code == 302
    _fail(Client(), "nobody-else", 1, REMOTE_ADDR="203.0.113.7")
    assert sign_in(Client(), "owner", REMOTE_ADDR="203.0.113.7").status_code == 429


def test_the_proxy_header_is_ignored_unless_configured(owner):
    for index in range(20):
        _fail(
            Client(),
            f"nobody{index}",
            1,
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{index}",
        )
    assert sign_in(Client(), "owner", REMOTE_ADDR="10.0.0.1").status_code == 429


def test_the_configured_proxy_header_gives_the_client_address(owner, settings):
    settings.CSIRTNET_CLIENT_IP_HEADER = "X-Forwarded-For"
    for index in range(20):
        _fail(
            Client(),
            f"nobody{index}",
            1,
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7",
        )
    proxied = {"REMOTE_ADDR": "10.0.0.1"}
    assert (
        sign_in(Client(), "owner", HTTP_X_FORWARDED_FOR="203.0.113.7", **proxied).status_code
        == 429
    )
    assert (
        sign_in(Client(), "owner", HTTP_X_FORWARDED_FOR="203.0.113.8", **proxied).status_code
        == 302
    )


def test_the_lockout_ends_after_the_cool_off(owner, settings):
    from datetime import timedelta

    from axes.models import AccessAttempt

    _fail(Client(), "owner", 5)
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(hours=1)
    )
    assert sign_in(Client(), "owner").status_code == 302


def test_api_tokens_are_not_throttled_by_sign_in_failures(owner):
    from tests.api.client import Api, token_for

    token = token_for(owner)
    _fail(Client(), "owner", 5)
    assert Api(token).get("/incidents").status_code == 200
    assert get_user_model().objects.get(username="owner").is_active
