"""Passwords are hashed with Argon2id in production; the suite only makes it cheaper."""

from __future__ import annotations

import importlib

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher, make_password

PRODUCTION = importlib.import_module("csirtnet.settings")


def test_production_hashes_with_argon2_at_djangos_cost():
    from django.contrib.auth.hashers import Argon2PasswordHasher

    assert PRODUCTION.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    hasher = Argon2PasswordHasher()
    encoded = hasher.encode("correct horse", hasher.salt())
    params = hasher.decode(encoded)
    assert encoded.startswith("argon2$argon2id$")
    assert (params["time_cost"], params["memory_cost"], params["parallelism"]) == (2, 102400, 8)


@pytest.mark.parametrize("password", ["pw-owner", "contraseña-ñandú"])
def test_the_suites_hashes_are_argon2id_and_verify(password):
    encoded = make_password(password)
    assert encoded.startswith("argon2$argon2id$v=19$m=64,t=1,p=1$")
    assert identify_hasher(encoded).algorithm == "argon2"
    assert check_password(password, encoded)
    assert not check_password(password + "x", encoded)
