"""OpenPGP for e-mail with the system gpg: PGP/MIME encryption (RFC 3156) and the signing key."""

from __future__ import annotations

import email.encoders
import fcntl
import io
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from email.generator import BytesGenerator
from email.message import Message
from email.mime.base import MIMEBase
from pathlib import Path
from typing import Any

import gnupg
from django.core.mail.message import SafeMIMEMultipart
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

_HOME_MODE = 0o700  # gpg refuses (warns about) a home directory others can read
_LOCK_FILE = ".csirtnet-keygen.lock"
_RECIPIENT_STATUSES = ("invalid recipient", "key expired")  # gpg's words for a bad key
_unsigned_warned: set[str] = set()  # keyrings already warned about, once per process


class PgpError(Exception):
    """
    gpg refused an operation, or a key is unusable. `str(error)` says why in words;
    `status` is gpg's own status ("invalid recipient", "no secret key"…) or a short code
    of this module ("fingerprint mismatch", "secret key in input", "no key").
    """

    def __init__(self, message: str, *, status: str = "") -> None:
        super().__init__(message)
        self.status = status


class RecipientKeyError(PgpError):
    """
    The recipient's key is unusable (no public key, a secret key, another fingerprint,
    several keys, expired or unable to encrypt): only a new key on file can fix it.
    Other `PgpError`s are the platform's (gpg missing, signing key or passphrase wrong).
    """


def normalize_fingerprint(value: str) -> str:
    """Return a fingerprint as the directory keeps it: upper-case hex digits, no spaces."""
    return "".join(value.split()).upper()


def prepare_home(home: str | os.PathLike[str]) -> Path:
    """
    Return the keyring directory `home`, created with mode 0700 when missing (gpg warns
    about, and agents refuse, a home that others can read).
    """
    path = Path(home)
    if not path.is_dir():
        path.mkdir(mode=_HOME_MODE, parents=True, exist_ok=True)
        path.chmod(_HOME_MODE)  # mkdir's mode is filtered by the umask
    return path


def encrypt_and_sign_mime(
    inner: Message,
    *,
    recipient_key: str,
    recipient_fingerprint: str | None,
    home: str | os.PathLike[str],
    signing_key: str = "",
    passphrase: str = "",
    gpg_binary: str = "gpg",
) -> SafeMIMEMultipart:
    """
    Return `inner` (a complete MIME entity, e.g. a text/plain part with its headers)
    encrypted as an RFC 3156 PGP/MIME message: `multipart/encrypted;
    protocol="application/pgp-encrypted"` with two parts, `application/pgp-encrypted`
    ("Version: 1") and `application/octet-stream` (the ASCII-armored OpenPGP message,
    RFC 4880). The caller adds the outer headers (Subject, From, To…).

    `recipient_key` (ASCII-armored public key) is imported into the keyring at `home`;
    when `recipient_fingerprint` is given, that key must be among those imported, else
    the only key of `recipient_key` is used. The data is encrypted to that fingerprint
    with the "always" trust model (the directory vouches for the key, not the web of
    trust). It is signed in the same operation (RFC 3156 section 6.2, combined method)
    with `signing_key` (a fingerprint), or with the keyring's only secret key when
    `signing_key` is empty; with no such key it is encrypted only, and a warning is
    logged once per process. `passphrase` unlocks the signing key ("" for none).
    The entity is serialized with CRLF line ends (canonical form, RFC 3156 section 5).

    Raises:
        RecipientKeyError: `recipient_key` holds no public key, holds a secret key, has
            not the fingerprint `recipient_fingerprint`, or gpg cannot encrypt to it
            (expired, revoked, no encryption subkey).
        PgpError: gpg cannot be run, `signing_key` is not in the keyring, the
            passphrase is wrong, or gpg failed otherwise (its status in `status`).
    """
    gpg = _gpg(home, gpg_binary)
    fingerprint = _import_recipient(gpg, recipient_key, recipient_fingerprint)
    signer = _signer(gpg, signing_key, home)
    if passphrase and not gpg.is_valid_passphrase(passphrase):
        raise PgpError(_("The PGP passphrase cannot contain line breaks."), status="passphrase")
    result = gpg.encrypt(
        _canonical_bytes(inner),
        fingerprint,
        sign=signer,
        passphrase=passphrase or None,
        always_trust=True,
        armor=True,
    )
    if not result.ok:
        status = str(result.status or "")
        error = RecipientKeyError if status.startswith(_RECIPIENT_STATUSES) else PgpError
        raise error(
            _("gpg could not encrypt the message: %(status)s") % {"status": _status(result)},
            status=status,
        )
    return _pgp_mime(bytes(result.data).decode("ascii"))


def ensure_signing_key(
    *,
    home: str | os.PathLike[str],
    name: str,
    email: str,
    signing_key: str = "",
    gpg_binary: str = "gpg",
) -> tuple[str, bool]:
    """
    Return `(fingerprint, created)`: the keyring's signing key, created when it has no
    secret key. The key is OpenPGP (RFC 4880 with RFC 6637 curves): an Ed25519 primary
    key for signing and a Curve25519 (cv25519) subkey for encryption, user ID
    `name <email>`, no expiry, no passphrase (the keyring directory, mode 0700, protects
    it). Runs once at a time per keyring (a file lock), so it is safe to run again.

    Raises:
        PgpError: `signing_key` is set but not a secret key of the keyring, the keyring
            holds several secret keys and `signing_key` picks none, or gpg failed.
    """
    with _home_lock(home):
        gpg = _gpg(home, gpg_binary)
        secret = _secret_fingerprints(gpg)
        if signing_key:
            wanted = normalize_fingerprint(signing_key)
            if wanted not in secret:
                raise PgpError(_missing_signing_key(wanted), status="no secret key")
            return wanted, False
        if len(secret) == 1:
            return secret[0], False
        if secret:
            raise PgpError(
                _(
                    "The keyring holds %(count)d secret keys; set CSIRTNET_PGP_SIGNING_KEY "
                    "to the fingerprint of the one that signs."
                )
                % {"count": len(secret)},
                status="several secret keys",
            )
        key_input = gpg.gen_key_input(
            key_type="EDDSA",
            key_curve="ed25519",
            subkey_type="ECDH",
            subkey_curve="cv25519",
            name_real=name,
            name_email=email,
            no_protection=True,
        )
        generated = gpg.gen_key(key_input)
        if not generated.fingerprint:
            raise PgpError(
                _("gpg could not create the key: %(status)s") % {"status": _status(generated)},
                status=str(generated.status or ""),
            )
        return normalize_fingerprint(str(generated.fingerprint)), True


def public_key_fingerprint(armored: str, *, gpg_binary: str = "gpg") -> str:
    """
    Return the fingerprint (40 upper-case hex digits) of the one OpenPGP public key in
    `armored` (RFC 4880 ASCII armor), read in a throw-away keyring.

    Raises:
        RecipientKeyError: no key, several keys, or a secret key in the input.
        PgpError: gpg cannot be run.
    """
    with tempfile.TemporaryDirectory(prefix="csirtnet-key-") as home:
        gpg = _gpg(home, gpg_binary)
        try:
            return _import_recipient(gpg, armored, None)
        finally:
            gpgconf = shutil.which("gpgconf")
            if gpgconf:  # stop an agent the import may have started in the throw-away home
                subprocess.run(  # noqa: S603 (fixed arguments, no shell)
                    [gpgconf, "--homedir", home, "--kill", "all"], check=False, capture_output=True
                )


def _gpg(home: str | os.PathLike[str], gpg_binary: str) -> Any:
    path = prepare_home(home)
    try:
        return gnupg.GPG(gpgbinary=gpg_binary, gnupghome=str(path))
    except (OSError, ValueError) as exc:
        raise PgpError(
            _("gpg cannot be run (%(binary)s): %(error)s") % {"binary": gpg_binary, "error": exc},
            status="no gpg",
        ) from exc


def _import_recipient(gpg: Any, key: str, expected: str | None) -> str:
    """Import the public key(s) of `key` and return the fingerprint to encrypt to."""
    # A dry run first: a secret key pasted as "public key" must never enter the keyring.
    trial = gpg.import_keys(key, extra_args=["--dry-run"])
    if trial.sec_read:
        raise RecipientKeyError(
            _(
                "The key on file contains a secret key; it was not imported. Publish "
                "only the public key."
            ),
            status="secret key in input",
        )
    imported = gpg.import_keys(key) if trial.count else None
    found = [
        normalize_fingerprint(str(fpr)) for fpr in (imported.fingerprints if imported else [])
    ]
    if not found:
        raise RecipientKeyError(
            _("The key on file is not a usable OpenPGP public key."), status="no key"
        )
    if expected:
        wanted = normalize_fingerprint(expected)
        if wanted not in found:
            raise RecipientKeyError(
                _(
                    "The PGP key on file has fingerprint %(found)s, not the fingerprint on "
                    "file %(expected)s; nothing was sent."
                )
                % {"found": ", ".join(found), "expected": wanted},
                status="fingerprint mismatch",
            )
        return wanted
    if len(set(found)) != 1:
        raise RecipientKeyError(
            _("The key on file holds %(count)d keys and no fingerprint says which one to use.")
            % {"count": len(set(found))},
            status="ambiguous key",
        )
    return found[0]


def _signer(gpg: Any, signing_key: str, home: str | os.PathLike[str]) -> str | None:
    """Return the fingerprint that signs, or None (encrypt only; warn once per keyring)."""
    secret = _secret_fingerprints(gpg)
    if signing_key:
        wanted = normalize_fingerprint(signing_key)
        if wanted not in secret:
            raise PgpError(_missing_signing_key(wanted), status="no secret key")
        return wanted
    if len(secret) == 1:
        return secret[0]
    key = str(home)
    if key not in _unsigned_warned:
        _unsigned_warned.add(key)
        logger.warning(
            "The PGP keyring %s has %d secret keys and CSIRTNET_PGP_SIGNING_KEY is empty: "
            "mail is encrypted but not signed (run `csirtnet create-signing-key`).",
            key,
            len(secret),
        )
    return None


def _secret_fingerprints(gpg: Any) -> list[str]:
    return [normalize_fingerprint(str(key["fingerprint"])) for key in gpg.list_keys(secret=True)]


def _missing_signing_key(fingerprint: str) -> str:
    return _(
        "The signing key %(fingerprint)s (CSIRTNET_PGP_SIGNING_KEY) is not a secret key "
        "of the platform keyring."
    ) % {"fingerprint": fingerprint}


def _status(result: Any) -> str:
    """Return gpg's status, or the last line it wrote on stderr when it gave none."""
    status = str(result.status or "").strip()
    if status:
        return status
    lines = [line for line in str(result.stderr or "").splitlines() if line.strip()]
    return lines[-1][:200] if lines else "unknown error"


def _canonical_bytes(entity: Message) -> bytes:
    buffer = io.BytesIO()
    BytesGenerator(buffer, mangle_from_=False).flatten(entity, linesep="\r\n")
    return buffer.getvalue()


def _pgp_mime(armored: str) -> SafeMIMEMultipart:
    """Wrap an armored OpenPGP message as RFC 3156 section 4 `multipart/encrypted`."""
    control = MIMEBase("application", "pgp-encrypted")
    control["Content-Description"] = "PGP/MIME version identification"
    control.set_payload("Version: 1\n")
    email.encoders.encode_7or8bit(control)
    data = MIMEBase("application", "octet-stream", name="encrypted.asc")
    data["Content-Description"] = "OpenPGP encrypted message"
    data["Content-Disposition"] = 'inline; filename="encrypted.asc"'
    data.set_payload(armored)
    email.encoders.encode_7or8bit(data)
    outer = SafeMIMEMultipart("encrypted", protocol="application/pgp-encrypted")
    outer.preamble = "This is an OpenPGP/MIME encrypted message (RFC 3156)."
    outer.attach(control)
    outer.attach(data)
    return outer


@contextmanager
def _home_lock(home: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive lock on the keyring while its signing key is looked up or made."""
    path = prepare_home(home) / _LOCK_FILE
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
