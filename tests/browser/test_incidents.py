"""
A cross-border incident in a real browser: CERTuy reports it with an address in
Argentina, CERT.ar sees it awaiting acknowledgement and acknowledges, CERT-MX never sees it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from csirtnet.directory.routing import forget_shared_routing_table
from tests.browser.pages import IncidentListPage, LoginPage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AR_ADDRESS = "190.210.0.1"  # LACNIC: Argentina, CERT.ar's constituency


@pytest.fixture(autouse=True)
def _fresh_routing_table() -> Iterator[None]:
    """
    Build the routing table from this test's directory: a transactional test reloads
    the directory under new primary keys, which a table cached earlier would not know.
    """
    forget_shared_routing_table()
    yield
    forget_shared_routing_table()


def _signed_in(new_page, member, locale):  # type: ignore[no-untyped-def]
    """A tab of its own where `member` has signed in; the inbox is open."""
    page = new_page(locale)
    username = member.user.get_username()
    LoginPage(page).open().sign_in_any_language(username, f"pw-{username}")
    return page


@pytest.mark.parametrize("locale", ["en-US", "es-ES"])
def test_incident_is_reported_proposed_acknowledged_and_hidden_from_others(
    new_page, owner, recipient, outsider, artifacts, locale
):
    language = locale[:2]

    # CERTuy reports an incident whose observable points to Argentina.
    page = _signed_in(new_page, owner, locale)
    assert page.locator("html").get_attribute("lang") == language
    form = IncidentListPage.open_from_menu(page).report_new()
    form.describe(
        title="Botnet C2 hosted in Argentina",
        description="C2 server seen by our sinkhole.\nTwo bots in Uruguay.",
        rsit="malicious-code:c2-server",
        severity=3,
    )
    form.label("amber")
    form.enter_observables(AR_ADDRESS, "c2.example.com")
    assert not form.is_state_checked("AR")
    form.propose_affected_states()
    assert form.is_state_checked("AR")
    assert AR_ADDRESS in form.proposals()
    assert "Argentina (AR)" in form.proposals()
    page.screenshot(path=artifacts / f"browser-incident-propose-{language}.png", full_page=True)
    incident = form.report()
    reference = incident.reference
    assert reference.startswith("INC-")
    assert incident.tlp == "TLP:AMBER"
    assert incident.participant("CERT.ar").locator(".badge-pending").count() == 1
    url = page.url

    # CERT.ar finds it awaiting its acknowledgement and acknowledges.
    page = _signed_in(new_page, recipient, locale)
    incidents = IncidentListPage.open_from_menu(page)
    assert incidents.awaiting_in_menu == "1"
    assert incidents.row(reference).locator(".badge-pending").count() == 1
    page.screenshot(path=artifacts / f"browser-incident-list-{language}.png", full_page=True)
    incident = incidents.open_incident(reference)
    assert incident.can_acknowledge()
    incident.acknowledge()
    assert not incident.can_acknowledge()
    row = incident.participant("CERT.ar")
    assert row.locator("time").count() == 2  # notified and acknowledged
    assert row.locator(".ack-time").inner_text() == "< 1 min"
    page.screenshot(path=artifacts / f"browser-incident-detail-{language}.png", full_page=True)
    assert IncidentListPage.open_from_menu(page).awaiting_in_menu == ""

    # CERT-MX is not addressed by the TLP:AMBER incident: not listed, and 404 at its URL.
    page = _signed_in(new_page, outsider, locale)
    incidents = IncidentListPage.open_from_menu(page)
    assert reference not in incidents.references()
    response = page.goto(url)
    assert response.status == 404
    assert reference not in page.content()
