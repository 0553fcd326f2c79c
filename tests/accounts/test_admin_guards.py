"""
The admin of users and authenticators: a username hashed in a chain of custody cannot
change; deleting or replacing an authenticator signs its user out everywhere.
"""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from csirtnet.accounts.models import ApiToken, UserSession
from csirtnet.accounts.services import check_username_change
from csirtnet.core.models import AuditEntry
from tests.accounts.helpers import LOGIN, confirmed_device
from tests.api.client import Api, token_for
from tests.incidents.factories import IncidentFactory

pytestmark = pytest.mark.django_db

INBOX = reverse("reports:inbox")
CSV = b"timestamp,ip,port\n2026-03-14 09:00:00,192.0.2.10,22\n"


def _refusal(username: str) -> str:
    return (
        f"{username} has acted in the chain of custody of evidence, whose hashes cover "
        "the username: it cannot change. Create a new user instead."
    )


@pytest.fixture
def superuser(directory):  # type: ignore[no-untyped-def]
    """A client signed in to the admin as a superuser (past the second factor)."""
    user = get_user_model().objects.create_superuser("root", "root@example.org", "pw-root")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def custodian(owner, settings, tmp_path):  # type: ignore[no-untyped-def]
    """`owner`, who has collected one evidence file (custody event "collected")."""
    from csirtnet.evidence.services import add_evidence

    settings.VAR_DIR = tmp_path
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    incident = IncidentFactory(owner=owner.organization, author=owner.user)
    add_evidence(
        actor=owner, parent=incident, name="scan.csv", content=io.BytesIO(CSV),
        content_type="text/csv",
    )  # fmt: skip
    return owner


def _change_form(client, user):  # type: ignore[no-untyped-def]
    """Return the admin change page's data for `user`, as the browser would post it."""
    url = reverse("admin:auth_user_change", args=[user.pk])
    form = client.get(url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name not in ("password", "groups", "user_permissions")
    }
    data["last_login_0"] = data["last_login_1"] = ""
    data["date_joined_0"], data["date_joined_1"] = "2026-03-14", "09:00:00"
    return url, data


# --- renaming --------------------------------------------------------------------------


def test_a_user_in_a_chain_of_custody_cannot_be_renamed(custodian):
    user = custodian.user
    with pytest.raises(ValidationError) as refused:
        check_username_change(user=user, username="someone-else")
    assert refused.value.message_dict == {"username": [_refusal("owner")]}
    assert refused.value.error_dict["username"][0].code == "username_in_custody"
    check_username_change(user=user, username="owner")  # unchanged: fine


def test_a_user_without_custody_events_may_be_renamed(owner, recipient, custodian):
    check_username_change(user=recipient.user, username="renamed")
    check_username_change(user=get_user_model()(username="new"), username="new")


def test_the_admin_refuses_the_rename_and_the_chain_still_verifies(custodian, superuser):
    url, data = _change_form(superuser, custodian.user)
    response = superuser.post(url, {**data, "username": "someone-else"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["username"] == [_refusal("owner")]
    custodian.user.refresh_from_db()
    assert custodian.user.username == "owner"
    out = io.StringIO()
    call_command("verify_custody", stdout=out)
    assert out.getvalue() == ("verify-custody: 1 evidence items, 1 custody events, 0 broken.\n")


def test_the_admin_still_changes_other_fields_of_such_a_user(custodian, superuser):
    url, data = _change_form(superuser, custodian.user)
    response = superuser.post(url, {**data, "email": "owner@new.example"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    custodian.user.refresh_from_db()
    assert (custodian.user.username, custodian.user.email) == ("owner", "owner@new.example")


def test_the_admin_renames_a_user_without_custody_events(recipient, superuser):
    url, data = _change_form(superuser, recipient.user)
    response = superuser.post(url, {**data, "username": "renamed"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    recipient.user.refresh_from_db()
    assert recipient.user.username == "renamed"


# --- authenticators ----------------------------------------------------------------------


def _signed_out(response) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code == 302 and response["Location"].startswith(LOGIN)


def _sessions_ended_for(username: str) -> list[AuditEntry]:
    return [
        entry
        for entry in AuditEntry.objects.filter(action="sessions.ended")
        if entry.detail.get("user") == username
    ]


def test_deleting_an_authenticator_in_the_admin_signs_its_user_out(owner, superuser):
    device = confirmed_device(owner.user)
    browser = Client()
    browser.force_login(owner.user)
    token = token_for(owner)
    assert browser.get(INBOX).status_code == 200
    url = reverse("admin:otp_totp_totpdevice_delete", args=[device.pk])
    assert superuser.post(url, {"post": "yes"}).status_code == 302
    assert not type(device).objects.filter(pk=device.pk).exists()
    assert _signed_out(browser.get(INBOX))
    assert not UserSession.objects.filter(user=owner.user).exists()
    assert Api(token).get("/incidents").status_code == 401
    assert ApiToken.objects.get(user=owner.user).revoked_at is not None
    [ended] = _sessions_ended_for("owner")
    assert ended.detail == {"user": "owner", "sessions": 1, "tokens": 1}
    deleted = AuditEntry.objects.get(action="admin.deleted")
    assert (deleted.username, deleted.target_id) == ("root", str(device.pk))


def test_deleting_authenticators_in_bulk_signs_each_user_out(owner, recipient, superuser):
    devices = [confirmed_device(owner.user), confirmed_device(recipient.user)]
    browsers = []
    for member in (owner, recipient):
        browser = Client()
        browser.force_login(member.user)
        browsers.append(browser)
    response = superuser.post(
        reverse("admin:otp_totp_totpdevice_changelist"),
        {"action": "delete_selected", "_selected_action": [d.pk for d in devices], "post": "yes"},
    )
    assert response.status_code == 302
    assert all(_signed_out(browser.get(INBOX)) for browser in browsers)
    assert len(_sessions_ended_for("owner")) == len(_sessions_ended_for("recipient")) == 1
    assert AuditEntry.objects.filter(action="admin.deleted").count() == 2


def test_a_new_key_for_an_authenticator_in_the_admin_signs_its_user_out(owner, superuser):
    device = confirmed_device(owner.user)
    browser = Client()
    browser.force_login(owner.user)
    url = reverse("admin:otp_totp_totpdevice_change", args=[device.pk])
    form = superuser.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update({"key": "0" * 40, "initial-key": device.key, "throttling_failure_timestamp": ""})
    response = superuser.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert _signed_out(browser.get(INBOX))
    assert len(_sessions_ended_for("owner")) == 1


def test_renaming_an_authenticator_in_the_admin_signs_nobody_out(owner, superuser):
    device = confirmed_device(owner.user)
    browser = Client()
    browser.force_login(owner.user)
    url = reverse("admin:otp_totp_totpdevice_change", args=[device.pk])
    form = superuser.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    # the key's default is random: the page posts the key shown as "initial-key" too
    data.update({"name": "phone", "initial-key": device.key, "throttling_failure_timestamp": ""})
    response = superuser.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert browser.get(INBOX).status_code == 200
    assert _sessions_ended_for("owner") == []
