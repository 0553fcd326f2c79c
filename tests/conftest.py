"""Fixtures shared by the whole suite: sample paths, the directory, three memberships."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.accounts.force_login_plugin import (  # noqa: F401 (an autouse fixture)
    _force_login_skips_the_second_factor,
)
from tests.append_only_plugin import (  # noqa: F401 (an autouse fixture)
    _append_only_rows_removable,
)
from tests.smtp_sink import smtp_sink  # noqa: F401 (a fixture for every test module)

REPO = Path(__file__).resolve().parents[1]


def _cheap_password_hashing() -> None:
    """
    Hash the suite's passwords with a cheap Argon2id (tests/fast_argon2.py), then the
    production list: hashes look as in production, at a hundredth of the cost.
    """
    from django.conf import settings

    settings.PASSWORD_HASHERS = [
        "tests.fast_argon2.FastArgon2PasswordHasher",
        *settings.PASSWORD_HASHERS,
    ]


_cheap_password_hashing()


def shared_dir() -> Path:
    """Return the shared data folder: `../shared` beside the repository or CSIRTNET_SHARED_DIR."""
    return Path(os.environ.get("CSIRTNET_SHARED_DIR", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """The real sample reports (shared/data/samples)."""
    return shared_dir() / "data" / "samples"


@pytest.fixture(scope="session")
def rir_dir() -> Path:
    """The RIR delegation data of the Americas (shared/data/rir)."""
    return shared_dir() / "data" / "rir"


def _load_reference_data(rir: Path) -> None:
    from django.core.management import call_command

    from csirtnet.directory.models import MemberState

    if not MemberState.objects.exists():
        call_command("load_directory", verbosity=0)
        call_command("import_rir", str(rir), verbosity=0)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, rir_dir):  # type: ignore[no-untyped-def]
    """Create the test database once, with the directory and the real RIR data loaded."""
    with django_db_blocker.unblock():
        _load_reference_data(rir_dir)


@pytest.fixture
def directory(db, rir_dir):  # type: ignore[no-untyped-def]
    """The 35 member states, their national CSIRTs, the secretariat and the RIR data.

    Reloaded when a transactional test has flushed the database.
    """
    _load_reference_data(rir_dir)


@pytest.fixture(scope="session")
def routing_table(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """A routing table built once from the real RIR data and the loaded directory."""
    from csirtnet.directory.routing import RoutingTable

    with django_db_blocker.unblock():
        return RoutingTable.build()


def _member(username: str, short_name: str):  # type: ignore[no-untyped-def]
    from django.contrib.auth import get_user_model

    from csirtnet.accounts.models import Membership
    from csirtnet.directory.models import Organization

    user = get_user_model().objects.create_user(username=username, password="pw-" + username)
    return Membership.objects.create(
        user=user, organization=Organization.objects.get(short_name=short_name)
    )


@pytest.fixture
def owner(directory):  # type: ignore[no-untyped-def]
    """A handler of CERTuy (Uruguay's national CSIRT)."""
    return _member("owner", "CERTuy")


@pytest.fixture
def recipient(directory):  # type: ignore[no-untyped-def]
    """A handler of CERT.ar (Argentina's national CSIRT)."""
    return _member("recipient", "CERT.ar")


@pytest.fixture
def outsider(directory):  # type: ignore[no-untyped-def]
    """A handler of CERT-MX (Mexico's national CSIRT)."""
    return _member("outsider", "CERT-MX")


@pytest.fixture
def secretariat_member(directory):  # type: ignore[no-untyped-def]
    """A member of the network secretariat (CICTE)."""
    return _member("secretariat", "CICTE")
