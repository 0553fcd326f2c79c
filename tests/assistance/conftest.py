"""Fixtures of assistance: two law-enforcement units (AR, BR) with an officer each."""

from __future__ import annotations

import pytest

from csirtnet.accounts.models import Role
from tests.assistance.factories import law_enforcement_unit, member_of


@pytest.fixture
def officer_ar(directory):  # type: ignore[no-untyped-def]
    """A law-enforcement officer of an Argentine cyber unit (LE 24/7 contact on file)."""
    return member_of(law_enforcement_unit("UC-AR", "AR"), "officer_ar", Role.LAW_ENFORCEMENT)


@pytest.fixture
def officer_br(directory):  # type: ignore[no-untyped-def]
    """A law-enforcement officer of a Brazilian cyber unit (LE 24/7 contact on file)."""
    return member_of(law_enforcement_unit("UC-BR", "BR"), "officer_br", Role.LAW_ENFORCEMENT)
