"""
Indicator sharing and evidence custody in a real browser, in English and Spanish:
CERTuy imports a STIX bundle and records a sighting, CERT.ar finds the indicator by
searching its address; CERTuy adds evidence to a cross-border incident and offers it to
CERT.ar, which accepts it, after which the custody chain verifies.
"""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import call_command

from csirtnet.directory.routing import forget_shared_routing_table
from csirtnet.evidence.models import Evidence
from csirtnet.sharing.models import StixObject
from tests.browser.pages import LoginPage
from tests.conftest import shared_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAMPLES = shared_dir() / "data" / "samples"
BUNDLE = SAMPLES / "stix21" / "oasis-examples" / "indicator-for-c2-ip-address.json"
EVIDENCE_FILE = SAMPLES / "shadowserver" / "compromised_website.csv"
C2_ADDRESS = "10.0.0.0"  # what the OASIS example's pattern matches


@pytest.fixture(autouse=True)
def _fresh_routing_table() -> Iterator[None]:
    """A transactional test reloads the directory under new keys: forget the cached table."""
    forget_shared_routing_table()
    yield
    forget_shared_routing_table()


def _signed_in(new_page, member, locale):  # type: ignore[no-untyped-def]
    page = new_page(locale)
    username = member.user.get_username()
    LoginPage(page).open().sign_in_any_language(username, f"pw-{username}")
    return page


@pytest.mark.parametrize("locale", ["en-US", "es-ES"])
def test_an_imported_indicator_is_sighted_and_found_by_another_member(
    new_page, owner, recipient, artifacts, locale
):
    language = locale[:2]
    page = _signed_in(new_page, owner, locale)

    page.goto("/sharing/import/")
    page.locator("input[name=file]").set_input_files(str(BUNDLE))
    page.locator("select[name=tlp]").select_option("green")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("main table").count() >= 1
    page.screenshot(path=artifacts / f"browser-sharing-import-{language}.png", full_page=True)
    indicator = StixObject.objects.get(type="indicator", owner=owner.organization)
    assert indicator.tlp == "green"

    page.goto(f"/sharing/objects/{indicator.uuid}/")
    page.locator("#sightings input[name=count]").fill("5")
    page.locator("#sightings form button[type=submit]").click()
    page.wait_for_load_state()
    sightings = page.locator("#sightings table")
    assert owner.organization.short_name in sightings.inner_text()
    assert "5" in sightings.inner_text()
    page.screenshot(path=artifacts / f"browser-sharing-sighting-{language}.png", full_page=True)
    assert StixObject.objects.get(type="sighting").body["count"] == 5

    page = _signed_in(new_page, recipient, locale)
    page.goto(f"/sharing/search/?q={C2_ADDRESS}")
    text = page.locator("main").inner_text()
    assert indicator.stix_id in text
    assert ("1 sighting" if language == "en" else "1 avistamiento") in text
    page.screenshot(path=artifacts / f"browser-sharing-search-{language}.png", full_page=True)


@pytest.mark.parametrize("locale", ["en-US", "es-ES"])
def test_evidence_is_added_offered_and_accepted_across_a_border(
    new_page, owner, recipient, outsider, artifacts, locale
):
    from tests.api.client import report

    language = locale[:2]
    incident = report(owner, affected_states=["AR"])
    page = _signed_in(new_page, owner, locale)

    page.goto(f"/incidents/{incident.uuid}/")
    page.locator("#evidence input[name=file]").set_input_files(str(EVIDENCE_FILE))
    page.locator("#evidence input[name=content_type]").fill("text/csv")
    page.locator("#evidence form button[type=submit]").click()
    page.wait_for_load_state()
    evidence = Evidence.objects.get(incident=incident)
    page.goto(f"/evidence/{evidence.uuid}/")
    page.locator("#transfer select[name=receiving_organization]").select_option(
        recipient.organization.short_name
    )
    page.locator("#transfer textarea[name=reason]").fill("For the Argentine investigation")
    page.locator("#transfer button[type=submit]").click()
    page.wait_for_load_state()
    page.screenshot(path=artifacts / f"browser-evidence-offered-{language}.png", full_page=True)
    evidence.refresh_from_db()
    assert (evidence.custodian, evidence.pending_receiver) == (
        owner.organization, recipient.organization,
    )  # fmt: skip

    page = _signed_in(new_page, recipient, locale)
    page.goto(f"/evidence/{evidence.uuid}/")
    page.locator("#accept textarea[name=reason]").fill("Received intact")
    page.locator("#accept button[type=submit]").click()
    page.wait_for_load_state()
    page.screenshot(path=artifacts / f"browser-evidence-accepted-{language}.png", full_page=True)
    evidence.refresh_from_db()
    assert (evidence.custodian, evidence.pending_receiver) == (recipient.organization, None)
    assert list(evidence.custody.values_list("action", flat=True)) == [
        "collected", "transferred", "accepted",
    ]  # fmt: skip
    out = StringIO()
    call_command("verify_custody", stdout=out)
    assert "0 broken" in out.getvalue()

    page = _signed_in(new_page, outsider, locale)
    answer = page.goto(f"/evidence/{evidence.uuid}/")
    assert answer is not None and answer.status == 404
