"""Browser tests: Playwright's sync API driving Debian's chromium against `live_server`."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in the test thread; Django would refuse
# database access from it although every call here is synchronous.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's chromium, headless, once per session; skipped when it is not installed."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server, settings) -> Iterator[Callable[..., Any]]:  # type: ignore[no-untyped-def]
    """
    Open fresh browser tabs, each in its own context (its own cookies: one signed-in
    user a tab) and language (`locale`, e.g. "es-ES"); cookies without the Secure flag
    for plain HTTP. Every context is closed after the test, which fails when the
    browser reported a Content-Security-Policy violation on its console.
    """
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    contexts: list[Any] = []
    violations: list[str] = []

    def note_violation(message: Any) -> None:
        if "Content Security Policy" in message.text:
            violations.append(f"{message.location.get('url', '')}: {message.text}")

    def open_page(locale: str = "en-US") -> Any:
        context = browser.new_context(
            base_url=live_server.url, locale=locale, viewport={"width": 1400, "height": 900}
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.on("console", note_violation)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert violations == [], "the Content-Security-Policy blocked something"


@pytest.fixture
def page(new_page) -> Any:  # type: ignore[no-untyped-def]
    """A fresh browser tab in English."""
    return new_page()


@pytest.fixture
def artifacts() -> Path:
    """The git-ignored folder for screenshots (`test-artifacts/` at the repository root)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
