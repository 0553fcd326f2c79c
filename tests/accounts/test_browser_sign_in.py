"""In a real browser: the secretariat adds an authenticator, then signs in with its code."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, artifacts, new_page  # noqa: F401 (fixtures)
from tests.browser.pages import LoginPage, SecondFactorPage, totp_code_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium for this module only: closed before tests/browser opens its own."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_secretariat_enrolls_an_authenticator_then_signs_in_with_a_code(
    new_page,  # noqa: F811 (the fixture)
    secretariat_member,
    artifacts,  # noqa: F811 (the fixture)
):
    page = new_page()
    LoginPage(page).open()
    page.get_by_label("Username").fill("secretariat")
    page.get_by_label("Password").fill("pw-secretariat")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/second-factor/enroll/**")
    enroll = SecondFactorPage(page)
    assert enroll.otpauth_uri.startswith("otpauth://totp/")
    assert page.locator(".qr svg").count() == 1
    page.screenshot(path=artifacts / "browser-second-factor-enroll.png", full_page=True)
    enroll.enter_code(totp_code_of("secretariat"))
    page.wait_for_url("**/reports/inbox/")
    assert TOTPDevice.objects.get(user=secretariat_member.user).confirmed

    again = new_page("es-ES")
    inbox = LoginPage(again).open().sign_in_any_language("secretariat", "pw-secretariat")
    assert "CICTE" in inbox.signed_in_as
