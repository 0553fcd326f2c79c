"""
Argon2id with the smallest cost the library accepts, for the suite only: the same
algorithm and hash format as production (`argon2$argon2id$...`), about 1 ms instead
of about 130 ms per hash, which every created user and every sign-in pays. Production
keeps Django's defaults (settings.PASSWORD_HASHERS; tests/accounts checks them).
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id, 1 pass over 64 KiB with 1 lane (RFC 9106 section 3.1 minimums)."""

    time_cost = 1
    memory_cost = 64
    parallelism = 1
