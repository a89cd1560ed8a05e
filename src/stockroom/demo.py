"""The demo brand: two sites, bin locations, products (one location-aware), an admin and stock."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.auth.principal import Role
from stockroom.brands.service import create_brand
from stockroom.catalog.service import create_product
from stockroom.ledger import MovementDraft, post_movements
from stockroom.sites.service import create_location, create_site
from stockroom.users.service import create_token, create_user


@dataclass(frozen=True)
class Demo:
    brand_id: uuid.UUID
    user_id: uuid.UUID
    token: str
    site_ids: list[uuid.UUID]
    product_ids: list[uuid.UUID]

    def as_json(self) -> dict[str, object]:
        return {
            "brand_id": str(self.brand_id),
            "user_id": str(self.user_id),
            "token": self.token,
            "site_ids": [str(s) for s in self.site_ids],
            "product_ids": [str(p) for p in self.product_ids],
        }


async def create_demo(session: AsyncSession) -> Demo:
    """A fresh demo brand on every call, with initial stock written through the ledger."""
    tag = uuid.uuid4().hex[:6]
    brand = await create_brand(session, f"Demo Coffee Co. {tag}")
    shop = await create_site(session, brand.id, "Downtown shop")
    warehouse = await create_site(session, brand.id, "Central warehouse")
    shelf_a = await create_location(session, brand.id, warehouse.id, "Aisle A, shelf 1")
    shelf_b = await create_location(session, brand.id, warehouse.id, "Aisle B, shelf 3")
    beans = await create_product(
        session,
        brand.id,
        sku="BEANS-1KG",
        name="Espresso beans 1 kg",
        unit="bag",
        min_stock=10,
        cost_per_unit=Decimal("14.50"),
    )
    milk = await create_product(
        session,
        brand.id,
        sku="MILK-1L",
        name="Whole milk 1 L",
        unit="carton",
        min_stock=24,
        cost_per_unit=Decimal("1.10"),
    )
    cups = await create_product(
        session,
        brand.id,
        sku="CUP-12OZ",
        name="Paper cup 12 oz",
        unit="sleeve",
        min_stock=5,
        location_aware=True,
        cost_per_unit=Decimal("3.20"),
    )
    admin = await create_user(
        session,
        brand.id,
        email=f"admin-{tag}@demo.example",
        role=Role.admin,
        default_site_id=shop.id,
    )
    _, token = await create_token(session, admin)
    stock = [
        (beans.id, shop.id, 12, None, Decimal("14.50")),
        (milk.id, shop.id, 18, None, Decimal("1.10")),
        (beans.id, warehouse.id, 60, None, Decimal("14.50")),
        (milk.id, warehouse.id, 120, None, Decimal("1.10")),
        (cups.id, warehouse.id, 40, shelf_a.id, Decimal("3.20")),
        (cups.id, warehouse.id, 25, shelf_b.id, Decimal("3.20")),
    ]
    await post_movements(
        session,
        brand.id,
        [
            MovementDraft(
                type="initial_stock",
                product_id=p,
                site_id=s,
                quantity=q,
                location_id=loc,
                unit_cost=cost,
                reference="demo",
            )
            for p, s, q, loc, cost in stock
        ],
        user_id=admin.id,
    )
    await post_movements(
        session,
        brand.id,
        [
            MovementDraft(
                type="adjustment",
                product_id=milk.id,
                site_id=shop.id,
                quantity=-2,
                reason_code="waste",
                reason_description="two cartons past their date",
            ),
            MovementDraft(
                type="adjustment",
                product_id=beans.id,
                site_id=shop.id,
                quantity=1,
                reason_code="correction",
                reason_description="recount found one more bag",
            ),
        ],
        user_id=admin.id,
    )
    return Demo(brand.id, admin.id, token, [shop.id, warehouse.id], [beans.id, milk.id, cups.id])
