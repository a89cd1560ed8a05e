"""The dashboard's pages over HTTP: stock by site, search, low stock, product, movements."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from stockroom.auth.principal import Role
from stockroom.dashboard import pages as dashboard_pages
from tests.dashboard.pages import select_options, table_rows, use_token
from tests.factories import (
    Database,
    create_brand_with_admin,
    create_caller,
    create_location,
    create_product,
    create_site,
    put_stock,
)


async def test_stock_page_shows_each_site_and_the_total_or_one_chosen_site(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    tea = await create_product(brand, sku="A-TEA", name="Tea", min_stock=5)
    await create_product(brand, sku="B-NEVER", name="Never stocked")
    await put_stock(brand, tea, 3)
    await put_stock(brand, tea, 40, site_id=warehouse)
    use_token(client, brand.admin.token)

    everywhere = await client.get("/dashboard")
    at_warehouse = await client.get("/dashboard", params={"site_id": str(warehouse)})
    at_shop = await client.get("/dashboard", params={"site_id": str(brand.site_id)})

    assert everywhere.status_code == 200
    assert select_options(everywhere.text, "site_id") == ["All sites", "Main shop", "Warehouse"]
    # SKU, name, unit, then one column per site (by name) and the total.
    assert table_rows(everywhere.text, "stock") == [
        ["A-TEA", "Tea", "unit", "3 low", "40", "43"],  # low said in words, not colour alone
        ["B-NEVER", "Never stocked", "unit", "0", "0", "0"],
    ]
    assert table_rows(at_warehouse.text, "stock")[0] == ["A-TEA", "Tea", "unit", "40", "5", "OK"]
    assert table_rows(at_shop.text, "stock")[0] == ["A-TEA", "Tea", "unit", "3", "5", "Low"]


async def test_stock_search_matches_sku_or_name_in_any_case(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    await create_product(brand, sku="TEA-GREEN", name="Green tea")
    await create_product(brand, sku="MUG-1", name="Teapot mug")
    await create_product(brand, sku="CUP-1", name="Paper cup")
    await create_product(brand, sku="PCT-1", name="100% juice")
    use_token(client, brand.admin.token)

    tea = await client.get("/dashboard", params={"q": "tEa"})
    cup = await client.get("/dashboard", params={"q": "cup-1"})
    percent = await client.get("/dashboard", params={"q": "%"})
    nothing = await client.get("/dashboard", params={"q": "coffee"})

    assert [row[0] for row in table_rows(tea.text, "stock")] == ["MUG-1", "TEA-GREEN"]
    assert [row[0] for row in table_rows(cup.text, "stock")] == ["CUP-1"]
    assert [row[0] for row in table_rows(percent.text, "stock")] == ["PCT-1"]
    assert 'value="tEa"' in tea.text  # the search box keeps the query
    assert "No product matches “coffee”." in nothing.text


async def test_stock_page_is_paginated_and_keeps_the_filters_in_its_links(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    for n in range(dashboard_pages.PER_PAGE + 3):
        await create_product(brand, sku=f"P-{n:03d}", name=f"Part {n}")
    use_token(client, brand.admin.token)

    first = await client.get("/dashboard", params={"q": "part"})
    second = await client.get("/dashboard", params={"q": "part", "page": 2})
    beyond = await client.get("/dashboard", params={"page": 0})

    assert len(table_rows(first.text, "stock")) == dashboard_pages.PER_PAGE
    assert [row[0] for row in table_rows(second.text, "stock")] == ["P-025", "P-026", "P-027"]
    assert "Page 1 of 2" in first.text
    assert 'href="/dashboard?q=part&amp;page=2"' in first.text
    assert beyond.status_code == 422


async def test_another_brands_product_page_is_not_found(
    client: httpx.AsyncClient, db: Database
) -> None:
    ours = await create_brand_with_admin(db, name="Ours")
    theirs = await create_brand_with_admin(db, name="Theirs")
    secret = await create_product(theirs, sku="SECRET-1", name="Their secret")
    await put_stock(theirs, secret, 9)
    use_token(client, ours.admin.token)

    response = await client.get(f"/dashboard/products/{secret}")
    unknown = await client.get(f"/dashboard/products/{uuid.uuid4()}")
    malformed = await client.get("/dashboard/products/not-an-id")

    for page in (response, unknown, malformed):
        assert page.status_code == 404
        assert page.headers["content-type"].startswith("text/html")
        assert "Not found" in page.text
        assert "SECRET-1" not in page.text
    # Their product is in none of our lists either.
    everything = await client.get("/dashboard")
    movements = await client.get("/dashboard/movements")
    assert "SECRET-1" not in everything.text
    assert "SECRET-1" not in movements.text
    assert (
        await client.get("/dashboard", params={"site_id": str(theirs.site_id)})
    ).status_code == 404


async def test_a_viewer_sees_only_the_sites_granted_to_it(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    hidden = await create_site(brand, name="Hidden site")
    tea = await create_product(brand, sku="TEA", name="Tea")
    await put_stock(brand, tea, 4)
    await put_stock(brand, tea, 70, site_id=hidden)
    viewer = await create_caller(brand, Role.viewer, site_ids=[brand.site_id])
    use_token(client, viewer.token)

    stock = await client.get("/dashboard")
    product = await client.get(f"/dashboard/products/{tea}")
    movements = await client.get("/dashboard/movements")
    forbidden = await client.get("/dashboard/low-stock", params={"site_id": str(hidden)})

    assert select_options(stock.text, "site_id") == ["All sites", "Main shop"]
    assert table_rows(stock.text, "stock") == [["TEA", "Tea", "unit", "4", "4"]]
    assert table_rows(product.text, "levels") == [["Main shop", "4", "0", "4", "0"]]
    assert 'data-last="4"' in product.text
    assert [row[3] for row in table_rows(movements.text, "movements")] == ["Main shop"]
    assert forbidden.status_code == 404
    assert "Hidden site" not in stock.text + product.text + movements.text


async def test_low_stock_lists_products_below_their_minimum_at_the_site(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    milk = await create_product(brand, sku="MILK", name="Milk", min_stock=24)
    await create_product(brand, sku="CUPS", name="Cups", min_stock=5)
    beans = await create_product(brand, sku="BEANS", name="Beans", min_stock=2)
    await put_stock(brand, milk, 20)
    await put_stock(brand, beans, 8)
    await put_stock(brand, milk, 100, site_id=warehouse)
    # 10 milk are on their way to the shop: they do not lift it out of low stock, but the
    # suggested order counts them (2 × 24 − 20 available − 10 in transit = 18).
    shipped = await client.post(
        "/inventory/transfers",
        headers=brand.admin.headers,
        json={
            "site_id": str(warehouse),
            "destination_site_id": str(brand.site_id),
            "product_id": str(milk),
            "quantity": 10,
            "in_transit": True,
        },
    )
    assert shipped.status_code == 201, shipped.text
    use_token(client, brand.admin.token)

    at_home = await client.get("/dashboard/low-stock")  # the user's default site
    at_warehouse = await client.get("/dashboard/low-stock", params={"site_id": str(warehouse)})
    everywhere = await client.get("/dashboard/low-stock", params={"site_id": "all"})

    assert "at Main shop" in at_home.text
    # SKU, name, on hand, available, min, short by, in transit, suggested order
    # (2 × min − available − in transit).
    assert table_rows(at_home.text, "low-stock") == [
        ["CUPS", "Cups", "0", "0", "5", "5 short", "0", "10"],
        ["MILK", "Milk", "20", "20", "24", "4 short", "10", "18"],
    ]
    assert table_rows(at_warehouse.text, "low-stock") == [
        ["CUPS", "Cups", "0", "0", "5", "5 short", "0", "10"],
        ["BEANS", "Beans", "0", "0", "2", "2 short", "0", "4"],  # never stocked there: 0
    ]
    # Every site at once, each row naming its site.
    assert [
        (row[0], row[2], row[6], row[7], row[8]) for row in table_rows(everywhere.text, "low-stock")
    ] == [
        ("CUPS", "Main shop", "5 short", "0", "10"),
        ("MILK", "Main shop", "4 short", "10", "18"),
        ("CUPS", "Warehouse", "5 short", "0", "10"),
        ("BEANS", "Warehouse", "2 short", "0", "4"),
    ]


async def test_product_page_shows_levels_per_site_and_location_and_its_stock_chart(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    shelf = await create_location(brand, warehouse, name="Shelf A")
    bay = await create_location(brand, warehouse, name="Bay 2")
    bolts = await create_product(brand, sku="BOLT", name="Bolts", location_aware=True)
    await put_stock(brand, bolts, 10, site_id=warehouse, location_id=shelf)
    await put_stock(brand, bolts, 5, site_id=warehouse, location_id=bay)
    await put_stock(brand, bolts, -3, site_id=warehouse, location_id=shelf)
    use_token(client, brand.admin.token)

    page = await client.get(f"/dashboard/products/{bolts}")

    assert page.status_code == 200
    assert re.search(r'id="total-on-hand">12\b', page.text)
    # Site, on hand, reserved, available, in transit (per site only).
    assert table_rows(page.text, "levels") == [
        ["Main shop", "0", "0", "0", "0"],
        ["Warehouse", "12", "0", "12", "0"],
        ["Shelf A", "7", "0", "7", ""],
        ["Bay 2", "5", "0", "5", ""],
    ]
    assert 'data-points="3"' in page.text
    assert 'data-last="12"' in page.text
    assert page.text.count("<circle") == 3
    movements = table_rows(page.text, "product-movements")
    # Newest first: when, type, site · location, quantity, total after, reason.
    assert [row[1:5] for row in movements] == [
        ["adjustment", "Warehouse · Shelf A", "−3", "12"],
        ["adjustment", "Warehouse · Bay 2", "+5", "15"],
        ["adjustment", "Warehouse · Shelf A", "+10", "10"],
    ]


async def test_a_product_without_movements_has_no_chart_yet(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    tea = await create_product(brand, sku="TEA", name="Tea")
    use_token(client, brand.admin.token)

    page = await client.get(f"/dashboard/products/{tea}")

    assert page.status_code == 200
    assert "stock-chart" not in page.text
    assert "No movements yet" in page.text


async def test_movements_page_lists_the_newest_first_and_pages_back_with_a_cursor(
    client: httpx.AsyncClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dashboard_pages, "MOVEMENTS_PER_PAGE", 2)
    brand = await create_brand_with_admin(db)
    tea = await create_product(brand, sku="TEA", name="Tea")
    for quantity in (1, 2, 3):
        await put_stock(brand, tea, quantity)
    use_token(client, brand.admin.token)

    first = await client.get("/dashboard/movements")
    older_link = re.search(r'href="(/dashboard/movements\?cursor=[^"]+)" rel="next"', first.text)
    assert older_link is not None
    second = await client.get(older_link.group(1).replace("&amp;", "&"))
    by_type = await client.get("/dashboard/movements", params={"type": "sale"})
    bad_type = await client.get("/dashboard/movements", params={"type": "theft"})
    bad_cursor = await client.get("/dashboard/movements", params={"cursor": "nonsense"})

    assert [row[4] for row in table_rows(first.text, "movements")] == ["+3", "+2"]
    assert [row[2] for row in table_rows(first.text, "movements")] == ["TEA Tea", "TEA Tea"]
    assert [row[4] for row in table_rows(second.text, "movements")] == ["+1"]
    assert 'rel="next"' not in second.text
    assert "No movements." in by_type.text
    assert bad_type.status_code == 422
    assert bad_cursor.status_code == 422


async def test_movements_are_filtered_by_product_and_dates_name_who_made_them_and_export_csv(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    tea = await create_product(brand, sku="TEA", name="Tea")
    cup = await create_product(brand, sku="CUP", name="Cup")
    await put_stock(brand, tea, 4)
    await put_stock(brand, cup, 7)
    use_token(client, brand.admin.token)
    today = datetime.now(UTC).date()

    teas = await client.get("/dashboard/movements", params={"sku": "TEA"})
    dated = await client.get(
        "/dashboard/movements",
        params={"start_date": today.isoformat(), "end_date": today.isoformat()},
    )
    tomorrow = await client.get(
        "/dashboard/movements", params={"start_date": (today + timedelta(days=1)).isoformat()}
    )
    unknown = await client.get("/dashboard/movements", params={"sku": "NOPE"})
    csv_link = re.search(
        r'id="csv-export" href="([^"]+)"|href="([^"]+)" id="csv-export"', teas.text
    )
    assert csv_link is not None
    exported = await client.get((csv_link.group(1) or csv_link.group(2)).replace("&amp;", "&"))

    rows = table_rows(teas.text, "movements")
    assert [(row[2], row[4]) for row in rows] == [("TEA Tea", "+4")]
    assert rows[0][5].endswith("@example.com") or "@" in rows[0][5]  # who made it
    assert len(table_rows(dated.text, "movements")) == 2
    assert "No movements." in tomorrow.text
    assert "No product has the SKU" in unknown.text
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    lines = exported.text.strip().splitlines()
    assert len(lines) == 2 and str(tea) in lines[1]  # the header and the one tea movement


async def test_everything_shown_is_escaped(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    nasty = '<script>alert("x")</script>'
    product = await create_product(brand, sku="<b>SKU</b>", name=nasty)
    await create_site(brand, name="<img src=x onerror=alert(1)>")
    await put_stock(brand, product, 1)
    use_token(client, brand.admin.token)

    pages = [
        await client.get("/dashboard"),
        await client.get("/dashboard", params={"q": nasty}),
        await client.get(f"/dashboard/products/{product}"),
        await client.get("/dashboard/movements"),
    ]

    for page in pages:
        assert page.status_code == 200
        assert "<script>" not in page.text
        assert "<img src=x" not in page.text
        assert "<b>SKU</b>" not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in pages[2].text


async def test_the_stylesheet_is_served_and_nothing_else_from_its_folder(
    client: httpx.AsyncClient,
) -> None:
    css = await client.get("/dashboard/static/dashboard.css")
    other = await client.get("/dashboard/static/router.py")
    climbing = await client.get("/dashboard/static/..%2Frouter.py")

    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert other.status_code == 404
    assert climbing.status_code == 404
