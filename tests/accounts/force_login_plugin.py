"""
Pytest plugin of the whole suite (pyproject.toml, `-p`): the test client's `force_login`
skips the password, so it skips the second factor too. Tests of the sign-in itself post
to the real pages instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _force_login_skips_the_second_factor(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Mark every session made by `Client.force_login` as past the second factor."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY

    original = Client.force_login

    def force_login(self: Any, user: Any, backend: str | None = None) -> None:
        original(self, user, backend)
        session = self.session
        session[DEVICE_ID_SESSION_KEY] = "force_login"
        session.save()

    monkeypatch.setattr(Client, "force_login", force_login)
    yield
