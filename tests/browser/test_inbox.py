"""A national CSIRT's handler signs in and reads its inbox in a real browser."""

from __future__ import annotations

import pytest

from tests.browser.pages import LoginPage
from tests.reports.factories import EventFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_handler_signs_in_and_sees_its_event_and_not_another_orgs(
    page, owner, outsider, artifacts
):
    EventFactory(organization=owner.organization, hostname="webmail.example.uy")
    EventFactory(organization=outsider.organization, hostname="portal.example.mx")

    login = LoginPage(page).open()
    page.screenshot(path=artifacts / "browser-login.png")
    inbox = login.sign_in("owner", "pw-owner")

    assert inbox.heading == "Inbox"
    assert "CERTuy" in inbox.signed_in_as
    assert "webmail.example.uy" in inbox.rows_text()
    assert "portal.example.mx" not in page.content()
    page.screenshot(path=artifacts / "browser-inbox.png", full_page=True)

    event_page = inbox.open_event()
    assert "webmail.example.uy" in event_page.locator("main").inner_text()
    page.screenshot(path=artifacts / "browser-event.png", full_page=True)
