"""Users of a brand, their site grants, and their API tokens."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.auth.principal import Role
from stockroom.auth.tokens import DISPLAY_PREFIX_LENGTH, TOKEN_PREFIX, hash_token, issue_token
from stockroom.db.models import ApiToken, Site, User, UserSite
from stockroom.db.models.base import utcnow
from stockroom.errors import ValidationFailed, field_error


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
        await session.execute(select(User.id).where(User.brand_id == brand_id, User.email == email))
    ).first()
    if taken:
        details.append(field_error("email", "a user with this email already exists"))
    if details:
        raise ValidationFailed("The user cannot be created.", details)
    user = User(brand_id=brand_id, email=email, role=role.value, default_site_id=default_site_id)
    session.add(user)
    await session.flush()
    # A default site is readable by its user, so it counts as granted.
    grants = site_ids + (
        [default_site_id] if default_site_id and default_site_id not in site_ids else []
    )
    session.add_all(UserSite(brand_id=brand_id, user_id=user.id, site_id=s) for s in grants)
    await session.flush()
    return user


async def create_token(session: AsyncSession, user: User) -> tuple[ApiToken, str]:
    """A new bearer token for the user; the clear token is returned once and never stored."""
    issued = issue_token()
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
    result = await session.execute(
        update(ApiToken)
        .where(or_(*conditions), ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .returning(ApiToken.id)
    )
    return len(result.all())
