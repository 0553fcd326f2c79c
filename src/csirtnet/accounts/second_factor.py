"""
The second factor of sign-in: TOTP (RFC 6238) devices of django-otp, enrollment with a
QR code, and the session's record that the code was entered.
"""

from __future__ import annotations

import io
from typing import Any

import qrcode
import qrcode.image.svg
from django.db import transaction
from django.http import HttpRequest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

HAS_DEVICE_SESSION_KEY = "csirtnet_has_authenticator"  # the user has a device: ask its code
DEVICE_NAME = "authenticator"
PROVIDER_MARK = "oidc"  # in place of a device id: the identity provider checked the factor
CODE_DIGITS = 6  # RFC 6238 with HMAC-SHA1, 30-second steps: what every authenticator app does


def is_verified(request: HttpRequest) -> bool:
    """Return True when a code was entered in this session (no query)."""
    return bool(request.session.get(DEVICE_ID_SESSION_KEY))


def mark_verified(request: HttpRequest, device: TOTPDevice) -> None:
    """Record in the session that `device` accepted a code; the session key is rotated."""
    request.session.cycle_key()
    request.session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    request.session[HAS_DEVICE_SESSION_KEY] = True


def mark_verified_by_provider(request: HttpRequest) -> None:
    """Record that the identity provider checked a second factor (OpenID Connect `amr`)."""
    request.session[DEVICE_ID_SESSION_KEY] = PROVIDER_MARK


def has_confirmed_device(user: Any) -> bool:
    """Return True when `user` has a confirmed TOTP device."""
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


@transaction.atomic
def pending_device(*, user: Any) -> TOTPDevice:
    """
    Return the unconfirmed TOTP device that `user` is enrolling, creating it with a new
    random 160-bit key (RFC 4226, section 4) when there is none.

    Raises:
        ValueError: `user` already has a confirmed device (a stolen password must not
            be enough to add another).
    """
    if has_confirmed_device(user):
        raise ValueError("The user already has a confirmed device.")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


@transaction.atomic
def confirm_device(*, device: TOTPDevice, code: str) -> bool:
    """
    Confirm `device` when `code` is its current TOTP code (RFC 6238, section 4.2; one
    step of clock drift tolerated) and remove the user's other unconfirmed devices.
    Return False for a wrong code; wrong codes slow further tries (django-otp throttling).
    """
    if not device.verify_token(code.strip()):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user_id=device.user_id, confirmed=False).delete()
    return True


def verify_code(*, user: Any, code: str) -> TOTPDevice | None:
    """
    Return the confirmed device of `user` that accepts `code`, or None. A code is
    accepted once (RFC 6238, section 5.2: no replay); wrong codes slow further tries.
    """
    code = code.strip()
    if not code.isdigit() or len(code) != CODE_DIGITS:
        return None
    for device in TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk"):
        with transaction.atomic():
            locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
            if locked.verify_token(code):
                return locked
    return None


def otpauth_uri(device: TOTPDevice) -> str:
    """Return the `otpauth://totp/…` URI (Key URI Format) that authenticator apps read."""
    return str(device.config_url)


def qr_svg(text: str) -> str:
    """Return `text` as a QR code: an SVG element (no XML declaration) to put in a page."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    out = io.BytesIO()
    image.save(out)
    svg = out.getvalue().decode()
    return svg[svg.index("<svg") :]
