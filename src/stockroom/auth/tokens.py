"""API tokens: random secrets handed out once and stored only as SHA-256 hashes.

And the plain helpers that turn an `Authorization` header into a `Principal` (used by the
request pipeline, the dashboard and the CLI; no FastAPI here).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.auth.principal import Principal, Role
from stockroom.auth.token_cache import TOKEN_CACHE
from stockroom.db.core import execute_core
from stockroom.db.models import ApiToken, User, UserSite
from stockroom.errors import Unauthenticated
from stockroom.observability.context import bind_brand

TOKEN_PREFIX = "sr_"  # noqa: S105  (a marker, not a secret)
# What people see to tell tokens apart (and pass to `tokens revoke`): "sr_" + 8 characters.
DISPLAY_PREFIX_LENGTH = len(TOKEN_PREFIX) + 8
# Not in the secret's URL-safe alphabet, and allowed in a bearer token (RFC 6750 token68).
BRAND_SEPARATOR = "."


@dataclass(frozen=True)
class IssuedToken:
    token: str
    token_hash: str
    prefix: str


def hash_token(token: str) -> str:
    # A 256-bit random secret needs no slow hash; SHA-256 makes the stored value useless to a thief.
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(brand_id: uuid.UUID) -> IssuedToken:
    # The brand rides along in clear after the secret ("sr_<secret>.<brand hex>"), so a lookup
    # reads one brand's rows (one shard under Citus). It grants nothing: the hash covers it.
    token = f"{TOKEN_PREFIX}{secrets.token_urlsafe(32)}{BRAND_SEPARATOR}{brand_id.hex}"
    return IssuedToken(token, hash_token(token), token[:DISPLAY_PREFIX_LENGTH])


def token_brand(token: str) -> uuid.UUID | None:
    """The brand a token names, or None for a token minted before tokens carried their brand."""
    _, separator, brand_hex = token.rpartition(BRAND_SEPARATOR)
    if not separator or len(brand_hex) != 32:
        return None
    try:
        return uuid.UUID(hex=brand_hex)
    except ValueError:
        return None


def looks_like_token(value: str) -> bool:
    return value.startswith(TOKEN_PREFIX) and 20 <= len(value) <= 200 and value.isascii()


def bearer_token(header: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header (401 when there is none)."""
    if not header:
        raise Unauthenticated("The Authorization header is missing.")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not looks_like_token(token):
        raise Unauthenticated("The Authorization header must be `Bearer <token>`.")
    return token


def cached_principal(token: str) -> Principal | None:
    """The token's user as this process looked it up moments ago (auth/token_cache.py)."""
    cached = TOKEN_CACHE.get(hash_token(token))
    if cached is not None:
        bind_brand(cached.brand_id)
    return cached


async def load_principal(session: AsyncSession, token: str) -> Principal:
    """Resolve a token to its user with one query; revoked or unknown tokens are refused."""
    token_hash = hash_token(token)
    cached = TOKEN_CACHE.get(token_hash)
    if cached is not None:
        bind_brand(cached.brand_id)
        return cached
    # Joined on brand_id at every step: the three tables are co-located by brand (Citus).
    query = (
        select(
            ApiToken.token_hash,
            User.id,
            User.brand_id,
            User.role,
            User.default_site_id,
            UserSite.site_id,
        )
        .join(User, (User.brand_id == ApiToken.brand_id) & (User.id == ApiToken.user_id))
        .outerjoin(UserSite, (UserSite.brand_id == User.brand_id) & (UserSite.user_id == User.id))
        .where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None))
    )
    brand_id = token_brand(token)
    if brand_id is not None:
        query = query.where(ApiToken.brand_id == brand_id)
    rows = (await execute_core(session, query)).all()
    # The lookup is by an index on the hash; compare in constant time all the same.
    if not rows or not hmac.compare_digest(rows[0][0], token_hash):
        raise Unauthenticated("The token is unknown or has been revoked.")
    _, user_id, brand_id, role, default_site_id, _ = rows[0]
    bind_brand(brand_id)  # observability: the request's log line names its brand
    principal = Principal(
        user_id=user_id,
        brand_id=brand_id,
        role=Role(role),
        site_ids=frozenset(row[5] for row in rows if row[5] is not None),
        default_site_id=default_site_id,
    )
    TOKEN_CACHE.put(token_hash, principal)
    return principal
