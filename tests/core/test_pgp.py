"""PGP/MIME with a real gpg: encrypt and sign to a key on file, check fingerprints, make keys."""

from __future__ import annotations

import email
import email.policy
import logging
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from email.mime.text import MIMEText
from pathlib import Path

import gnupg
import pytest

from csirtnet.core import pgp
from csirtnet.core.pgp import (
    PgpError,
    RecipientKeyError,
    encrypt_and_sign_mime,
    ensure_signing_key,
)

BODY = "Incidente INC-2026-000001: servidor C2 en 190.210.0.1 (año 2026)"


@contextmanager
def gpg_home() -> Iterator[Path]:
    """
    A fresh keyring directory (mode 0700) with a short path: gpg-agent's socket path is
    limited to about 100 characters. The agents of it and of its subdirectories are
    stopped and the directory removed after.
    """
    home = Path(tempfile.mkdtemp(prefix="cnpgp-"))
    try:
        yield home
    finally:
        for keyring in [home, *(path for path in home.iterdir() if path.is_dir())]:
            subprocess.run(
                ["gpgconf", "--homedir", str(keyring), "--kill", "gpg-agent"],
                check=False,
                capture_output=True,
            )
        shutil.rmtree(home, ignore_errors=True)


def make_key(home: Path, *, name: str = "CERT.ar", mail: str = "incident@ar.example") -> str:
    """Create an Ed25519/cv25519 key without passphrase in `home`; return its fingerprint."""
    gpg = gnupg.GPG(gnupghome=str(home))
    key_input = gpg.gen_key_input(
        key_type="EDDSA",
        key_curve="ed25519",
        subkey_type="ECDH",
        subkey_curve="cv25519",
        name_real=name,
        name_email=mail,
        no_protection=True,
    )
    generated = gpg.gen_key(key_input)
    assert generated.fingerprint, generated.stderr
    return str(generated.fingerprint)


def public_key(home: Path, fingerprint: str) -> str:
    """Return the ASCII-armored public key `fingerprint` of the keyring `home`."""
    return str(gnupg.GPG(gnupghome=str(home)).export_keys(fingerprint))


def decrypt(home: Path, message: email.message.Message) -> gnupg.Crypt:
    """Decrypt the PGP/MIME `message` with the keyring `home`; return gpg's result."""
    (_control, data) = message.get_payload()
    return gnupg.GPG(gnupghome=str(home)).decrypt(data.get_payload())


@pytest.fixture
def platform_home() -> Iterator[Path]:
    with gpg_home() as home:
        yield home


@pytest.fixture
def recipient_home() -> Iterator[Path]:
    with gpg_home() as home:
        yield home


@pytest.fixture
def recipient(recipient_home: Path) -> tuple[str, str]:
    """(fingerprint, armored public key) of a recipient whose secret key is in `recipient_home`."""
    fingerprint = make_key(recipient_home)
    return fingerprint, public_key(recipient_home, fingerprint)


def _inner() -> MIMEText:
    return MIMEText(BODY, "plain", "utf-8")


def test_a_message_is_encrypted_to_the_recipient_and_signed_by_the_platform(
    platform_home, recipient_home, recipient
):
    fingerprint, key = recipient
    signer, created = ensure_signing_key(home=platform_home, name="csirtnet", email="c@example")

    message = encrypt_and_sign_mime(
        _inner(), recipient_key=key, recipient_fingerprint=fingerprint, home=platform_home
    )

    assert created
    assert message.get_content_type() == "multipart/encrypted"
    assert message.get_param("protocol") == "application/pgp-encrypted"
    control, data = message.get_payload()
    assert control.get_content_type() == "application/pgp-encrypted"
    assert control.get_payload().strip() == "Version: 1"
    assert data.get_content_type() == "application/octet-stream"
    assert data.get_payload().startswith("-----BEGIN PGP MESSAGE-----")
    wire = message.as_bytes(linesep="\r\n")
    assert b"190.210.0.1" not in wire
    gnupg.GPG(gnupghome=str(recipient_home)).import_keys(public_key(platform_home, signer))
    result = decrypt(recipient_home, message)
    assert result.ok, result.status
    assert result.valid
    assert result.fingerprint == signer
    inner = email.message_from_bytes(result.data, policy=email.policy.default)
    assert inner.get_content_type() == "text/plain"
    assert inner.get_content().strip() == BODY
    assert b"\r\n" in result.data  # canonical line ends (RFC 3156 section 5)


def test_without_a_signing_key_the_message_is_encrypted_only_and_a_warning_logged_once(
    platform_home, recipient_home, recipient, caplog
):
    fingerprint, key = recipient
    caplog.set_level(logging.WARNING, logger="csirtnet.core.pgp")
    pgp._unsigned_warned.discard(str(platform_home))

    for _n in range(2):
        message = encrypt_and_sign_mime(
            _inner(), recipient_key=key, recipient_fingerprint=fingerprint, home=platform_home
        )

    result = decrypt(recipient_home, message)
    assert result.ok
    assert not result.valid
    assert "NEWSIG" not in result.stderr  # no signature at all, not an unverifiable one
    assert [r.levelname for r in caplog.records] == ["WARNING"]


def test_a_key_whose_fingerprint_is_not_the_one_on_file_is_refused(platform_home, recipient):
    fingerprint, key = recipient
    other = "0123456789ABCDEF0123456789ABCDEF01234567"

    with pytest.raises(PgpError) as error:
        encrypt_and_sign_mime(
            _inner(), recipient_key=key, recipient_fingerprint=other, home=platform_home
        )

    assert isinstance(error.value, RecipientKeyError)
    assert error.value.status == "fingerprint mismatch"
    assert fingerprint in str(error.value)
    assert other in str(error.value)


def test_a_fingerprint_written_with_spaces_and_lower_case_still_matches(
    platform_home, recipient_home, recipient
):
    fingerprint, key = recipient
    spaced = " ".join(fingerprint[i : i + 4] for i in range(0, 40, 4)).lower()

    message = encrypt_and_sign_mime(
        _inner(), recipient_key=key, recipient_fingerprint=spaced, home=platform_home
    )

    assert decrypt(recipient_home, message).ok


def test_a_secret_key_on_file_is_never_imported(platform_home, recipient_home, recipient):
    fingerprint, _key = recipient
    secret = gnupg.GPG(gnupghome=str(recipient_home)).export_keys(
        fingerprint, secret=True, expect_passphrase=False
    )
    assert "PRIVATE KEY" in secret

    with pytest.raises(PgpError) as error:
        encrypt_and_sign_mime(
            _inner(), recipient_key=secret, recipient_fingerprint=fingerprint, home=platform_home
        )

    assert error.value.status == "secret key in input"
    keyring = gnupg.GPG(gnupghome=str(platform_home))
    assert keyring.list_keys(secret=True) == []
    assert keyring.list_keys() == []


def test_text_that_is_no_key_is_refused(platform_home):
    with pytest.raises(PgpError) as error:
        encrypt_and_sign_mime(
            _inner(), recipient_key="not a key", recipient_fingerprint=None, home=platform_home
        )

    assert error.value.status == "no key"


def test_a_configured_signing_key_missing_from_the_keyring_is_an_error(platform_home, recipient):
    fingerprint, key = recipient

    with pytest.raises(PgpError) as error:
        encrypt_and_sign_mime(
            _inner(),
            recipient_key=key,
            recipient_fingerprint=fingerprint,
            home=platform_home,
            signing_key="0123456789ABCDEF0123456789ABCDEF01234567",
        )

    assert not isinstance(error.value, RecipientKeyError)  # the platform's, not the key's
    assert error.value.status == "no secret key"


def test_the_signing_key_is_created_once_in_a_private_directory(platform_home):
    home = platform_home / "keyring"

    first = ensure_signing_key(home=home, name="csirtnet", email="csirtnet@example.org")
    second = ensure_signing_key(home=home, name="other", email="other@example.org")

    assert first[1] is True
    assert second == (first[0], False)
    assert len(first[0]) == 40
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    (key,) = gnupg.GPG(gnupghome=str(home)).list_keys(secret=True)
    assert key["uids"] == ["csirtnet <csirtnet@example.org>"]
    assert key["algo"] == "22"  # EdDSA (RFC 4880bis); the subkey is ECDH (cv25519)
