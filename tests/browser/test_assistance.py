"""
Mutual assistance in a real browser: an Argentine law-enforcement unit sends an emergency
request for expedited preservation (Budapest Convention art. 29) to a Brazilian unit,
which finds it in its inbox with the clock running and acknowledges it.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from csirtnet.accounts.models import Role
from csirtnet.assistance.models import AssistanceRequest, Status
from tests.assistance.factories import (
    VALID_DETAILS,
    law_enforcement_unit,
    member_of,
    pass_second_factor,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sender(directory):  # type: ignore[no-untyped-def]
    """An officer of an Argentine law-enforcement cyber unit."""
    return member_of(law_enforcement_unit("UC-AR", "AR"), "officer_ar", Role.LAW_ENFORCEMENT)


@pytest.fixture
def receiver(directory):  # type: ignore[no-untyped-def]
    """An officer of a Brazilian law-enforcement cyber unit (the LE 24/7 contact on file)."""
    return member_of(law_enforcement_unit("UC-BR", "BR"), "officer_br", Role.LAW_ENFORCEMENT)


def _signed_in(new_page: Any, live_server: Any, member: Any, locale: str) -> Any:
    """A tab of its own with `member` signed in (a session made on the server side)."""
    client = Client()
    client.force_login(member.user)
    pass_second_factor(client.session)
    page = new_page(locale)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return page


class RequestFormPage:
    """The form of a new assistance request, found by field names (any language)."""

    def __init__(self, page: Any) -> None:
        self.page = page

    @classmethod
    def open_for(cls, page: Any, request_type: str) -> RequestFormPage:
        """Open the menu's assistance pages, start a new request and choose its type."""
        page.goto("/")
        page.locator("nav.site-nav a[href='/assistance/']").click()
        page.locator("a[href='/assistance/new/']").click()
        page.locator("select[name=type]").select_option(request_type)
        page.locator("main form button[type=submit]").click()
        page.wait_for_url("**/assistance/new/?type=*")
        return cls(page)

    def fill(self, requested: str, title: str, priority: str, details: dict[str, Any]) -> None:
        """Fill the common fields and the type's own fields."""
        self.page.locator("select[name=requested]").select_option(label=requested)
        self.page.locator("input[name=title]").fill(title)
        self.page.locator("select[name=priority]").select_option(priority)
        for name, value in details.items():
            field = self.page.locator(f"[name=detail_{name}]")
            if value is True:
                field.check()
            else:
                field.fill(value)

    def send(self) -> RequestPage:
        """Send the request; its page opens."""
        self.page.locator("button[name=send]").click()
        self.page.wait_for_url("**/assistance/*-*/")
        return RequestPage(self.page)


class RequestPage:
    """The page of one request."""

    def __init__(self, page: Any) -> None:
        self.page = page

    @property
    def status(self) -> str:
        """Return the status badge's text."""
        return str(self.page.locator("#request-status").inner_text())

    def take(self, action: str) -> RequestPage:
        """Press the button of `action` (e.g. acknowledge)."""
        self.page.locator(f"form[action$='/{action}/'] button").click()
        self.page.wait_for_load_state()
        return self


@pytest.mark.parametrize("locale", ["en-US", "es-ES"])
def test_an_emergency_preservation_request_is_sent_and_acknowledged(
    new_page, live_server, sender, receiver, artifacts, locale
):
    language = locale[:2]
    page = _signed_in(new_page, live_server, sender, locale)
    form = RequestFormPage.open_for(page, "preservation")
    assert page.locator("[name=detail_data_to_preserve]").count() == 1
    assert page.locator("[name=detail_target]").count() == 0  # a takedown's field
    form.fill(
        requested="UC-BR",
        title="Preserve the mailbox used in a phishing campaign",
        priority="emergency",
        details=VALID_DETAILS["preservation"],
    )
    page.screenshot(path=artifacts / f"browser-assistance-form-{language}.png", full_page=True)
    sent = form.send()
    item = AssistanceRequest.objects.get()
    assert item.status == Status.SENT and item.priority == "emergency"
    assert sent.status == str(Status.SENT.label) or language == "es"

    page = _signed_in(new_page, live_server, receiver, locale)
    page.goto("/assistance/")
    row = page.locator("table.assistance tbody tr", has_text=item.reference)
    assert row.count() == 1
    assert row.locator(".clock").count() == 1
    page.screenshot(path=artifacts / f"browser-assistance-inbox-{language}.png", full_page=True)
    row.locator("a").first.click()
    page.wait_for_url(f"**/assistance/{item.uuid}/")
    RequestPage(page).take("acknowledge")
    page.screenshot(
        path=artifacts / f"browser-assistance-acknowledged-{language}.png", full_page=True
    )
    item.refresh_from_db()
    assert item.status == Status.ACKNOWLEDGED
    assert item.history.last().organization == receiver.organization
    assert page.locator("form[action$='/acknowledge/']").count() == 0
