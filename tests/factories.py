"""Plain factory functions: each test makes the brand, sites, users and products it reads.

They call the service's own functions (not raw SQL), in their own committed transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from stockroom.auth.principal import Role
from stockroom.brands.service import create_brand
from stockroom.catalog.service import create_product as _create_product
from stockroom.db.engine import WRITE
from stockroom.ledger import MovementDraft, post_movements
from stockroom.sites.service import create_location as _create_location
from stockroom.sites.service import create_site as _create_site
from stockroom.users.service import create_token, create_user


@dataclass
class Database:
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as session:
            await session.connection(execution_options={WRITE: True})
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            await session.commit()


@dataclass
class Caller:
    user_id: uuid.UUID
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Brand:
    """A brand made for one test, with an admin caller and a first site."""

    db: Database
    id: uuid.UUID
    admin: Caller
    site_id: uuid.UUID
    sites: list[uuid.UUID] = field(default_factory=list)


async def create_brand_with_admin(db: Database, *, name: str = "Test brand") -> Brand:
    async with db.transaction() as session:
        brand = await create_brand(session, name)
        site = await _create_site(session, brand.id, "Main shop")
        user = await create_user(
            session,
            brand.id,
            email=f"admin-{uuid.uuid4().hex[:8]}@example.com",
            role=Role.admin,
            default_site_id=site.id,
        )
        _, token = await create_token(session, user)
    return Brand(db, brand.id, Caller(user.id, token), site.id, [site.id])


async def create_site(
    brand: Brand, *, name: str = "Site", allow_negative_stock: bool = False
) -> uuid.UUID:
    async with brand.db.transaction() as session:
        site = await _create_site(
            session, brand.id, name, allow_negative_stock=allow_negative_stock
        )
    brand.sites.append(site.id)
    return site.id


async def create_location(brand: Brand, site_id: uuid.UUID, *, name: str = "Bin") -> int:
    async with brand.db.transaction() as session:
        location = await _create_location(session, brand.id, site_id, name)
    return location.id


async def create_caller(
    brand: Brand,
    role: Role,
    *,
    site_ids: list[uuid.UUID] | None = None,
    default_site_id: uuid.UUID | None = None,
) -> Caller:
    async with brand.db.transaction() as session:
        user = await create_user(
            session,
            brand.id,
            email=f"{role.value}-{uuid.uuid4().hex[:8]}@example.com",
            role=role,
            site_ids=site_ids or [],
            default_site_id=default_site_id,
        )
        _, token = await create_token(session, user)
    return Caller(user.id, token)


async def create_product(brand: Brand, **overrides: Any) -> uuid.UUID:
    values: dict[str, Any] = {"sku": f"SKU-{uuid.uuid4().hex[:10]}", "name": "Widget"}
    values.update(overrides)
    if "cost_per_unit" in values:
        values["cost_per_unit"] = Decimal(str(values["cost_per_unit"]))
    async with brand.db.transaction() as session:
        product = await _create_product(session, brand.id, **values)
    return product.id


async def put_stock(
    brand: Brand,
    product_id: uuid.UUID,
    quantity: int,
    *,
    site_id: uuid.UUID | None = None,
    location_id: int | None = None,
) -> None:
    """Put stock in place through the ledger writer (as an adjustment by the admin)."""
    async with brand.db.transaction() as session:
        await post_movements(
            session,
            brand.id,
            [
                MovementDraft(
                    type="adjustment",
                    product_id=product_id,
                    site_id=site_id or brand.site_id,
                    quantity=quantity,
                    location_id=location_id,
                    reason_code="test-setup",
                )
            ],
            user_id=brand.admin.user_id,
        )
