"""API tokens: random, shown once, stored only as a SHA-256 hash.

A token carries 32 random bytes, so a plain fast hash is enough: there is no
low-entropy secret to protect from guessing, unlike a password.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "hp_"


def new_token() -> tuple[str, str]:
    """Return (token, its hash). Only the hash may be stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
