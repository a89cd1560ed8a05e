"""Bare endpoints: the scenario's SQL on raw asyncpg behind a minimal FastAPI or Starlette app.

    python -m bench.bare fastapi|starlette --port N --workers 2   (the runner starts it)

The distance of a Stockroom figure to the framework: the same request file as the API
(same paths, same bodies), answered by a route with no logic at all — no auth, no
validation beyond reading the fields it needs, no middleware — that issues exactly the
statements of the scenario's pgbench script (bench/sql/postgresql/) on an asyncpg pool of
the API's size (5 + 5 per worker). It is served the way `stockroom serve` serves (uvicorn,
the same protocol class, timeouts and worker count), without an access log.

Environment (set by the runner): STOCKROOM_DATABASE_URL, BENCH_BARE_BRAND, BENCH_BARE_SITE,
BENCH_BARE_USER, and BENCH_BARE_WRITE: `tx` (the scenario's statements in a transaction:
product check, level write, the movement with its events, the level's checkpoint of the day)
or `cte` (the same work as one statement). The events are the writer's (events/record.py): a
movement.created holding the movement, and stock.low / stock.replenished when the product's
available units at the site cross its min_stock.
"""

from __future__ import annotations

import argparse
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import asyncpg
import uvicorn
from fastapi import FastAPI, Request
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from stockroom.serving import uvicorn_options
from stockroom.settings import get_settings

POOL_MIN, POOL_MAX = 10, 10  # STOCKROOM_POOL_SIZE (+ STOCKROOM_POOL_MAX_OVERFLOW) defaults

PRODUCT_CHECK = "SELECT products.id FROM products WHERE products.brand_id = $1 AND products.id = $2"
ADJUST_PRODUCT_CHECK = (
    "SELECT products.id, products.location_aware, products.cost_per_unit "
    "FROM products WHERE products.brand_id = $1 AND products.id = $2"
)
LEVEL_ADD = """
INSERT INTO stock_levels (brand_id, product_id, site_id, location_id, on_hand, updated_at)
  VALUES ($1, $2, $3, 0, $4, now())
  ON CONFLICT (brand_id, product_id, site_id, location_id)
  DO UPDATE SET on_hand = (stock_levels.on_hand + excluded.on_hand),
                updated_at = excluded.updated_at
  RETURNING stock_levels.on_hand"""
LEVEL_REMOVE = """
UPDATE stock_levels SET on_hand = (stock_levels.on_hand + $4), updated_at = now()
  WHERE stock_levels.brand_id = $1 AND stock_levels.product_id = $2
    AND stock_levels.site_id = $3 AND stock_levels.location_id = 0
    AND (stock_levels.on_hand + $4 >= 0
         OR (SELECT sites.allow_negative_stock FROM sites
             WHERE sites.id = $3 AND sites.brand_id = $1) IS true)
  RETURNING stock_levels.on_hand"""
_MOVEMENT_RETURNING = """
  RETURNING id, type, product_id, site_id, location_id, quantity, source_site_id,
            destination_site_id, reference, notes, reason_code, reason_description, invoice_id,
            transfer_id, unit_cost, user_id, created_at, purchase_id, occurred_at"""


def _events(written: str, after: str = "") -> str:
    """The movement's events as a CTE `new_events`, the level read as `written` (SQL: the
    level's on_hand after this write, from the row `l`); `after` a CTE the crossing waits for
    (no level written: no events)."""
    return f"""figures AS (
  SELECT p.min_stock, CAST(sum({written}) AS bigint) AS on_hand,
         CAST(sum(l.reserved) AS bigint) AS reserved
    FROM {after}products AS p JOIN stock_levels AS l
      ON l.brand_id = p.brand_id AND l.product_id = p.id AND l.site_id = $3
    WHERE p.brand_id = $1 AND p.id = $2
    GROUP BY p.min_stock),
new_events AS (
  INSERT INTO events (brand_id, id, type, data, created_at)
    SELECT $1, gen_random_uuid(), type, data, now() FROM (
      SELECT 0 AS ord, 'movement.created' AS type, row_to_json(new_movement) AS data
        FROM new_movement
      UNION ALL
      SELECT 1, CASE WHEN on_hand - reserved < min_stock THEN 'stock.low'
                     ELSE 'stock.replenished' END,
             json_build_object('product_id', CAST($2 AS text), 'site_id', CAST($3 AS text),
                               'min_stock', min_stock, 'on_hand', on_hand, 'reserved', reserved,
                               'available', on_hand - reserved,
                               'previous_available', on_hand - reserved - $4)
        FROM figures
        WHERE (on_hand - reserved - $4 >= min_stock) <> (on_hand - reserved >= min_stock)) AS e
    ORDER BY ord)"""


# The movement and its events in one statement, as the API writes them (after the level).
MOVEMENT = f"""
WITH new_movement AS (
INSERT INTO stock_movements (id, brand_id, type, product_id, site_id, location_id, quantity,
       source_site_id, destination_site_id, reference, notes, reason_code, reason_description,
       invoice_id, transfer_id, purchase_id, unit_cost, user_id, created_at, occurred_at)
  VALUES (gen_random_uuid(), $1, 'adjustment', $2, $3, NULL, $4::bigint, NULL, NULL, NULL, NULL,
          $5, NULL, NULL, NULL, NULL, NULL, $6, now(), now())
  {_MOVEMENT_RETURNING}),
{_events("l.on_hand")}
SELECT id, created_at FROM new_movement"""
LEVEL_DAY = """
INSERT INTO stock_level_days (brand_id, product_id, site_id, location_id, day, quantity)
  VALUES ($1, $2, $3, 0, (now() AT TIME ZONE 'UTC')::date, $4)
  ON CONFLICT (brand_id, product_id, site_id, location_id, day)
  DO UPDATE SET quantity = (stock_level_days.quantity + excluded.quantity)"""
# The product's stored shortfall at the site (low stock; the data set has a row for every
# product and site).
SHORTFALL = """
UPDATE site_shortfalls SET on_hand = site_shortfalls.on_hand + $4
  WHERE site_shortfalls.brand_id = $1 AND site_shortfalls.site_id = $3
    AND site_shortfalls.product_id = $2"""
# The same work as one statement: the product check feeds the level write, which feeds the
# movement with its events, the day's checkpoint and the stored shortfall (no product, or
# not enough stock: no level row, so none of them, and no row back).
_CTE_MOVEMENT = f"""new_movement AS (
INSERT INTO stock_movements (id, brand_id, type, product_id, site_id, location_id, quantity,
       source_site_id, destination_site_id, reference, notes, reason_code, reason_description,
       invoice_id, transfer_id, purchase_id, unit_cost, user_id, created_at, occurred_at)
  SELECT gen_random_uuid(), $1, 'adjustment', $2, $3, NULL, $4::bigint, NULL, NULL, NULL, NULL,
         $5, NULL, NULL, NULL, NULL, NULL, $6, now(), now() FROM level
  {_MOVEMENT_RETURNING}),
{_events("l.on_hand + $4", "level, ")}
SELECT id, created_at, (SELECT on_hand FROM level) FROM new_movement"""
_CTE_DAY = """day AS (
  INSERT INTO stock_level_days (brand_id, product_id, site_id, location_id, day, quantity)
    SELECT $1, $2, $3, 0, (now() AT TIME ZONE 'UTC')::date, $4 FROM level
    ON CONFLICT (brand_id, product_id, site_id, location_id, day)
    DO UPDATE SET quantity = (stock_level_days.quantity + excluded.quantity)),
shortfall AS (
  UPDATE site_shortfalls SET on_hand = site_shortfalls.on_hand + $4 FROM level
    WHERE site_shortfalls.brand_id = $1 AND site_shortfalls.site_id = $3
      AND site_shortfalls.product_id = $2)"""
CTE_ADD = f"""
WITH product AS (SELECT id FROM products WHERE brand_id = $1 AND id = $2),
level AS (
  INSERT INTO stock_levels (brand_id, product_id, site_id, location_id, on_hand, updated_at)
    SELECT $1, product.id, $3, 0, $4, now() FROM product
    ON CONFLICT (brand_id, product_id, site_id, location_id)
    DO UPDATE SET on_hand = (stock_levels.on_hand + excluded.on_hand),
                  updated_at = excluded.updated_at
    RETURNING stock_levels.on_hand),
{_CTE_DAY},
{_CTE_MOVEMENT}"""
CTE_REMOVE = f"""
WITH product AS (SELECT id FROM products WHERE brand_id = $1 AND id = $2),
level AS (
  UPDATE stock_levels SET on_hand = (stock_levels.on_hand + $4), updated_at = now()
    WHERE stock_levels.brand_id = $1 AND stock_levels.product_id IN (SELECT id FROM product)
      AND stock_levels.site_id = $3 AND stock_levels.location_id = 0
      AND (stock_levels.on_hand + $4 >= 0
           OR (SELECT sites.allow_negative_stock FROM sites
               WHERE sites.id = $3 AND sites.brand_id = $1) IS true)
    RETURNING stock_levels.on_hand),
{_CTE_DAY},
{_CTE_MOVEMENT}"""
PRODUCT_STOCK = """
SELECT sites.id, sites.name, stock_levels.location_id, stock_levels.on_hand,
       CASE WHEN (stock_levels.reserved = 0) THEN 0 ELSE stock_levels.reserved - (
         SELECT coalesce(sum(reservation_lines.remaining), 0) FROM reservation_lines
         WHERE reservation_lines.brand_id = stock_levels.brand_id
           AND reservation_lines.product_id = stock_levels.product_id
           AND reservation_lines.site_id = stock_levels.site_id
           AND reservation_lines.location_id = stock_levels.location_id
           AND reservation_lines.active IS true AND reservation_lines.expires_at <= now())
       END AS reserved,
       (SELECT CAST(coalesce(sum(transfer_lines.outstanding), 0) AS BIGINT) FROM transfer_lines
         WHERE transfer_lines.brand_id = sites.brand_id AND transfer_lines.product_id = $2
           AND transfer_lines.destination_site_id = sites.id
           AND transfer_lines.outstanding > 0) AS in_transit
  FROM sites LEFT OUTER JOIN stock_levels ON stock_levels.brand_id = sites.brand_id
   AND stock_levels.site_id = sites.id AND stock_levels.product_id = $2
  WHERE sites.brand_id = $1 ORDER BY sites.name, sites.id, stock_levels.location_id"""
_REPORT_WHERE = """
  FROM stock_movements
  WHERE stock_movements.brand_id = $1 AND stock_movements.product_id = $2
    AND stock_movements.created_at >= $3 AND stock_movements.created_at < $4"""
REPORT_COUNT = f"SELECT count(*) FROM (SELECT stock_movements.id {_REPORT_WHERE}) AS anon_1"
REPORT_PAGE = f"""
SELECT stock_movements.id, stock_movements.brand_id, stock_movements.type,
       stock_movements.product_id, stock_movements.site_id, stock_movements.location_id,
       stock_movements.quantity, stock_movements.source_site_id,
       stock_movements.destination_site_id, stock_movements.reference, stock_movements.notes,
       stock_movements.reason_code, stock_movements.reason_description,
       stock_movements.invoice_id, stock_movements.transfer_id, stock_movements.purchase_id,
       stock_movements.unit_cost, stock_movements.user_id, stock_movements.created_at
  {_REPORT_WHERE}
  ORDER BY stock_movements.created_at DESC, stock_movements.id DESC
  LIMIT $5 OFFSET $6"""
PER_PAGE = 25


class Bare:
    """The pool and the fixed ids (the caller the API would have authenticated)."""

    def __init__(self) -> None:
        self.pool: asyncpg.Pool | None = None
        self.brand = uuid.UUID(os.environ["BENCH_BARE_BRAND"])
        self.site = uuid.UUID(os.environ["BENCH_BARE_SITE"])
        self.user = uuid.UUID(os.environ["BENCH_BARE_USER"])
        self.cte = os.environ.get("BENCH_BARE_WRITE", "tx") == "cte"

    @asynccontextmanager
    async def lifespan(self, _app: Any) -> AsyncIterator[None]:
        url = os.environ["STOCKROOM_DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
        self.pool = await asyncpg.create_pool(url, min_size=POOL_MIN, max_size=POOL_MAX)
        try:
            yield
        finally:
            await self.pool.close()

    async def adjust(self, body: dict[str, Any]) -> dict[str, Any] | None:
        assert self.pool is not None
        product, quantity = uuid.UUID(body["product_id"]), int(body["quantity"])
        reason = body.get("reason_code")
        args = (self.brand, product, self.site, quantity)
        async with self.pool.acquire() as conn:
            if self.cte:
                row = await conn.fetchrow(
                    CTE_ADD if quantity > 0 else CTE_REMOVE, *args, reason, self.user
                )
                if row is None:
                    return None
                on_hand = row[2]
            else:
                async with conn.transaction():
                    if await conn.fetchrow(ADJUST_PRODUCT_CHECK, self.brand, product) is None:
                        return None
                    on_hand = await conn.fetchval(
                        LEVEL_ADD if quantity > 0 else LEVEL_REMOVE, *args
                    )
                    if on_hand is None:
                        return None
                    row = await conn.fetchrow(MOVEMENT, *args, reason, self.user)
                    await conn.execute(LEVEL_DAY, *args)
                    await conn.execute(SHORTFALL, *args)
        return {
            "id": str(row["id"]),
            "product_id": str(product),
            "site_id": str(self.site),
            "quantity": quantity,
            "on_hand": on_hand,
            "created_at": row["created_at"].isoformat(),
        }

    async def stock(self, product_id: str) -> list[dict[str, Any]] | None:
        assert self.pool is not None
        product = uuid.UUID(product_id)
        async with self.pool.acquire() as conn:  # no transaction, as the API's read
            if await conn.fetchrow(PRODUCT_CHECK, self.brand, product) is None:
                return None
            rows = await conn.fetch(PRODUCT_STOCK, self.brand, product)
        return [
            {
                "site_id": str(r[0]),
                "site_name": r[1],
                "location_id": r[2],
                "on_hand": r[3] or 0,
                "reserved": r[4] or 0,
                "in_transit": r[5],
            }
            for r in rows
        ]

    async def report(self, params: Any) -> dict[str, Any] | None:
        assert self.pool is not None
        product = uuid.UUID(params["product_id"])
        start = datetime.combine(date.fromisoformat(params["start_date"]), time.min, UTC)
        end = datetime.combine(date.fromisoformat(params["end_date"]), time.min, UTC)
        end += timedelta(days=1)
        async with self.pool.acquire() as conn:  # no transaction, as the API's read
            if await conn.fetchrow(PRODUCT_CHECK, self.brand, product) is None:
                return None
            total = await conn.fetchval(REPORT_COUNT, self.brand, product, start, end)
            rows = await conn.fetch(REPORT_PAGE, self.brand, product, start, end, PER_PAGE, 0)
        return {"items": [_movement(r) for r in rows], "total": total, "page": 1}


def _movement(row: asyncpg.Record) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, uuid.UUID):
            out[key] = str(value)
        elif isinstance(value, datetime):
            out[key] = value.isoformat()
        elif value is None or isinstance(value, int | str):
            out[key] = value
        else:
            out[key] = str(value)  # unit_cost: a Decimal, as a string like the API's
    return out


def _not_found() -> dict[str, Any]:
    return {"error": {"code": "not_found", "message": "no such product"}}


def fastapi_app() -> FastAPI:
    """The minimal FastAPI idiom: plain routes returning dicts, no response model."""
    bare = Bare()
    app = FastAPI(lifespan=bare.lifespan)

    @app.post("/inventory/adjustments", status_code=201)
    async def adjust(request: Request) -> Any:
        done = await bare.adjust(await request.json())
        return done if done is not None else JSONResponse(_not_found(), status_code=404)

    @app.get("/inventory/products/{product_id}/stock")
    async def stock(product_id: str) -> Any:
        done = await bare.stock(product_id)
        return done if done is not None else JSONResponse(_not_found(), status_code=404)

    @app.get("/inventory/movements")
    async def movements(request: Request) -> Any:
        done = await bare.report(request.query_params)
        return done if done is not None else JSONResponse(_not_found(), status_code=404)

    return app


def starlette_app() -> Starlette:
    """Below FastAPI: Starlette routes, JSONResponse of plain dicts."""
    bare = Bare()

    def answer(done: Any, status: int = 200) -> Response:
        if done is None:
            return JSONResponse(_not_found(), status_code=404)
        return JSONResponse(done, status_code=status)

    async def adjust(request: Any) -> Response:
        return answer(await bare.adjust(await request.json()), 201)

    async def stock(request: Any) -> Response:
        return answer(await bare.stock(request.path_params["product_id"]))

    async def movements(request: Any) -> Response:
        return answer(await bare.report(request.query_params))

    async def ready(_request: Any) -> Response:
        return JSONResponse({})

    return Starlette(
        routes=[
            Route("/inventory/adjustments", adjust, methods=["POST"]),
            Route("/inventory/products/{product_id}/stock", stock),
            Route("/inventory/movements", movements),
            Route("/openapi.json", ready),  # the runner's readiness probe
        ],
        lifespan=bare.lifespan,
    )


FACTORIES = {"fastapi": "bench.bare:fastapi_app", "starlette": "bench.bare:starlette_app"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("framework", choices=sorted(FACTORIES))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    uvicorn.run(
        FACTORIES[args.framework],
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
        **uvicorn_options(get_settings()),
    )


if __name__ == "__main__":
    main()
