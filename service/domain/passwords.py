"""Passwords for signing in to the web pages: argon2id hashes, never the password itself.

Unlike an API token, a password is chosen by a person and may be guessable, so it
is hashed with a slow, memory-hard function (argon2id, argon2-cffi's defaults,
RFC 9106's second recommended profile) and sign-in failures are throttled.
"""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from service.domain.errors import RuleViolationError

MIN_LENGTH = 12
MAX_LENGTH = 1024  # argon2 takes any length; a cap keeps one request's work bounded

# argon2-cffi's defaults: time cost 3, 64 MiB, 4 lanes (RFC 9106's low-memory profile).
PRODUCTION_HASHER = PasswordHasher()
_hasher = PRODUCTION_HASHER
# Verified when the email is unknown, so a miss takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def use_hasher(hasher: PasswordHasher) -> None:
    """Hash and verify with `hasher` from now on. The test suite uses argon2's cheapest
    parameters: a production hash costs about a tenth of a second of CPU and 64 MiB,
    and the suite hashes hundreds of passwords; the production parameters have a test
    of their own."""
    global _hasher, _DUMMY_HASH  # noqa: PLW0603 (one switch, at the suite's start)
    _hasher = hasher
    _DUMMY_HASH = hasher.hash(secrets.token_urlsafe(16))


def check_password(password: str) -> None:
    """A password a person may set. Raises RuleViolationError naming the field."""
    if len(password) < MIN_LENGTH:
        raise RuleViolationError(
            f"The password is {len(password)} characters; use at least {MIN_LENGTH} "
            "(a few unrelated words are easy to remember).",
            errors={"password": f"at least {MIN_LENGTH} characters"},
        )
    if len(password) > MAX_LENGTH:
        raise RuleViolationError(
            f"The password is longer than {MAX_LENGTH} characters.",
            errors={"password": f"at most {MAX_LENGTH} characters"},
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; a missing hash (no password set) costs the same time."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)


def new_password() -> str:
    """A random password for demo users (about 96 bits)."""
    return secrets.token_urlsafe(12)
