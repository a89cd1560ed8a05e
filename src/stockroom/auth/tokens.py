"""API tokens: random secrets handed out once and stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

TOKEN_PREFIX = "sr_"  # noqa: S105  (a marker, not a secret)
# What people see to tell tokens apart (and pass to `tokens revoke`): "sr_" + 8 characters.
DISPLAY_PREFIX_LENGTH = len(TOKEN_PREFIX) + 8


@dataclass(frozen=True)
class IssuedToken:
    token: str
    token_hash: str
    prefix: str


def hash_token(token: str) -> str:
    # A 256-bit random secret needs no slow hash; SHA-256 makes the stored value useless to a thief.
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token() -> IssuedToken:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return IssuedToken(token, hash_token(token), token[:DISPLAY_PREFIX_LENGTH])


def looks_like_token(value: str) -> bool:
    return value.startswith(TOKEN_PREFIX) and 20 <= len(value) <= 200 and value.isascii()
