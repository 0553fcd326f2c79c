"""Demo logins: one per national CSIRT of the demo states and one for the secretariat."""

from __future__ import annotations

import stat

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.test import RequestFactory

from csirtnet.accounts.models import Membership
from csirtnet.accounts.services import (
    DEMO_USERS,
    create_demo_users,
    demo_logins_path,
    read_demo_logins,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def var_dir(settings, tmp_path):  # type: ignore[no-untyped-def]
    """A fresh VAR_DIR for the logins file."""
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR


def _request():  # type: ignore[no-untyped-def]
    """A sign-in request: the throttle counts failures per client address."""
    return RequestFactory().post("/accounts/login/")


def test_demo_users_are_members_of_their_csirt_and_can_sign_in(directory, var_dir):
    logins = create_demo_users()
    assert [login.username for login in logins] == [username for username, _org in DEMO_USERS]
    for login in logins:
        membership = Membership.objects.get(user__username=login.username)
        assert membership.organization.short_name == login.organization
        assert (
            authenticate(_request(), username=login.username, password=login.password) is not None
        )


def test_only_the_secretariat_login_is_staff(directory, var_dir):
    create_demo_users()
    staff = get_user_model().objects.filter(is_staff=True).values_list("username", flat=True)
    assert list(staff) == ["secretariat"]
    secretariat = get_user_model().objects.get(username="secretariat")
    assert secretariat.has_perm("directory.change_organization")
    assert not secretariat.has_perm("reports.change_event")
    assert not secretariat.is_superuser


def test_passwords_are_random_and_stored_hashed(directory, var_dir):
    logins = create_demo_users()
    passwords = [login.password for login in logins]
    assert len(set(passwords)) == len(passwords)
    assert all(len(password) >= 16 for password in passwords)
    user = get_user_model().objects.get(username="cisa")
    assert user.password.startswith("argon2$")
    assert logins[0].password not in user.password


def test_logins_file_is_readable_by_its_owner_only(directory, var_dir):
    create_demo_users()
    assert stat.S_IMODE(demo_logins_path().stat().st_mode) == 0o600
    assert demo_logins_path().parent == var_dir


def test_running_again_keeps_users_and_passwords(directory, var_dir):
    first = create_demo_users()
    second = create_demo_users()
    assert [login.password for login in second] == [login.password for login in first]
    assert not any(login.is_created for login in second)
    assert get_user_model().objects.count() == len(DEMO_USERS)
    assert Membership.objects.count() == len(DEMO_USERS)


def test_reset_passwords_gives_new_ones_that_work(directory, var_dir):
    old = create_demo_users()[0].password
    new = create_demo_users(reset_passwords=True)[0].password
    assert new != old
    assert authenticate(_request(), username="cisa", password=new) is not None


def test_command_prints_the_table_from_the_logins_file(directory, var_dir, capsys):
    call_command("create_demo_users", "--print")
    output = capsys.readouterr().out
    count = len(DEMO_USERS)
    assert output.startswith(f"demo users: {count} ({count} created)")
    recorded = read_demo_logins()
    for login in recorded:
        line = next(row for row in output.splitlines() if row.startswith(login.username + " "))
        state = login.state or "-"
        totp_key = login.totp_key or "-"
        assert line.split() == [
            login.username,
            login.organization,
            state,
            login.password,
            totp_key,
        ]
    assert {login.state for login in recorded} >= {"US", "BR", "VE", ""}


def test_demo_logins_that_need_a_second_factor_get_a_device_whose_key_is_recorded(
    directory, var_dir
):
    import base64

    from django_otp.plugins.otp_totp.models import TOTPDevice

    logins = {login.username: login for login in create_demo_users()}
    assert logins["cisa"].totp_key == ""
    secretariat = logins["secretariat"]
    device = TOTPDevice.objects.get(user__username="secretariat", confirmed=True)
    assert base64.b32decode(secretariat.totp_key) == device.bin_key
    recorded = {login.username: login for login in read_demo_logins()}
    assert recorded["secretariat"].totp_key == secretariat.totp_key
    again = {login.username: login for login in create_demo_users()}
    assert again["secretariat"].totp_key == secretariat.totp_key
    reset = {login.username: login for login in create_demo_users(reset_passwords=True)}
    assert reset["secretariat"].totp_key != secretariat.totp_key


def test_a_demo_login_with_a_totp_key_signs_in_with_the_code_of_that_key(
    client, directory, var_dir
):
    import base64

    from django_otp.oath import totp

    secretariat = next(login for login in create_demo_users() if login.totp_key)
    answer = client.post(
        "/accounts/login/",
        {"username": secretariat.username, "password": secretariat.password},
    )
    assert answer.status_code == 302
    code = f"{totp(base64.b32decode(secretariat.totp_key)):06d}"
    assert client.post("/account/second-factor/", {"code": code}).status_code == 302
    assert client.get("/reports/inbox/").status_code == 200
