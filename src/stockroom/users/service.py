"""Users of a brand, their site grants, and their API tokens."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.auth.principal import Principal, Role
from stockroom.auth.scope import brand_scoped, brand_scoped_columns
from stockroom.auth.token_cache import TOKEN_CACHE
from stockroom.auth.tokens import DISPLAY_PREFIX_LENGTH, TOKEN_PREFIX, hash_token, issue_token
from stockroom.db.models import ApiToken, Site, User, UserSite
from stockroom.db.models.base import utcnow
from stockroom.errors import NotFound, ValidationFailed, field_error
from stockroom.pagination import PageMeta, PageParams, fetch_page


async def create_user(
    session: AsyncSession,
    brand_id: uuid.UUID,
    *,
    email: str,
    role: Role,
    site_ids: Iterable[uuid.UUID] = (),
    default_site_id: uuid.UUID | None = None,
) -> User:
    """A new user; every granted site and the default site must be sites of the brand."""
    site_ids = list(dict.fromkeys(site_ids))
    named = set(site_ids) | ({default_site_id} if default_site_id else set())
    known = set(
        (
            await session.execute(
                select(Site.id).where(Site.brand_id == brand_id, Site.id.in_(named))
            )
        ).scalars()
    )
    details = [field_error("site_ids", f"unknown site {s}") for s in site_ids if s not in known]
    if default_site_id and default_site_id not in known:
        details.append(field_error("default_site_id", f"unknown site {default_site_id}"))
    taken = (
        await session.execute(
            select(User.id).where(
                User.brand_id == brand_id, func.lower(User.email) == email.lower()
            )
        )
    ).first()
    if taken:
        details.append(field_error("email", "a user with this email already exists"))
    if details:
        raise ValidationFailed("The user cannot be created.", details)
    user = User(brand_id=brand_id, email=email, role=role.value, default_site_id=default_site_id)
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:
        # Two concurrent requests for one email (PostgreSQL): the unique index decides.
        raise ValidationFailed(
            "The user cannot be created.",
            [field_error("email", "a user with this email already exists")],
        ) from exc
    # A default site is readable by its user, so it counts as granted.
    grants = site_ids + (
        [default_site_id] if default_site_id and default_site_id not in site_ids else []
    )
    session.add_all(UserSite(brand_id=brand_id, user_id=user.id, site_id=s) for s in grants)
    await session.flush()
    return user


async def granted_sites(
    session: AsyncSession, brand_id: uuid.UUID, user_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """The sites granted to each of the users, in a stable order."""
    grants: dict[uuid.UUID, list[uuid.UUID]] = {user_id: [] for user_id in user_ids}
    if not grants:
        return grants
    rows = await session.execute(
        brand_scoped_columns(UserSite, brand_id, UserSite.user_id, UserSite.site_id)
        .where(UserSite.user_id.in_(grants))
        .order_by(UserSite.user_id, UserSite.site_id)
    )
    for user_id, site_id in rows:
        grants[user_id].append(site_id)
    return grants


async def list_users(
    session: AsyncSession, principal: Principal, params: PageParams
) -> tuple[list[User], PageMeta]:
    """One page of the brand's users, newest first."""
    query = brand_scoped(User, principal).order_by(User.created_at.desc(), User.id.desc())
    return await fetch_page(session, query, params)


async def users_by_email(session: AsyncSession, brand_id: uuid.UUID) -> list[User]:
    """Every user of the brand, by email."""
    found = await session.execute(brand_scoped(User, brand_id).order_by(User.email, User.id))
    return list(found.scalars())


async def find_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    """Any brand's user by id (operators at the command line), or NotFound."""
    user = (await session.execute(select(User).where(User.id == user_id))).scalar()
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


async def user_tokens(session: AsyncSession, user: User) -> list[ApiToken]:
    """The user's tokens, live and revoked, oldest first."""
    found = await session.execute(
        brand_scoped(ApiToken, user.brand_id)
        .where(ApiToken.user_id == user.id)
        .order_by(ApiToken.created_at, ApiToken.id)
    )
    return list(found.scalars())


async def get_caller(session: AsyncSession, principal: Principal) -> User:
    """The calling user's own row (it exists: its token was just accepted)."""
    query = brand_scoped(User, principal).where(User.id == principal.user_id)
    return (await session.execute(query)).scalar_one()


async def create_token(session: AsyncSession, user: User) -> tuple[ApiToken, str]:
    """A new bearer token for the user; the clear token is returned once and never stored."""
    issued = issue_token(user.brand_id)
    token = ApiToken(
        brand_id=user.brand_id,
        user_id=user.id,
        token_hash=issued.token_hash,
        prefix=issued.prefix,
    )
    session.add(token)
    await session.flush()
    return token, issued.token


async def revoke_tokens(session: AsyncSession, prefix_or_id: str) -> int:
    """Revoke the live tokens named by display prefix (or whole token) or id; return how many."""
    conditions = []
    if prefix_or_id.startswith(TOKEN_PREFIX):
        if len(prefix_or_id) > DISPLAY_PREFIX_LENGTH:
            conditions.append(ApiToken.token_hash == hash_token(prefix_or_id))
        else:
            conditions.append(ApiToken.prefix == prefix_or_id)
    with contextlib.suppress(ValueError):
        conditions.append(ApiToken.id == uuid.UUID(prefix_or_id))
    if not conditions:
        return 0
    # Tokens cached in this process are forgotten now; other processes within the cache TTL.
    TOKEN_CACHE.clear()
    result = await session.execute(
        update(ApiToken)
        .where(or_(*conditions), ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .returning(ApiToken.id)
    )
    return len(result.all())
