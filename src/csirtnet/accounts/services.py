"""Verbs of accounts: the demo logins."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import Q

from csirtnet.accounts.models import Membership, Role
from csirtnet.directory.models import Organization

# Username and organization (short name) of each demo login: national CSIRTs of states
# with events in the demo data, then the network secretariat.
DEMO_USERS = (
    ("cisa", "CISA"),
    ("cccs", "CCCS"),
    ("certbr", "CERT.br"),
    ("csirtcl", "CSIRT-CL"),
    ("certmx", "CERT-MX"),
    ("vencert", "VenCERT"),
    ("secretariat", "CICTE"),
)
DEMO_LOGINS_FILE_NAME = "demo-logins.txt"
_HEADER = "# csirtnet demo logins, for demos only: username, organization, state, password\n"


@dataclass(frozen=True, slots=True)
class DemoLogin:
    """One demo login: its password is empty when the logins file does not know it."""

    username: str
    organization: str
    state: str
    password: str
    is_created: bool = False


def demo_logins_path() -> Path:
    """Return where the plain demo passwords are kept: `VAR_DIR/demo-logins.txt`."""
    return Path(settings.VAR_DIR) / DEMO_LOGINS_FILE_NAME


@transaction.atomic
def create_demo_users(*, reset_passwords: bool = False) -> list[DemoLogin]:
    """
    Create a handler login for eight national CSIRTs (US, CA, BR, AR, CL, MX, UY, PE) and
    the staff login `secretariat` for CICTE, each with an active membership. Safe to run
    again: existing users keep their password unless `reset_passwords`. A new password
    comes from `secrets.token_urlsafe(12)`; it is stored hashed in the database and in
    plain text in `demo_logins_path()` (mode 0600) so that the demo can print it.

    Raises:
        Organization.DoesNotExist: the directory is not loaded (`csirtnet load-directory`).
    """
    passwords = {login.username: login.password for login in read_demo_logins()}
    logins = []
    for username, short_name in DEMO_USERS:
        organization = Organization.objects.select_related("state").get(short_name=short_name)
        user, is_created = get_user_model().objects.get_or_create(username=username)
        if is_created or reset_passwords:
            passwords[username] = secrets.token_urlsafe(12)
            user.set_password(passwords[username])
        user.is_staff = user.is_staff or organization.is_secretariat
        user.save()
        if organization.is_secretariat:
            user.user_permissions.add(*_secretariat_permissions())
        role = Role.ADMIN if organization.is_secretariat else Role.HANDLER
        Membership.objects.update_or_create(
            user=user, organization=organization, defaults={"role": role, "is_active": True}
        )
        state = organization.state.code if organization.state else ""
        password = passwords.get(username, "")
        logins.append(DemoLogin(username, short_name, state, password, is_created))
    _write_demo_logins(logins)
    return logins


def read_demo_logins() -> list[DemoLogin]:
    """Return the logins recorded in `demo_logins_path()`; none when the file is missing."""
    try:
        text = demo_logins_path().read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    rows = [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]
    return [DemoLogin(row[0], row[1], row[2], row[3]) for row in rows if len(row) >= 4]


def _write_demo_logins(logins: list[DemoLogin]) -> None:
    """Replace the logins file atomically; readable by its owner only (0600)."""
    path = demo_logins_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(_HEADER)
        for login in logins:
            file.write(
                f"{login.username}\t{login.organization}\t{login.state}\t{login.password}\n"
            )
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def _secretariat_permissions() -> list[Permission]:
    """Everything on the directory and memberships; read-only on reports and users."""
    return list(
        Permission.objects.filter(
            Q(content_type__app_label__in=["directory", "accounts"])
            | Q(content_type__app_label="reports", codename__startswith="view_")
            | Q(content_type__app_label="auth", codename="view_user")
        )
    )
