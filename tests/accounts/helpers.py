"""Signing in through the real pages: password, then the TOTP code (RFC 6238) when asked."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

LOGIN = reverse("login")
VERIFY = reverse("accounts:verify")
ENROLL = reverse("accounts:enroll")


def current_code(device: TOTPDevice) -> str:
    """Return the code `device`'s authenticator app shows now (six digits)."""
    return f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}"


def fresh_code(device: TOTPDevice) -> str:
    """Return the current code, forgetting that an earlier test used it (no replay)."""
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1, throttling_failure_count=0)
    device.refresh_from_db()
    return current_code(device)


def confirmed_device(user: Any) -> TOTPDevice:
    """Give `user` a confirmed TOTP device."""
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def sign_in(client: Client, username: str, password: str | None = None, **extra: Any) -> Any:
    """Post the sign-in form (password `pw-<username>` by default); return the answer."""
    data = {"username": username, "password": password or f"pw-{username}"}
    return client.post(LOGIN, data, **extra)


def sign_in_fully(client: Client, username: str) -> Client:
    """Sign in with the password and, when the account has a device, its current code."""
    answer = sign_in(client, username)
    assert answer.status_code == 302, answer.content[:500]
    device = TOTPDevice.objects.filter(user__username=username, confirmed=True).first()
    if device is not None:
        assert client.post(VERIFY, {"code": fresh_code(device)}).status_code == 302
    return client
