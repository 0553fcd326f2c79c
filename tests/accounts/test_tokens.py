"""Personal API tokens: hashed at rest, revocable, shown once by the page and the command."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from csirtnet.accounts.models import ApiToken
from csirtnet.accounts.services import (
    authenticate_token,
    create_api_token,
    hash_token,
    revoke_api_token,
)
from tests.api.client import Api

pytestmark = pytest.mark.django_db

TOKENS = reverse("accounts:tokens")
TOKEN_RE = re.compile(r"cn_[A-Za-z0-9_-]{43}")


def test_token_is_stored_as_its_sha256_never_in_plain_text(owner):
    token, plaintext = create_api_token(user=owner.user, name="SIEM", read_only=False)
    row = ApiToken.objects.get(pk=token.pk)
    assert TOKEN_RE.fullmatch(plaintext)
    assert row.key_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert row.prefix == plaintext[:10]
    stored = [str(value) for value in ApiToken.objects.values_list().get(pk=token.pk)]
    assert not any(plaintext in value for value in stored)


def test_two_tokens_differ(owner):
    _first, one = create_api_token(user=owner.user, name="a", read_only=False)
    _second, two = create_api_token(user=owner.user, name="b", read_only=False)
    assert one != two


def test_token_authenticates_to_its_user(owner):
    token, plaintext = create_api_token(user=owner.user, name="SIEM", read_only=True)
    found = authenticate_token(plaintext)
    assert found == token
    assert found.user == owner.user
    assert found.is_read_only


def test_revoked_token_does_not_authenticate(owner):
    token, plaintext = create_api_token(user=owner.user, name="SIEM", read_only=False)
    revoke_api_token(user=owner.user, token=token)
    assert token.revoked_at is not None
    assert authenticate_token(plaintext) is None


def test_revoking_twice_keeps_the_first_time(owner):
    token, _plaintext = create_api_token(user=owner.user, name="SIEM", read_only=False)
    first = revoke_api_token(user=owner.user, token=token).revoked_at
    assert revoke_api_token(user=owner.user, token=token).revoked_at == first


def test_token_of_an_inactive_user_does_not_authenticate(owner):
    _token, plaintext = create_api_token(user=owner.user, name="SIEM", read_only=False)
    owner.user.is_active = False
    owner.user.save()
    assert authenticate_token(plaintext) is None


def test_unknown_empty_and_overlong_strings_do_not_authenticate(owner):
    _token, plaintext = create_api_token(user=owner.user, name="SIEM", read_only=False)
    assert authenticate_token(plaintext + "x") is None
    assert authenticate_token("") is None
    assert authenticate_token(plaintext + "x" * 300) is None
    assert authenticate_token(hash_token(plaintext)) is None


def test_last_used_at_is_written_at_most_once_a_minute(owner):
    token, plaintext = create_api_token(user=owner.user, name="SIEM", read_only=False)
    assert token.last_used_at is None
    recent = timezone.now() - timedelta(seconds=30)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=recent)
    authenticate_token(plaintext)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == recent
    old = timezone.now() - timedelta(minutes=2)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=old)
    authenticate_token(plaintext)
    assert ApiToken.objects.get(pk=token.pk).last_used_at > recent


def test_token_needs_a_name_of_1_to_100_characters(owner):
    for name in ["", "   ", "x" * 101]:
        with pytest.raises(ValidationError) as caught:
            create_api_token(user=owner.user, name=name, read_only=False)
        assert list(caught.value.message_dict) == ["name"]
    assert not ApiToken.objects.exists()


def test_inactive_user_gets_no_token(owner):
    owner.user.is_active = False
    with pytest.raises(PermissionDenied):
        create_api_token(user=owner.user, name="SIEM", read_only=False)


def test_only_the_owner_of_a_token_revokes_it(owner, outsider):
    token, plaintext = create_api_token(user=owner.user, name="SIEM", read_only=False)
    with pytest.raises(PermissionDenied):
        revoke_api_token(user=outsider.user, token=token)
    assert authenticate_token(plaintext) == token


# --- the page ------------------------------------------------------------------------


def test_tokens_page_needs_a_signed_in_user(client, directory):
    response = client.get(TOKENS)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_tokens_page_lists_the_users_tokens_only(client, owner, outsider):
    create_api_token(user=owner.user, name="Owner SIEM", read_only=True)
    create_api_token(user=outsider.user, name="Outsider SIEM", read_only=False)
    client.force_login(owner.user)
    response = client.get(TOKENS)
    assert response.status_code == 200
    assert [token.name for token in response.context["tokens"]] == ["Owner SIEM"]
    assert b"Owner SIEM" in response.content
    assert b"Outsider SIEM" not in response.content


def test_tokens_page_creates_a_token_and_shows_it_only_once(client, owner):
    client.force_login(owner.user)
    response = client.post(TOKENS, {"name": "Ticketing", "read_only": "on"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    (plaintext,) = TOKEN_RE.findall(response.content.decode())
    token = authenticate_token(plaintext)
    assert token.name == "Ticketing"
    assert token.is_read_only
    again = client.get(TOKENS)
    assert plaintext not in again.content.decode()
    assert token.prefix in again.content.decode()


def test_tokens_page_shows_why_a_token_was_not_created(client, owner):
    client.force_login(owner.user)
    response = client.post(TOKENS, {"name": ""})
    assert response.status_code == 400
    assert b"Give the token a name of 1 to 100 characters." in response.content
    assert not ApiToken.objects.exists()


def test_tokens_page_needs_the_csrf_token(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.user)
    assert client.post(TOKENS, {"name": "Ticketing"}).status_code == 403
    assert not ApiToken.objects.exists()


def test_revoke_button_revokes_the_token(client, owner):
    token, plaintext = create_api_token(user=owner.user, name="SIEM", read_only=False)
    client.force_login(owner.user)
    response = client.post(reverse("accounts:revoke_token", args=[token.uuid]))
    assert response.status_code == 302
    assert response["Location"] == TOKENS
    assert authenticate_token(plaintext) is None
    page = client.get(TOKENS)
    assert b"Revoked" in page.content


def test_revoking_another_users_token_answers_404(client, owner, outsider):
    token, plaintext = create_api_token(user=outsider.user, name="SIEM", read_only=False)
    client.force_login(owner.user)
    response = client.post(reverse("accounts:revoke_token", args=[token.uuid]))
    assert response.status_code == 404
    assert authenticate_token(plaintext) == token


def test_revoke_needs_a_post(client, owner):
    token, plaintext = create_api_token(user=owner.user, name="SIEM", read_only=False)
    client.force_login(owner.user)
    assert client.get(reverse("accounts:revoke_token", args=[token.uuid])).status_code == 405
    assert authenticate_token(plaintext) == token


# --- the command ---------------------------------------------------------------------


def test_create_token_command_prints_a_working_token_once(owner):
    out, err = StringIO(), StringIO()
    call_command("create_token", "owner", "--name", "SOAR", stdout=out, stderr=err)
    tokens = TOKEN_RE.findall(out.getvalue() + err.getvalue())
    assert len(tokens) == 1
    assert out.getvalue() == tokens[0] + "\n"
    assert "read-write API token 'SOAR' for owner created" in err.getvalue()
    assert ApiToken.objects.get().name == "SOAR"
    assert Api(tokens[0]).get("/incidents").status_code == 200


def test_create_token_command_makes_read_only_tokens(owner):
    out = StringIO()
    call_command("create_token", "owner", "--read-only", stdout=out, stderr=StringIO())
    token = authenticate_token(out.getvalue().strip())
    assert token.is_read_only
    assert token.name == "command line"


def test_create_token_command_refuses_unknown_and_inactive_users(owner):
    with pytest.raises(CommandError, match="No user 'nobody'"):
        call_command("create_token", "nobody", stdout=StringIO(), stderr=StringIO())
    owner.user.is_active = False
    owner.user.save()
    with pytest.raises(CommandError, match="not active"):
        call_command("create_token", "owner", stdout=StringIO(), stderr=StringIO())
    assert not ApiToken.objects.exists()
