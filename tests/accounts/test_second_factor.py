"""
The second factor (TOTP, RFC 6238): required for the secretariat, law-enforcement units,
the law-enforcement role and superusers; enrolled with a QR code; asked before any page.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from csirtnet.accounts.models import Membership, Role
from csirtnet.directory.models import MemberState, Organization, OrganizationKind
from tests.accounts.helpers import (
    ENROLL,
    LOGIN,
    VERIFY,
    confirmed_device,
    current_code,
    fresh_code,
    sign_in,
)
from tests.api.client import Api, token_for

pytestmark = pytest.mark.django_db

INBOX = reverse("reports:inbox")


def _to(response, url: str) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code == 302 and response["Location"].split("?")[0] == url


@pytest.fixture
def officer(directory):  # type: ignore[no-untyped-def]
    """A member of a law-enforcement cyber unit of Argentina."""
    unit = Organization.objects.create(
        name="Cybercrime unit",
        short_name="UC-AR",
        kind=OrganizationKind.LAW_ENFORCEMENT,
        state=MemberState.objects.get(code="AR"),
    )
    user = get_user_model().objects.create_user(username="officer", password="pw-officer")
    return Membership.objects.create(user=user, organization=unit)


def test_a_handler_of_a_national_csirt_needs_no_second_factor(owner):
    client = Client()
    assert _to(sign_in(client, "owner"), INBOX)
    assert client.get(INBOX).status_code == 200


@pytest.mark.parametrize("who", ["secretariat_member", "officer"])
def test_secretariat_and_law_enforcement_without_device_are_sent_to_enroll(request, who):
    member = request.getfixturevalue(who)
    client = Client()
    answer = sign_in(client, member.user.username)
    assert answer.status_code == 302
    page = client.get(INBOX)
    assert _to(page, ENROLL)
    assert parse_qs(urlparse(page["Location"]).query)["next"] == [INBOX]


def test_law_enforcement_role_in_a_national_csirt_needs_the_second_factor(owner):
    Membership.objects.filter(pk=owner.pk).update(role=Role.LAW_ENFORCEMENT)
    client = Client()
    sign_in(client, "owner")
    assert _to(client.get(INBOX), ENROLL)


def test_a_superuser_needs_the_second_factor(directory):
    get_user_model().objects.create_superuser("root", "root@example.org", "pw-root")
    client = Client()
    sign_in(client, "root")
    assert _to(client.get(reverse("admin:index")), ENROLL)


def test_enrollment_shows_the_key_as_uri_and_inline_svg_qr_and_a_code_confirms_it(
    secretariat_member,
):
    client = Client()
    sign_in(client, "secretariat")
    page = client.get(ENROLL, {"next": INBOX})
    assert page.status_code == 200
    uri = page.context["uri"]
    assert uri.startswith("otpauth://totp/csirtnet%3Asecretariat?secret=")
    assert "<svg" in page.content.decode()
    assert "<img" not in page.content.decode()
    assert "no-store" in page["Cache-Control"]
    device = TOTPDevice.objects.get(user=secretariat_member.user)
    assert not device.confirmed
    assert client.get(ENROLL).context["uri"] == uri  # same key until confirmed

    wrong = client.post(ENROLL, {"code": "000000", "next": INBOX})
    assert wrong.status_code == 400
    assert b"That code is not right" in wrong.content
    answer = client.post(ENROLL, {"code": fresh_code(device), "next": INBOX})
    assert _to(answer, INBOX)
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(INBOX).status_code == 200


def test_a_user_with_a_device_cannot_enroll_another(secretariat_member):
    device = confirmed_device(secretariat_member.user)
    client = Client()
    sign_in(client, "secretariat")
    assert _to(client.get(ENROLL), VERIFY)
    assert _to(client.post(ENROLL, {"code": current_code(device)}), VERIFY)
    assert TOTPDevice.objects.filter(user=secretariat_member.user).count() == 1


def test_a_user_with_a_device_enters_a_code_before_any_page(secretariat_member):
    device = confirmed_device(secretariat_member.user)
    client = Client()
    assert sign_in(client, "secretariat").status_code == 302
    for url in [INBOX, reverse("incidents:list"), reverse("accounts:tokens"), "/admin/"]:
        assert _to(client.get(url), VERIFY), url
    assert client.get(VERIFY).status_code == 200
    assert client.get(LOGIN).status_code == 200
    language = client.post(reverse("set_language"), {"language": "es", "next": LOGIN})
    assert language.status_code == 302
    answer = client.post(VERIFY, {"code": fresh_code(device), "next": INBOX})
    assert _to(answer, INBOX)
    assert client.get(INBOX).status_code == 200


def test_a_wrong_code_is_refused_and_a_used_code_cannot_be_replayed(secretariat_member):
    device = confirmed_device(secretariat_member.user)
    first = Client()
    sign_in(first, "secretariat")
    assert first.post(VERIFY, {"code": "12345x"}).status_code == 400
    code = fresh_code(device)
    assert first.post(VERIFY, {"code": code}).status_code == 302
    second = Client()
    sign_in(second, "secretariat")
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    replay = second.post(VERIFY, {"code": code})
    assert replay.status_code == 400
    assert _to(second.get(INBOX), VERIFY)


def test_the_code_step_goes_back_only_to_pages_of_this_site(secretariat_member):
    device = confirmed_device(secretariat_member.user)
    client = Client()
    sign_in(client, "secretariat")
    answer = client.post(VERIFY, {"code": fresh_code(device), "next": "https://evil.example/"})
    assert _to(answer, INBOX)


def test_sign_out_works_before_the_code(secretariat_member):
    confirmed_device(secretariat_member.user)
    client = Client()
    sign_in(client, "secretariat")
    assert client.post(reverse("logout")).status_code == 302
    assert _to(client.get(INBOX), LOGIN)


def test_an_unverified_session_is_anonymous_to_public_endpoints(secretariat_member):
    confirmed_device(secretariat_member.user)
    client = Client()
    sign_in(client, "secretariat")
    answer = client.get("/api/v1/incidents")
    assert answer.status_code == 401


def test_the_admin_asks_for_the_code_then_opens(secretariat_member):
    device = confirmed_device(secretariat_member.user)
    get_user_model().objects.filter(pk=secretariat_member.user_id).update(is_staff=True)
    client = Client()
    sign_in(client, "secretariat")
    assert _to(client.get("/admin/"), VERIFY)
    client.post(VERIFY, {"code": fresh_code(device)})
    assert client.get("/admin/").status_code == 200


def test_the_admin_login_page_sends_to_the_one_sign_in_page(directory):
    answer = Client().get("/admin/login/", {"next": "/admin/"})
    assert _to(answer, LOGIN)


def test_api_tokens_of_a_secretariat_member_need_no_second_factor(secretariat_member):
    confirmed_device(secretariat_member.user)
    assert Api(token_for(secretariat_member)).get("/incidents").status_code == 200


def test_the_session_key_changes_when_the_code_is_entered(secretariat_member):
    device = confirmed_device(secretariat_member.user)
    client = Client()
    sign_in(client, "secretariat")
    before = client.session.session_key
    client.post(VERIFY, {"code": fresh_code(device)})
    assert client.session.session_key != before
    assert client.get(INBOX).status_code == 200


def test_a_handler_who_chose_an_authenticator_is_asked_for_its_code(owner):
    client = Client()
    sign_in(client, "owner")
    enroll = client.get(ENROLL)
    assert enroll.status_code == 200
    device = TOTPDevice.objects.get(user=owner.user)
    assert _to(client.post(ENROLL, {"code": fresh_code(device)}), INBOX)
    assert client.get(INBOX).status_code == 200
    again = Client()
    sign_in(again, "owner")
    assert _to(again.get(INBOX), VERIFY)
    again.post(VERIFY, {"code": fresh_code(device)})
    assert again.get(INBOX).status_code == 200
