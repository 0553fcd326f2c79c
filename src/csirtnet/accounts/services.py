"""Verbs of accounts: sign-in sessions, memberships, the demo logins and the API tokens."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from csirtnet.accounts.models import ApiToken, Membership, Role, UserSession
from csirtnet.accounts.second_factor import HAS_DEVICE_SESSION_KEY
from csirtnet.core import audit
from csirtnet.directory.models import (
    ContactRole,
    MemberState,
    Organization,
    OrganizationKind,
    PointOfContact,
)
from csirtnet.evidence.models import CustodyEvent

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
    ("uc_ar", "UC-AR-demo"),
    ("uc_br", "UC-BR-demo"),
)
# Law-enforcement cyber units for the demo of mutual assistance (the directory has none):
# short name, name, state (ISO 3166-1 alpha-2), e-mail of its law-enforcement 24/7 contact.
DEMO_LAW_ENFORCEMENT_UNITS = (
    ("UC-AR-demo", "Unidad de cibercrimen (demo) – AR", "AR", "le247@uc-ar.demo.csirtnet.example"),
    ("UC-BR-demo", "Unidade de cibercrime (demo) – BR", "BR", "le247@uc-br.demo.csirtnet.example"),
)
DEMO_LOGINS_FILE_NAME = "demo-logins.txt"
_HEADER = (
    "# csirtnet demo logins, for demos only: username, organization, state, password,"
    " TOTP key (RFC 6238, base32) of those who must use a second factor\n"
)


@dataclass(frozen=True, slots=True)
class DemoLogin:
    """
    One demo login: its password is empty when the logins file does not know it;
    `totp_key` is the base32 key of its authenticator when it must use a second factor.
    """

    username: str
    organization: str
    state: str
    password: str
    is_created: bool = False
    totp_key: str = ""


def demo_logins_path() -> Path:
    """Return where the plain demo passwords are kept: `VAR_DIR/demo-logins.txt`."""
    return Path(settings.VAR_DIR) / DEMO_LOGINS_FILE_NAME


@transaction.atomic
def create_demo_users(*, reset_passwords: bool = False) -> list[DemoLogin]:
    """
    Create a handler login for six national CSIRTs (US, CA, BR, CL, MX, VE), the
    staff login `secretariat` for CICTE, and a law-enforcement officer login for each
    demo law-enforcement unit (`DEMO_LAW_ENFORCEMENT_UNITS`, created here with its
    law-enforcement 24/7 point of contact), each with an active membership. Safe to run
    again: existing users keep their password unless `reset_passwords`. A new password
    comes from `secrets.token_urlsafe(12)`; it is stored hashed in the database and in
    plain text in `demo_logins_path()` (mode 0600) so that the demo can print it.

    Raises:
        Organization.DoesNotExist: the directory is not loaded (`csirtnet load-directory`).
    """
    passwords = {login.username: login.password for login in read_demo_logins()}
    _create_demo_law_enforcement_units()
    logins = []
    for username, short_name in DEMO_USERS:
        organization = Organization.objects.select_related("state").get(short_name=short_name)
        user, is_created = get_user_model().objects.get_or_create(username=username)
        if is_created or reset_passwords:
            passwords[username] = secrets.token_urlsafe(12)
            user.set_password(passwords[username])
        user.is_staff = user.is_staff or organization.is_secretariat
        user.email = user.email or f"{username}@demo.csirtnet.example"  # for TLP:RED mail
        user.save()
        if organization.is_secretariat:
            user.user_permissions.add(*_secretariat_permissions())
        role = Role.ADMIN if organization.is_secretariat else Role.HANDLER
        if organization.kind == OrganizationKind.LAW_ENFORCEMENT:
            role = Role.LAW_ENFORCEMENT
        Membership.objects.update_or_create(
            user=user, organization=organization, defaults={"role": role, "is_active": True}
        )
        state = organization.state.code if organization.state else ""
        password = passwords.get(username, "")
        totp_key = _demo_totp_key(user, reset=is_created or reset_passwords)
        logins.append(DemoLogin(username, short_name, state, password, is_created, totp_key))
    _write_demo_logins(logins)
    return logins


def _create_demo_law_enforcement_units() -> None:
    """Create the demo law-enforcement units and their 24/7 contacts, once (idempotent)."""
    for short_name, name, state_code, email in DEMO_LAW_ENFORCEMENT_UNITS:
        organization, _created = Organization.objects.get_or_create(
            short_name=short_name,
            defaults={
                "name": name,
                "kind": OrganizationKind.LAW_ENFORCEMENT,
                "state": MemberState.objects.get(code=state_code),
            },
        )
        PointOfContact.objects.get_or_create(
            organization=organization,
            role=ContactRole.LAW_ENFORCEMENT_24_7,
            defaults={"email": email, "languages": ["es" if state_code == "AR" else "pt", "en"]},
        )


def read_demo_logins() -> list[DemoLogin]:
    """Return the logins recorded in `demo_logins_path()`; none when the file is missing."""
    try:
        text = demo_logins_path().read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    rows = [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]
    return [
        DemoLogin(row[0], row[1], row[2], row[3], totp_key=row[4] if len(row) > 4 else "")
        for row in rows
        if len(row) >= 4
    ]


def _write_demo_logins(logins: list[DemoLogin]) -> None:
    """Replace the logins file atomically; readable by its owner only (0600)."""
    path = demo_logins_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(_HEADER)
        for login in logins:
            columns = [login.username, login.organization, login.state, login.password]
            file.write("\t".join([*columns, login.totp_key]).rstrip("\t") + "\n")
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def _demo_totp_key(user: Any, *, reset: bool) -> str:
    """
    Return the base32 key (RFC 4648) of the demo user's confirmed TOTP device, made
    anew when `reset` or missing; "" for a user who needs no second factor.
    """
    if not requires_second_factor(user, memberships_of(user)):
        return ""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    if device is None or reset:
        TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    return base64.b32encode(device.bin_key).decode()


def _secretariat_permissions() -> list[Permission]:
    """Everything on the directory and memberships; read-only on reports and users."""
    return list(
        Permission.objects.filter(
            Q(content_type__app_label__in=["directory", "accounts"])
            | Q(content_type__app_label="reports", codename__startswith="view_")
            | Q(content_type__app_label="auth", codename="view_user")
        )
    )


# --- API tokens ----------------------------------------------------------------------

TOKEN_PREFIX = "cn_"  # noqa: S105 - a marker for secret scanners, not a secret
TOKEN_BYTES = 32  # 256 bits from `secrets`: no brute force, so one unsalted SHA-256 suffices
TOKEN_SHOWN_CHARS = 10  # of the token kept in clear (`ApiToken.prefix`) to tell tokens apart
MAX_TOKEN_LENGTH = 200  # longer strings are not tokens; rejected before hashing
LAST_USED_RESOLUTION = timedelta(minutes=1)  # `last_used_at` is written at most this often


def hash_token(plaintext: str) -> str:
    """Return the SHA-256 of `plaintext` (UTF-8) as 64 lower-case hex digits."""
    return hashlib.sha256(plaintext.encode()).hexdigest()


@transaction.atomic
def create_api_token(*, user: Any, name: str, read_only: bool) -> tuple[ApiToken, str]:
    """
    Make a personal API token for `user` and return it with its plain text, which is
    shown once and never stored: the row keeps its SHA-256 and its first 10 characters.
    The token is `cn_` followed by 43 URL-safe characters (256 random bits); a
    `read_only` token may only read.

    Raises:
        PermissionDenied: `user` is not active.
        ValidationError: `name` is empty or longer than 100 characters (`{"name": …}`).
    """
    if not user.is_active:
        raise PermissionDenied
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": _("Give the token a name of 1 to 100 characters.")})
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=plaintext[:TOKEN_SHOWN_CHARS],
        key_hash=hash_token(plaintext),
        is_read_only=read_only,
    )
    audit.record(actor=user, action="token.created", target=token,
                 detail={"name": name, "read_only": read_only})  # fmt: skip
    return token, plaintext


@transaction.atomic
def revoke_api_token(*, user: Any, token: ApiToken) -> ApiToken:
    """
    Revoke `token` for good (revoking twice keeps the first time). Its owner may, and
    so may a user with the `accounts.change_apitoken` permission (the admin).

    Raises:
        PermissionDenied: `user` is neither the owner nor allowed to change tokens.
    """
    if token.user_id != user.pk and not user.has_perm("accounts.change_apitoken"):
        raise PermissionDenied
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(actor=user, action="token.revoked", target=token)
    return token


def authenticate_token(plaintext: str) -> ApiToken | None:
    """
    Return the token whose plain text is `plaintext`, with its user loaded, or None when
    it is unknown, revoked or its user is inactive. Records the use in `last_used_at`
    (UTC), at most once a minute so that a busy client costs no write per request.
    """
    if not plaintext or len(plaintext) > MAX_TOKEN_LENGTH:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(plaintext), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


# --- sessions, second factor and membership changes ----------------------------------

FINGERPRINT_SESSION_KEY = "csirtnet_memberships"  # noqa: S105 - a session key name
SECOND_FACTOR_KINDS = frozenset({OrganizationKind.SECRETARIAT, OrganizationKind.LAW_ENFORCEMENT})


def memberships_of(user: Any) -> list[Membership]:
    """
    Return every membership of `user`, active or not, oldest first, with organization,
    state and user loaded (one query); none for an anonymous user.
    """
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        Membership.objects.select_related("organization", "organization__state", "user")
        .filter(user=user)
        .order_by("pk")
    )


def membership_fingerprint(user: Any, memberships: list[Membership]) -> str:
    """
    Return the SHA-256 (64 hex digits) of what decides what `user` may do: its id,
    active, staff and superuser flags, and each membership's id, organization, role and
    active flag. A session keeps the fingerprint of its sign-in; any change ends it.
    """
    parts = [f"{user.pk}:{user.is_active:d}:{user.is_staff:d}:{user.is_superuser:d}"]
    parts += [
        f"{m.pk}:{m.organization_id}:{m.role}:{m.is_active:d}"
        for m in sorted(memberships, key=lambda m: m.pk)
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def requires_second_factor(user: Any, memberships: list[Membership]) -> bool:
    """
    Return True when `user` must sign in with a second factor (TOTP, RFC 6238): a
    superuser, or an active membership in the network secretariat or a law-enforcement
    cyber unit, or with the law-enforcement role.
    """
    if getattr(user, "is_superuser", False):
        return True
    return any(
        m.is_active
        and (m.role == Role.LAW_ENFORCEMENT or m.organization.kind in SECOND_FACTOR_KINDS)
        for m in memberships
    )


def record_sign_in(*, user: Any, session: Any) -> UserSession:
    """
    Remember a new browser session of `user` (its key in Django's session store) and
    keep the fingerprint of the user's memberships in it (`membership_fingerprint`) and
    whether the user has an authenticator (then asked for its code even when not
    required); forget the user's sessions older than `SESSION_COOKIE_AGE`, which have expired.
    Called on every sign-in, whichever way the user signed in.
    """
    if session.session_key is None:
        session.save()
    session[FINGERPRINT_SESSION_KEY] = membership_fingerprint(user, memberships_of(user))
    session[HAS_DEVICE_SESSION_KEY] = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    expired = timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    UserSession.objects.filter(user=user, signed_in_at__lt=expired).delete()
    record, _created = UserSession.objects.update_or_create(
        session_key=session.session_key, defaults={"user": user, "signed_in_at": timezone.now()}
    )
    return record


@transaction.atomic
def end_sessions(*, user: Any) -> int:
    """
    Sign `user` out everywhere at once: delete every browser session recorded by
    `record_sign_in` from the session store and revoke every API token of the user
    (`revoked_at` = now, UTC). Return how many sessions and tokens were ended.
    """
    store = import_module(settings.SESSION_ENGINE).SessionStore
    records = list(UserSession.objects.filter(user=user))
    for record in records:
        store(session_key=record.session_key).delete()
    UserSession.objects.filter(pk__in=[record.pk for record in records]).delete()
    revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    detail = {"user": user.username, "sessions": len(records), "tokens": revoked}
    audit.record(actor=None, action="sessions.ended", detail=detail)
    return len(records) + revoked


@transaction.atomic
def disable_user(*, by: Any, user: Any) -> Any:
    """
    Disable `user` (`is_active` = False) and end its sessions and API tokens.

    Raises:
        PermissionDenied: `by` may not change users (`auth.change_user`).
    """
    if not by.has_perm("auth.change_user"):
        raise PermissionDenied
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
        audit.record(actor=by, action="user.disabled", detail={"user": user.username})
    end_sessions(user=user)
    return user


def check_username_change(*, user: Any, username: str) -> None:
    """
    Refuse to rename a user who has acted in a chain of custody: each custody event's
    hash covers its actor's username as it is now (`CustodyEvent.custody_record`), so
    a new name would break `csirtnet verify-custody` for every chain the user is in.
    The audit log keeps the username as it was (`AuditEntry.username`): no obstacle.
    A new user, or an unchanged username, always passes.

    Raises:
        ValidationError: `{"username": …}`, code "username_in_custody".
    """
    if user.pk is None:
        return
    stored = type(user).objects.filter(pk=user.pk).values_list("username", flat=True).first()
    if stored in (None, username):
        return
    if CustodyEvent.objects.filter(actor_id=user.pk).exists():
        message = _(
            "%(username)s has acted in the chain of custody of evidence, whose hashes "
            "cover the username: it cannot change. Create a new user instead."
        ) % {"username": stored}
        raise ValidationError({"username": ValidationError(message, code="username_in_custody")})


@transaction.atomic
def change_membership(
    *, by: Any, membership: Membership, role: str | None = None, is_active: bool | None = None
) -> Membership:
    """
    Change the role of `membership` or (de)activate it; when anything changed, end the
    sessions and API tokens of its user, who signs in again under the new role.

    Raises:
        PermissionDenied: `by` is not a superuser (memberships decide what a user sees).
        ValidationError: `role` is not a `Role`.
    """
    if not by.is_superuser:
        raise PermissionDenied
    if role is not None and role not in Role.values:
        raise ValidationError({"role": _("Choose a valid role.")})
    changed = []
    if role is not None and role != membership.role:
        membership.role = role
        changed.append("role")
    if is_active is not None and is_active != membership.is_active:
        membership.is_active = is_active
        changed.append("is_active")
    if changed:
        membership.save(update_fields=changed)
        audit.record(actor=by, action="membership.changed", target=membership,
                     detail={"user": membership.user.username, "role": membership.role,
                             "is_active": membership.is_active})  # fmt: skip
        end_sessions(user=membership.user)
    return membership
