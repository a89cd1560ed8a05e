"""`/users` (admins manage the brand's users) and `/me` (who am I)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from stockroom.auth.dependencies import CurrentPrincipal, Session
from stockroom.auth.principal import Role
from stockroom.db.models import User as UserRow
from stockroom.http.errors import error_responses
from stockroom.pagination import Page, Paging
from stockroom.users import service
from stockroom.users.schemas import Me, User, UserCreate

router = APIRouter(tags=["Users"])


def _user(row: UserRow, site_ids: list[uuid.UUID]) -> User:
    return User(
        id=row.id,
        email=row.email,
        role=Role(row.role),
        site_ids=site_ids,
        default_site_id=row.default_site_id,
        created_at=row.created_at,
    )


@router.get(
    "/users",
    operation_id="listUsers",
    summary="List users",
    response_model=Page[User],
    responses=error_responses(401, 403, 422),
)
async def list_users(session: Session, principal: CurrentPrincipal, paging: Paging) -> Page[User]:
    """The users of your brand with their granted sites, newest first (admin)."""
    principal.require_admin()
    rows, meta = await service.list_users(session, principal, paging)
    grants = await service.granted_sites(session, principal.brand_id, (r.id for r in rows))
    return Page[User](data=[_user(r, grants[r.id]) for r in rows], meta=meta)


@router.post(
    "/users",
    operation_id="createUser",
    summary="Create a user",
    status_code=201,
    response_model=User,
    responses=error_responses(401, 403, 422),
)
async def create_user(session: Session, principal: CurrentPrincipal, body: UserCreate) -> User:
    """Add a user to your brand (admin). Every site named must be a site of the brand; the
    default site is granted as well. Tokens are issued by an operator (`stockroom tokens
    create`)."""
    principal.require_admin()
    user = await service.create_user(
        session,
        principal.brand_id,
        email=body.email,
        role=body.role,
        site_ids=body.site_ids,
        default_site_id=body.default_site_id,
    )
    grants = await service.granted_sites(session, principal.brand_id, [user.id])
    return _user(user, grants[user.id])


@router.get(
    "/me",
    operation_id="getMe",
    summary="Get the calling user",
    response_model=Me,
    responses=error_responses(401),
)
async def get_me(session: Session, principal: CurrentPrincipal) -> Me:
    """Who the token belongs to: the user, its role, granted sites and brand."""
    user = await service.get_caller(session, principal)
    grants = await service.granted_sites(session, principal.brand_id, [user.id])
    return Me(**_user(user, grants[user.id]).model_dump(), brand_id=user.brand_id)
