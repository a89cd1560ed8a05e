"""FastAPI dependencies: the bearer token → Principal, and the request's current site."""

from __future__ import annotations

import hmac
import uuid
from typing import Annotated

from fastapi import Depends, Header, Request, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.auth.principal import Principal, Role
from stockroom.auth.token_cache import TOKEN_CACHE
from stockroom.auth.tokens import hash_token, looks_like_token
from stockroom.db.core import execute_core
from stockroom.db.models import ApiToken, User, UserSite
from stockroom.db.session import get_session
from stockroom.errors import Unauthenticated
from stockroom.observability.context import bind_brand
from stockroom.ratelimit import enforce_rate_limit

Session = Annotated[AsyncSession, Depends(get_session, scope="function")]


def bearer_token(header: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header (401 when there is none)."""
    if not header:
        raise Unauthenticated("The Authorization header is missing.")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not looks_like_token(token):
        raise Unauthenticated("The Authorization header must be `Bearer <token>`.")
    return token


async def load_principal(session: AsyncSession, token: str) -> Principal:
    """Resolve a token to its user with one query; revoked or unknown tokens are refused."""
    token_hash = hash_token(token)
    cached = TOKEN_CACHE.get(token_hash)
    if cached is not None:
        bind_brand(cached.brand_id)
        return cached
    rows = (
        await execute_core(
            session,
            select(
                ApiToken.token_hash,
                User.id,
                User.brand_id,
                User.role,
                User.default_site_id,
                UserSite.site_id,
            )
            .join(User, User.id == ApiToken.user_id)
            .outerjoin(
                UserSite, (UserSite.user_id == User.id) & (UserSite.brand_id == User.brand_id)
            )
            .where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None)),
        )
    ).all()
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


async def get_principal(request: Request, response: Response, session: Session) -> Principal:
    token = bearer_token(request.headers.get("authorization"))
    principal = await load_principal(session, token)
    await enforce_rate_limit(request, response, token)  # after authentication: 401 comes first
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


async def site_header(
    x_site_id: Annotated[
        uuid.UUID | None,
        Header(description="Current site when the body or query names none."),
    ] = None,
) -> uuid.UUID | None:
    return x_site_id


SiteHeader = Annotated[uuid.UUID | None, Depends(site_header)]
