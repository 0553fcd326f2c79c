"""Disabling a user or changing a membership ends its sessions and API tokens at once."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from csirtnet.accounts.models import ApiToken, Membership, Role, UserSession
from csirtnet.accounts.services import change_membership, disable_user, end_sessions
from tests.accounts.helpers import LOGIN, sign_in_fully
from tests.api.client import Api, token_for

pytestmark = pytest.mark.django_db

INBOX = reverse("reports:inbox")


def _signed_out(response) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code == 302 and response["Location"].startswith(LOGIN)


@pytest.fixture
def superuser(directory):  # type: ignore[no-untyped-def]
    """A superuser who acts in the admin (past the second factor: `force_login`)."""
    user = get_user_model().objects.create_superuser("root", "root@example.org", "pw-root")
    client = Client()
    client.force_login(user)
    return client


def test_sign_in_records_the_session(owner):
    client = sign_in_fully(Client(), "owner")
    record = UserSession.objects.get(user=owner.user)
    assert record.session_key == client.session.session_key
    assert client.get(INBOX).status_code == 200


def test_end_sessions_signs_out_every_browser_and_revokes_tokens(owner):
    first, second = sign_in_fully(Client(), "owner"), sign_in_fully(Client(), "owner")
    token = token_for(owner)
    assert end_sessions(user=owner.user) == 3
    assert _signed_out(first.get(INBOX))
    assert _signed_out(second.get(INBOX))
    assert not Session.objects.exists()
    assert Api(token).get("/incidents").status_code == 401
    assert ApiToken.objects.get().revoked_at is not None


def test_disable_user_service_signs_out_and_its_token_answers_401(owner, superuser):
    client = sign_in_fully(Client(), "owner")
    token = token_for(owner)
    admin_user = get_user_model().objects.get(username="root")
    disable_user(by=admin_user, user=owner.user)
    assert _signed_out(client.get(INBOX))
    assert Api(token).get("/incidents").status_code == 401


def test_disable_user_needs_the_change_user_permission(owner, outsider):
    with pytest.raises(PermissionDenied):
        disable_user(by=outsider.user, user=owner.user)
    owner.user.refresh_from_db()
    assert owner.user.is_active


def test_change_membership_service_signs_out_and_revokes_tokens(owner, superuser):
    client = sign_in_fully(Client(), "owner")
    token = token_for(owner)
    admin_user = get_user_model().objects.get(username="root")
    change_membership(by=admin_user, membership=owner, role=Role.ADMIN)
    assert _signed_out(client.get(INBOX))
    assert Api(token).get("/incidents").status_code == 401


def test_change_membership_is_for_superusers_only(owner, outsider):
    with pytest.raises(PermissionDenied):
        change_membership(by=outsider.user, membership=owner, role=Role.ADMIN)


def test_disabling_a_user_in_the_admin_signs_it_out_at_once(owner, superuser):
    client = sign_in_fully(Client(), "owner")
    token = token_for(owner)
    url = reverse("admin:auth_user_change", args=[owner.user.pk])
    form = superuser.get(url).context["adminform"].form
    data = {key: value for key, value in form.initial.items() if value is not None}
    data.update(username="owner", is_active="", date_joined_0="2025-01-01")
    data.update(date_joined_1="00:00:00", last_login_0="", last_login_1="")
    data.pop("groups", None)
    data.pop("user_permissions", None)
    data.pop("password", None)
    answer = superuser.post(url, data)
    assert answer.status_code == 302, answer.context["adminform"].form.errors
    assert _signed_out(client.get(INBOX))
    assert Api(token).get("/incidents").status_code == 401


def test_changing_a_role_in_the_admin_signs_the_member_out_at_once(owner, superuser):
    client = sign_in_fully(Client(), "owner")
    token = token_for(owner)
    url = reverse("admin:accounts_membership_change", args=[owner.pk])
    data = {
        "user": owner.user_id,
        "organization": owner.organization_id,
        "role": Role.ADMIN,
        "is_active": "on",
    }
    answer = superuser.post(url, data)
    assert answer.status_code == 302
    assert Membership.objects.get(pk=owner.pk).role == Role.ADMIN
    assert _signed_out(client.get(INBOX))
    assert Api(token).get("/incidents").status_code == 401


def test_a_role_changed_in_the_database_ends_the_session_on_the_next_request(owner):
    client = sign_in_fully(Client(), "owner")
    assert client.get(INBOX).status_code == 200
    Membership.objects.filter(pk=owner.pk).update(role=Role.LAW_ENFORCEMENT)
    assert _signed_out(client.get(INBOX))
    assert _signed_out(client.get(INBOX))  # and stays signed out


def test_a_membership_added_in_the_database_ends_the_session(owner, directory):
    from csirtnet.directory.models import Organization

    client = sign_in_fully(Client(), "owner")
    Membership.objects.create(
        user=owner.user, organization=Organization.objects.get(short_name="CERT.ar")
    )
    assert _signed_out(client.get(INBOX))


def test_a_membership_deactivated_in_the_database_ends_session_and_token(owner):
    client = sign_in_fully(Client(), "owner")
    token = token_for(owner)
    Membership.objects.filter(pk=owner.pk).update(is_active=False)
    assert _signed_out(client.get(INBOX))
    assert Api(token).get("/incidents").status_code == 403  # no_membership: refused


def test_a_user_disabled_in_the_database_is_signed_out_and_its_token_refused(owner):
    client = sign_in_fully(Client(), "owner")
    token = token_for(owner)
    get_user_model().objects.filter(pk=owner.user.pk).update(is_active=False)
    assert _signed_out(client.get(INBOX))
    assert Api(token).get("/incidents").status_code == 401


def test_a_session_from_before_fingerprints_is_ended(owner):
    client = sign_in_fully(Client(), "owner")
    session = client.session
    del session["csirtnet_memberships"]
    session.save()
    assert _signed_out(client.get(INBOX))


def test_a_session_of_another_member_is_not_ended(owner, outsider):
    mine, theirs = sign_in_fully(Client(), "owner"), sign_in_fully(Client(), "outsider")
    Membership.objects.filter(pk=owner.pk).update(role=Role.ADMIN)
    assert _signed_out(mine.get(INBOX))
    assert theirs.get(INBOX).status_code == 200
