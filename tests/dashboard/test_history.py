"""The product's stock history, computed by the database from the ledger."""

from __future__ import annotations

from stockroom.auth.principal import Role
from stockroom.dashboard.service import dashboard_user, principal_for_token, stock_history
from tests.factories import (
    Database,
    create_brand_with_admin,
    create_caller,
    create_product,
    create_site,
    put_stock,
)


async def test_history_is_the_running_total_of_the_movements_oldest_first(db: Database) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    tea = await create_product(brand, sku="TEA")
    other = await create_product(brand, sku="OTHER")
    for quantity, site in ((10, brand.site_id), (-3, brand.site_id), (5, warehouse)):
        await put_stock(brand, tea, quantity, site_id=site)
    await put_stock(brand, other, 100)

    async with db.sessionmaker() as session:
        principal = await principal_for_token(session, brand.admin.token)
        assert principal is not None
        baseline, points = await stock_history(session, principal, tea)
        window_baseline, window = await stock_history(session, principal, tea, limit=2)

    assert baseline == 0
    assert [(p.quantity, p.on_hand) for p in points] == [(10, 10), (-3, 7), (5, 12)]
    assert [p.created_at for p in points] == sorted(p.created_at for p in points)
    # Only the newest two: the total before them is what the older movements left.
    assert window_baseline == 10
    assert [(p.quantity, p.on_hand) for p in window] == [(-3, 7), (5, 12)]


async def test_history_counts_only_the_sites_the_caller_may_read(db: Database) -> None:
    brand = await create_brand_with_admin(db)
    hidden = await create_site(brand, name="Hidden")
    tea = await create_product(brand, sku="TEA")
    await put_stock(brand, tea, 4)
    await put_stock(brand, tea, 50, site_id=hidden)
    await put_stock(brand, tea, 1)
    viewer = await create_caller(brand, Role.viewer, site_ids=[brand.site_id])

    async with db.sessionmaker() as session:
        principal = await principal_for_token(session, viewer.token)
        assert principal is not None
        baseline, points = await stock_history(session, principal, tea)
        user = await dashboard_user(session, principal)

    assert baseline == 0
    assert [(p.quantity, p.on_hand) for p in points] == [(4, 4), (1, 5)]
    assert [s.name for s in user.sites] == ["Main shop"]
