"""The tenant and authorisation matrix: every route of /openapi.json, every kind of caller.

Brand A has two sites (A1, A2), a product, a location-aware product and a location,
stock, an adjustment, a transfer, an invoice and a purchase. For each route this file
says how to call it on A's things, and what each caller gets:

- A's admin: success (so the other answers are about the caller, not a broken request);
- no token, or a revoked one: 401;
- B's admin, naming A's ids: 404 (path) or 422 (body/query), or — for lists — 200 with
  nothing of A in the answer; B can neither read nor change anything of A;
- A's viewer (granted A1): reads succeed, writes 403;
- A's manager granted only A2, acting at A1: 403, or 404 where the contract hides the
  thing (a movement at a site you may not read), or — for lists — nothing of A1.

A route in the schema without an entry here fails the test: new routes must join it.
The same holds for the query string: every write that takes a current site is called
again naming A1 only in its query (`site_id`, `workspace_id`), with the same answers due.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import pytest

from stockroom.auth.principal import Role
from stockroom.users.service import revoke_tokens
from tests.factories import (
    Brand,
    Caller,
    Database,
    create_brand_with_admin,
    create_caller,
    create_location,
    create_product,
    create_site,
    put_stock,
)
from tests.webhooks.helpers import queue_delivery

PUBLIC = {("GET", "/healthz"), ("GET", "/readyz")}


@dataclass
class World:
    a: Brand
    b: Brand
    a1: uuid.UUID
    a2: uuid.UUID
    product: uuid.UUID
    located: uuid.UUID
    location: int
    ids: dict[str, str]
    viewer: Caller
    manager_a2: Caller
    revoked: Caller


Call = tuple[str, dict[str, Any] | None, dict[str, Any] | None]  # path, json, params
Hidden = Literal["hidden"]


@dataclass
class Case:
    call: Callable[[World], Call]
    # What B's admin gets when it names A's things; "hidden" = 200 without A's ids.
    foreign: int | Hidden
    # A's viewer (granted A1): None = succeeds like the admin.
    viewer: int | Hidden | None
    # A's manager granted only A2, acting on A1.
    other_site: int | Hidden | None
    # Some cases consume what they act on (void, archive): build a fresh one per caller.
    fresh: Callable[[World, httpx.AsyncClient], Awaitable[dict[str, str]]] | None = None


def adjust_body(w: World) -> dict[str, Any]:
    return {"product_id": str(w.product), "quantity": 1, "site_id": str(w.a1)}


async def fresh_invoice(w: World, client: httpx.AsyncClient) -> dict[str, str]:
    response = await client.post(
        "/invoices",
        headers=w.a.admin.headers,
        json={
            "site_id": str(w.a1),
            "lines": [{"product_id": str(w.product), "quantity": 1, "unit_price": "1"}],
        },
    )
    assert response.status_code == 201, response.text
    return {"invoice": response.json()["id"]}


async def fresh_count(w: World, client: httpx.AsyncClient) -> dict[str, str]:
    response = await client.post(
        "/inventory/counts", headers=w.a.admin.headers, json={"site_id": str(w.a1)}
    )
    assert response.status_code == 201, response.text
    return {"count": response.json()["id"]}


async def fresh_webhook(w: World, client: httpx.AsyncClient) -> dict[str, str]:
    response = await client.post(
        "/webhooks", headers=w.a.admin.headers, json={"url": HOOK_URL, "events": ["*"]}
    )
    assert response.status_code == 201, response.text
    return {"webhook": response.json()["id"]}


HOOK_URL = "http://127.0.0.1:9/hooks"  # loopback discard port: never sent to here


def count_lines(w: World) -> dict[str, Any]:
    return {"lines": [{"product_id": str(w.product), "counted_quantity": 50}]}


async def fresh_reservation(w: World, client: httpx.AsyncClient) -> dict[str, str]:
    response = await client.post(
        "/inventory/reservations",
        headers=w.a.admin.headers,
        json={"site_id": str(w.a1), "lines": [{"product_id": str(w.product), "quantity": 1}]},
    )
    assert response.status_code == 201, response.text
    return {"reservation": response.json()["id"]}


async def in_transit(
    w: World, client: httpx.AsyncClient, source: uuid.UUID, destination: uuid.UUID
) -> str:
    await put_stock(w.a, w.product, 1, site_id=source)
    response = await client.post(
        "/inventory/transfers",
        headers=w.a.admin.headers,
        json={
            "product_id": str(w.product),
            "site_id": str(source),
            "destination_site_id": str(destination),
            "quantity": 1,
            "in_transit": True,
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["transfer_id"])


async def fresh_arriving_at_a1(w: World, client: httpx.AsyncClient) -> dict[str, str]:
    """A transfer in transit from A2 to A1: receiving it needs write access to A1."""
    return {"arriving": await in_transit(w, client, w.a2, w.a1)}


async def fresh_leaving_a1(w: World, client: httpx.AsyncClient) -> dict[str, str]:
    """A transfer in transit from A1 to A2: closing it needs write access to A1."""
    return {"leaving": await in_transit(w, client, w.a1, w.a2)}


async def fresh_product(w: World, client: httpx.AsyncClient) -> dict[str, str]:
    return {"product": str(await create_product(w.a))}


CASES: dict[tuple[str, str], Case] = {
    ("GET", "/me"): Case(lambda w: ("/me", None, None), "hidden", None, None),
    ("GET", "/inventory/adjustments"): Case(
        lambda w: ("/inventory/adjustments", None, None), "hidden", None, "hidden"
    ),
    ("POST", "/inventory/adjustments"): Case(
        lambda w: ("/inventory/adjustments", adjust_body(w), None), 422, 403, 403
    ),
    ("POST", "/inventory/transfers"): Case(
        lambda w: (
            "/inventory/transfers",
            {
                "product_id": str(w.product),
                "site_id": str(w.a1),
                "destination_site_id": str(w.a2),
                "quantity": 1,
            },
            None,
        ),
        422,
        403,
        403,
    ),
    ("GET", "/inventory/transfers"): Case(
        lambda w: ("/inventory/transfers", None, {"site_id": str(w.a1)}), 422, None, 403
    ),
    ("GET", "/inventory/transfers/{movement_id}"): Case(
        lambda w: (f"/inventory/transfers/{w.ids['transfer_out']}", None, None), 404, None, 404
    ),
    # Brand B: 404; the viewer of A1 and the manager of A2 see the transfer (one of its
    # sites is theirs to read) but may not write A1: 403.
    ("POST", "/inventory/transfers/{transfer_id}/receive"): Case(
        lambda w: (
            f"/inventory/transfers/{w.ids['arriving']}/receive",
            {"lines": [{"product_id": str(w.product), "quantity": 1}]},
            None,
        ),
        404,
        403,
        403,
        fresh=fresh_arriving_at_a1,
    ),
    ("POST", "/inventory/transfers/{transfer_id}/close"): Case(
        lambda w: (f"/inventory/transfers/{w.ids['leaving']}/close", {"reason": "lost"}, None),
        404,
        403,
        403,
        fresh=fresh_leaving_a1,
    ),
    ("POST", "/inventory/initial-stock"): Case(
        lambda w: (
            "/inventory/initial-stock",
            {"site_id": str(w.a2), "products": [{"product_id": w.ids["product"], "quantity": 5}]},
            None,
        ),
        422,
        403,
        None,  # the manager of A2 may initialise A2: acting at its own site is allowed
        fresh=fresh_product,
    ),
    ("GET", "/inventory/products/{product_id}/stock"): Case(
        lambda w: (f"/inventory/products/{w.product}/stock", None, None), 404, None, "hidden"
    ),
    ("GET", "/inventory/stock"): Case(
        lambda w: ("/inventory/stock", None, {"site_id": str(w.a1)}), 422, None, 403
    ),
    ("GET", "/inventory/valuation"): Case(
        lambda w: ("/inventory/valuation", None, {"site_id": str(w.a1)}), 422, None, 403
    ),
    ("GET", "/inventory/low-stock"): Case(
        lambda w: ("/inventory/low-stock", None, {"site_id": str(w.a1)}), 422, None, 403
    ),
    ("GET", "/inventory/counts"): Case(
        lambda w: ("/inventory/counts", None, None), "hidden", None, "hidden"
    ),
    ("POST", "/inventory/counts"): Case(
        lambda w: ("/inventory/counts", {"site_id": str(w.a1), **count_lines(w)}, None),
        422,
        403,
        403,
    ),
    ("GET", "/inventory/counts/{count_id}"): Case(
        lambda w: (f"/inventory/counts/{w.ids['count']}", None, None), 404, None, 404
    ),
    ("PUT", "/inventory/counts/{count_id}/lines"): Case(
        lambda w: (f"/inventory/counts/{w.ids['count']}/lines", count_lines(w), None),
        404,
        403,
        404,
    ),
    ("POST", "/inventory/counts/{count_id}/complete"): Case(
        lambda w: (f"/inventory/counts/{w.ids['count']}/complete", {}, None),
        404,
        403,
        404,
        fresh=fresh_count,
    ),
    ("POST", "/inventory/counts/{count_id}/cancel"): Case(
        lambda w: (f"/inventory/counts/{w.ids['count']}/cancel", None, None),
        404,
        403,
        404,
        fresh=fresh_count,
    ),
    ("POST", "/inventory/reservations"): Case(
        lambda w: (
            "/inventory/reservations",
            {"site_id": str(w.a1), "lines": [{"product_id": str(w.product), "quantity": 1}]},
            None,
        ),
        422,
        403,
        403,
    ),
    ("GET", "/inventory/reservations"): Case(
        lambda w: ("/inventory/reservations", None, None), "hidden", None, "hidden"
    ),
    ("GET", "/inventory/reservations/{reservation_id}"): Case(
        lambda w: (f"/inventory/reservations/{w.ids['reservation']}", None, None), 404, None, 404
    ),
    ("POST", "/inventory/reservations/{reservation_id}/release"): Case(
        lambda w: (f"/inventory/reservations/{w.ids['reservation']}/release", None, None),
        404,
        403,
        404,
        fresh=fresh_reservation,
    ),
    ("POST", "/inventory/reservations/{reservation_id}/extend"): Case(
        lambda w: (
            f"/inventory/reservations/{w.ids['reservation']}/extend",
            {"ttl_seconds": 600},
            None,
        ),
        404,
        403,
        404,
    ),
    ("GET", "/inventory/movements"): Case(
        lambda w: ("/inventory/movements", None, {"product_id": str(w.product)}),
        422,
        None,
        "hidden",
    ),
    ("GET", "/inventory/movements.csv"): Case(
        lambda w: ("/inventory/movements.csv", None, {"site_id": str(w.a1)}), 422, None, 403
    ),
    ("GET", "/inventory/movements/{movement_id}"): Case(
        lambda w: (f"/inventory/movements/{w.ids['adjustment']}", None, None), 404, None, 404
    ),
    ("GET", "/invoices"): Case(lambda w: ("/invoices", None, None), "hidden", None, "hidden"),
    ("POST", "/invoices"): Case(
        lambda w: (
            "/invoices",
            {
                "site_id": str(w.a1),
                "lines": [{"product_id": str(w.product), "quantity": 1, "unit_price": "2"}],
            },
            None,
        ),
        422,
        403,
        403,
    ),
    ("GET", "/invoices/{invoice_id}"): Case(
        lambda w: (f"/invoices/{w.ids['invoice']}", None, None), 404, None, 404
    ),
    ("POST", "/invoices/{invoice_id}/void"): Case(
        lambda w: (f"/invoices/{w.ids['invoice']}/void", {}, None),
        404,
        403,
        404,
        fresh=fresh_invoice,
    ),
    ("GET", "/purchases"): Case(lambda w: ("/purchases", None, None), "hidden", None, "hidden"),
    ("POST", "/purchases"): Case(
        lambda w: (
            "/purchases",
            {
                "site_id": str(w.a1),
                "lines": [{"product_id": str(w.product), "quantity": 2, "cost_per_unit": "1.5"}],
            },
            None,
        ),
        422,
        403,
        403,
    ),
    ("GET", "/purchases/{purchase_id}"): Case(
        lambda w: (f"/purchases/{w.ids['purchase']}", None, None), 404, None, 404
    ),
    ("GET", "/products"): Case(lambda w: ("/products", None, None), "hidden", None, None),
    ("POST", "/products"): Case(
        lambda w: ("/products", {"sku": f"NEW-{uuid.uuid4().hex[:8]}", "name": "New"}, None),
        None,  # B may create a product of its own
        403,
        403,
    ),
    ("GET", "/products/{product_id}"): Case(
        lambda w: (f"/products/{w.product}", None, None), 404, None, None
    ),
    ("PATCH", "/products/{product_id}"): Case(
        lambda w: (f"/products/{w.product}", {"name": "Renamed"}, None), 404, 403, 403
    ),
    ("DELETE", "/products/{product_id}"): Case(
        lambda w: (f"/products/{w.ids['product']}", None, None), 404, 403, 403, fresh=fresh_product
    ),
    ("GET", "/sites"): Case(lambda w: ("/sites", None, None), "hidden", None, "hidden"),
    ("POST", "/sites"): Case(lambda w: ("/sites", {"name": "New site"}, None), None, 403, 403),
    ("GET", "/sites/{site_id}"): Case(lambda w: (f"/sites/{w.a1}", None, None), 404, None, 403),
    ("PATCH", "/sites/{site_id}"): Case(
        lambda w: (f"/sites/{w.a1}", {"name": "Renamed site"}, None), 404, 403, 403
    ),
    ("GET", "/sites/{site_id}/locations"): Case(
        lambda w: (f"/sites/{w.a1}/locations", None, None), 404, None, 403
    ),
    ("POST", "/sites/{site_id}/locations"): Case(
        lambda w: (f"/sites/{w.a1}/locations", {"name": f"Bin {uuid.uuid4().hex[:6]}"}, None),
        404,
        403,
        403,
    ),
    ("GET", "/users"): Case(lambda w: ("/users", None, None), "hidden", 403, 403),
    # The feed spans every site: admins only; B's admin reads B's feed, nothing of A.
    ("GET", "/events"): Case(lambda w: ("/events", None, {"limit": 1000}), "hidden", 403, 403),
    ("POST", "/users"): Case(
        lambda w: (
            "/users",
            {
                "email": f"u-{uuid.uuid4().hex[:8]}@example.com",
                "role": "viewer",
                "site_ids": [str(w.a1)],
            },
            None,
        ),
        422,
        403,
        403,
    ),
    ("GET", "/webhooks"): Case(lambda w: ("/webhooks", None, None), "hidden", 403, 403),
    ("POST", "/webhooks"): Case(
        lambda w: ("/webhooks", {"url": HOOK_URL, "events": ["*"]}, None), None, 403, 403
    ),
    ("GET", "/webhooks/{webhook_id}"): Case(
        lambda w: (f"/webhooks/{w.ids['webhook']}", None, None), 404, 403, 403
    ),
    ("PATCH", "/webhooks/{webhook_id}"): Case(
        lambda w: (f"/webhooks/{w.ids['webhook']}", {"description": "x"}, None), 404, 403, 403
    ),
    ("DELETE", "/webhooks/{webhook_id}"): Case(
        lambda w: (f"/webhooks/{w.ids['webhook']}", None, None),
        404,
        403,
        403,
        fresh=fresh_webhook,
    ),
    ("POST", "/webhooks/{webhook_id}/rotate-secret"): Case(
        lambda w: (f"/webhooks/{w.ids['webhook']}/rotate-secret", None, None), 404, 403, 403
    ),
    ("GET", "/webhooks/{webhook_id}/deliveries"): Case(
        lambda w: (f"/webhooks/{w.ids['webhook']}/deliveries", None, None), 404, 403, 403
    ),
    ("POST", "/webhooks/{webhook_id}/deliveries/{delivery_id}/retry"): Case(
        lambda w: (
            f"/webhooks/{w.ids['webhook']}/deliveries/{w.ids['delivery']}/retry",
            None,
            None,
        ),
        404,
        403,
        403,
    ),
}


def at_a1_by_query(path: str, body: Callable[[World], dict[str, Any]], alias: str = "site_id"):  # type: ignore[no-untyped-def]
    """A write that names its site, A1, only in the query string."""
    return lambda w: (path, body(w), {alias: str(w.a1)})


def one_line(w: World) -> dict[str, Any]:
    return {"product_id": str(w.product), "quantity": 1}


# (method, path, query parameter) → what each caller gets when A1 is named only there.
QUERY_SITE_CASES: dict[tuple[str, str, str], Case] = {
    ("POST", "/inventory/adjustments", "site_id"): Case(
        at_a1_by_query("/inventory/adjustments", one_line), 422, 403, 403
    ),
    ("POST", "/inventory/adjustments", "workspace_id"): Case(
        at_a1_by_query(
            "/inventory/adjustments",
            lambda w: {"products": [one_line(w)], "reason": "found"},
            "workspace_id",
        ),
        422,
        403,
        403,
    ),
    ("POST", "/inventory/transfers", "site_id"): Case(
        at_a1_by_query(
            "/inventory/transfers", lambda w: {**one_line(w), "destination_site_id": str(w.a2)}
        ),
        422,
        403,
        403,
    ),
    ("POST", "/inventory/initial-stock", "site_id"): Case(
        at_a1_by_query(
            "/inventory/initial-stock",
            lambda w: {"products": [{"product_id": w.ids["product"], "quantity": 5}]},
        ),
        422,
        403,
        403,
        fresh=fresh_product,
    ),
    ("POST", "/invoices", "workspace_id"): Case(
        at_a1_by_query(
            "/invoices", lambda w: {"lines": [{**one_line(w), "unit_price": "2"}]}, "workspace_id"
        ),
        422,
        403,
        403,
    ),
    ("POST", "/inventory/counts", "site_id"): Case(
        at_a1_by_query("/inventory/counts", lambda w: count_lines(w)), 422, 403, 403
    ),
    ("POST", "/purchases", "site_id"): Case(
        at_a1_by_query("/purchases", lambda w: {"lines": [{**one_line(w), "cost_per_unit": "1"}]}),
        422,
        403,
        403,
    ),
}


@pytest.fixture
async def world(client: httpx.AsyncClient, db: Database) -> World:
    a = await create_brand_with_admin(db, name="Brand A")
    b = await create_brand_with_admin(db, name="Brand B")
    a1 = a.site_id
    a2 = await create_site(a, name="A2")
    product = await create_product(a, min_stock=100)
    located = await create_product(a, location_aware=True)
    location = await create_location(a, a1)
    await put_stock(a, product, 50, site_id=a1)
    await put_stock(a, located, 5, site_id=a1, location_id=location)
    viewer = await create_caller(a, Role.viewer, site_ids=[a1])
    manager_a2 = await create_caller(a, Role.manager, site_ids=[a2], default_site_id=a2)
    revoked = await create_caller(a, Role.admin)
    async with db.transaction() as session:
        await revoke_tokens(session, revoked.token)
    h = a.admin.headers
    adjustment = await client.post(
        "/inventory/adjustments", headers=h, json={"product_id": str(product), "quantity": 1}
    )
    transfer = await client.post(
        "/inventory/transfers",
        headers=h,
        json={"product_id": str(product), "destination_site_id": str(a2), "quantity": 1},
    )
    purchase = await client.post(
        "/purchases",
        headers=h,
        json={"lines": [{"product_id": str(product), "quantity": 1, "cost_per_unit": "1"}]},
    )
    for response in (adjustment, transfer, purchase):
        assert response.status_code == 201, response.text
    w = World(
        a,
        b,
        a1,
        a2,
        product,
        located,
        location,
        {
            "adjustment": adjustment.json()["id"],
            "transfer_out": transfer.json()["transfer_out"]["id"],
            "purchase": purchase.json()["id"],
        },
        viewer,
        manager_a2,
        revoked,
    )
    w.ids.update(await fresh_invoice(w, client))
    w.ids.update(await fresh_reservation(w, client))
    w.ids.update(await fresh_count(w, client))
    w.ids.update(await fresh_webhook(w, client))
    w.ids["delivery"] = str(await queue_delivery(db, a.id, uuid.UUID(w.ids["webhook"])))
    return w


def schema_routes(client_app: Any) -> set[tuple[str, str]]:
    schema = client_app.openapi()
    return {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}


def test_every_route_in_the_schema_has_an_entry_in_the_matrix(app: Any) -> None:
    missing = schema_routes(app) - set(CASES) - PUBLIC
    assert not missing, f"add these routes to the isolation matrix: {sorted(missing)}"


def test_every_write_taking_a_site_in_its_query_has_a_query_case(app: Any) -> None:
    schema = app.openapi()
    takes_query_site = {
        ("POST", path)
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if method == "post"
        and any(p["in"] == "query" and p["name"] == "site_id" for p in op.get("parameters", []))
    }
    covered = {(method, path) for method, path, _ in QUERY_SITE_CASES}
    assert takes_query_site, "no write takes site_id in its query?"
    assert not takes_query_site - covered, f"add query cases: {sorted(takes_query_site - covered)}"


def a_ids(w: World) -> list[str]:
    """Ids of brand A's things that must never appear in brand B's answers."""
    return [str(w.a1), str(w.a2), str(w.product), str(w.located), *w.ids.values()]


async def send(
    client: httpx.AsyncClient, method: str, call: Call, headers: dict[str, str]
) -> httpx.Response:
    path, body, params = call
    return await client.request(method, path, headers=headers, json=body, params=params)


def check(response: httpx.Response, expected: int | Hidden | None, w: World, who: str) -> None:
    where = f"{who}: {response.request.method} {response.request.url.path} → {response.status_code}"
    if expected is None:
        assert 200 <= response.status_code < 300, f"{where}: {response.text[:300]}"
    elif expected == "hidden":
        assert response.status_code == 200, f"{where}: {response.text[:300]}"
        if who == "manager of A2":
            # Nothing *at* A1 (a transfer into A2 may still name A1 as its source).
            for leak in (f'"site_id":"{w.a1}"', f'"id":"{w.a1}"'):
                assert leak not in response.text, f"{where}: shows {leak}"
        else:
            for secret in a_ids(w):
                assert secret not in response.text, f"{where}: leaks {secret}"
    else:
        assert response.status_code == expected, f"{where}: {response.text[:300]}"
        assert set(response.json()) == {"error"}, where


@pytest.mark.parametrize(("method", "path"), sorted(CASES), ids=lambda v: str(v))
async def test_each_caller_gets_exactly_what_the_contract_allows(
    client: httpx.AsyncClient, world: World, method: str, path: str
) -> None:
    await each_caller(client, world, method, CASES[(method, path)])


@pytest.mark.parametrize(
    ("method", "path", "parameter"), sorted(QUERY_SITE_CASES), ids=lambda v: str(v)
)
async def test_a_site_named_in_the_query_is_checked_like_one_in_the_body(
    client: httpx.AsyncClient, world: World, method: str, path: str, parameter: str
) -> None:
    await each_caller(client, world, method, QUERY_SITE_CASES[(method, path, parameter)])


async def each_caller(client: httpx.AsyncClient, w: World, method: str, case: Case) -> None:

    async def call_for() -> Call:
        if case.fresh is not None:
            w.ids.update(await case.fresh(w, client))
        return case.call(w)

    check(await send(client, method, await call_for(), {}), 401, w, "no token")
    check(await send(client, method, await call_for(), w.revoked.headers), 401, w, "revoked token")
    check(
        await send(client, method, await call_for(), w.b.admin.headers), case.foreign, w, "brand B"
    )
    check(await send(client, method, await call_for(), w.viewer.headers), case.viewer, w, "viewer")
    check(
        await send(client, method, await call_for(), w.manager_a2.headers),
        case.other_site,
        w,
        "manager of A2",
    )
    check(await send(client, method, await call_for(), w.a.admin.headers), None, w, "admin of A")
