"""`csirtnet set-contact-key`: a point of contact's public key on file, checked by gpg."""

from __future__ import annotations

import io

import gnupg
import pytest
from django.core.management import CommandError, call_command

from csirtnet.directory.models import PointOfContact
from tests.core.test_pgp import gpg_home, make_key, public_key

pytestmark = pytest.mark.django_db


def test_public_key_and_its_fingerprint_go_on_the_contact(directory, tmp_path):
    with gpg_home() as home:
        fingerprint = make_key(home, name="CERT.br", mail="cert@cert.br.example")
        key_file = tmp_path / "certbr.asc"
        key_file.write_text(public_key(home, fingerprint))
        out = io.StringIO()
        call_command("set_contact_key", "CERT.br", str(key_file), stdout=out)
    contact = PointOfContact.objects.get(organization__short_name="CERT.br", role="csirt_24_7")
    assert out.getvalue() == f"CERT.br\tcsirt_24_7\t{fingerprint}\n"
    assert contact.pgp_fingerprint == fingerprint
    assert contact.pgp_public_key.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")


def test_a_secret_key_is_refused_and_nothing_is_stored(directory, tmp_path):
    with gpg_home() as home:
        fingerprint = make_key(home)
        secret = gnupg.GPG(gnupghome=str(home)).export_keys(
            fingerprint, secret=True, expect_passphrase=False
        )
        key_file = tmp_path / "secret.asc"
        key_file.write_text(secret)
        with pytest.raises(CommandError, match="secret key"):
            call_command("set_contact_key", "CERT.br", str(key_file))
    contact = PointOfContact.objects.get(organization__short_name="CERT.br", role="csirt_24_7")
    assert (contact.pgp_fingerprint, contact.pgp_public_key) == ("", "")


def test_junk_and_unknown_organizations_are_clear_errors(directory, tmp_path):
    junk = tmp_path / "junk.asc"
    junk.write_text("not a key")
    with pytest.raises(CommandError, match="not a usable OpenPGP public key"):
        call_command("set_contact_key", "CERT.br", str(junk))
    with pytest.raises(CommandError, match="No organization"):
        call_command("set_contact_key", "NOPE", str(junk))
