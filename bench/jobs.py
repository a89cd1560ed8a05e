"""(f) one-shot jobs on PostgreSQL: initial stock of 100,000 lines and a 1,000,000-row CSV export.

Each is timed through the API and as the limit (the same work done set-based with asyncpg:
one statement per table per request instead of one per line, and COPY for the export).
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from typing import Any

import asyncpg
import httpx

from bench import data
from bench.server import Server, memory_kib, reset_peak

INITIAL_STOCK_SITES = 10  # × 10,000 products = 100,000 lines
INITIAL_STOCK_CONCURRENCY = 4
# No new request is sent after this long: a slow build is reported, not waited for.
JOB_DEADLINE_SECONDS = 300
DEFAULT_MAX_LINES = 500
FIRST_API_SITE, FIRST_LIMIT_SITE = 100, 200


def max_lines(spec: dict[str, Any]) -> int:
    """The initial-stock endpoint's cap on lines per request, read from its OpenAPI schema."""
    try:
        body = spec["paths"]["/inventory/initial-stock"]["post"]["requestBody"]
        ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        return int(spec["components"]["schemas"][ref]["properties"]["products"]["maxItems"])
    except (KeyError, ValueError, IndexError):
        return DEFAULT_MAX_LINES


def chunks(sites: list[str], products: int, size: int) -> list[tuple[str, list[str]]]:
    """(site, product ids) per request, site by site, so concurrent requests share no product."""
    ids = [data.product_id(i) for i in range(1, products + 1)]
    return [(site, ids[i : i + size]) for site in sites for i in range(0, len(ids), size)]


# --- initial stock ----------------------------------------------------------------------------


async def initial_stock_api(
    server: Server, token: str, work: list[tuple[str, list[str]]]
) -> dict[str, Any]:
    queue: asyncio.Queue[tuple[str, list[str]]] = asyncio.Queue()
    for item in work:
        queue.put_nowait(item)
    statuses: list[int] = []
    failure = ""

    lines = 0
    deadline = time.monotonic() + JOB_DEADLINE_SECONDS

    async def sender(client: httpx.AsyncClient) -> None:
        nonlocal failure, lines
        while not queue.empty() and time.monotonic() < deadline:
            site, products = queue.get_nowait()
            body = {
                "site_id": site,
                "products": [{"product_id": p, "quantity": 50} for p in products],
            }
            response = await client.post("/inventory/initial-stock", json=body)
            statuses.append(response.status_code)
            lines += len(products)
            if response.status_code >= 300 and not failure:
                failure = f"{response.status_code} {response.text[:300]}"

    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=120) as client:
        started = time.perf_counter()
        await asyncio.gather(*(sender(client) for _ in range(INITIAL_STOCK_CONCURRENCY)))
        seconds = time.perf_counter() - started
    non2xx = sum(1 for s in statuses if not 200 <= s < 300)
    return {
        "seconds": seconds,
        "requests": len(statuses),
        "lines_sent": lines,
        "finished": queue.empty(),
        "non2xx": non2xx,
        "first_failure": failure,
    }


LIMIT_INITIAL_STOCK = [
    # auth, the site, the products (locked, as the API locks them), "already initialized?"
    """SELECT api_tokens.token_hash, users.id, users.brand_id, users.role, users.default_site_id,
              user_sites.site_id
       FROM api_tokens JOIN users ON users.brand_id = api_tokens.brand_id
                                 AND users.id = api_tokens.user_id
       LEFT OUTER JOIN user_sites ON user_sites.brand_id = users.brand_id
                                 AND user_sites.user_id = users.id
       WHERE api_tokens.token_hash = $1 AND api_tokens.revoked_at IS NULL
         AND api_tokens.brand_id = $2""",
    "SELECT id, allow_negative_stock FROM sites WHERE brand_id = $1 AND id = $2",
    # The line check (each product of the brand, its location rule), then the lock.
    """SELECT id, location_aware, cost_per_unit FROM products
       WHERE brand_id = $1 AND id = ANY($2::uuid[]) FOR KEY SHARE""",
    """SELECT id, location_aware FROM products WHERE brand_id = $1 AND id = ANY($2::uuid[])
       ORDER BY id FOR NO KEY UPDATE""",
    """SELECT DISTINCT product_id FROM stock_movements
       WHERE brand_id = $1 AND site_id = $2 AND product_id = ANY($3::uuid[])""",
    """INSERT INTO stock_levels (brand_id, product_id, site_id, location_id, on_hand, updated_at)
       SELECT $1, p, $2, 0, 50, now() FROM unnest($3::uuid[]) AS p
       ON CONFLICT (brand_id, product_id, site_id, location_id)
       DO UPDATE SET on_hand = stock_levels.on_hand + excluded.on_hand""",
    # The movements with their events, as the writer inserts them (events/record.py): a
    # movement.created each, in line order, then stock.replenished for each product whose
    # available units rise from below its min_stock to at least it.
    """WITH new_movements AS (
         INSERT INTO stock_movements (id, brand_id, type, product_id, site_id, quantity, user_id,
                                      created_at, occurred_at)
         SELECT gen_random_uuid(), $1, 'initial_stock', p, $2, 50, $4, now(), now()
         FROM unnest($3::uuid[]) WITH ORDINALITY AS u(p, ord) ORDER BY ord
         RETURNING id, type, product_id, site_id, location_id, quantity, source_site_id,
                   destination_site_id, reference, notes, reason_code, reason_description,
                   invoice_id, transfer_id, unit_cost, user_id, created_at, purchase_id,
                   occurred_at),
       movement AS (
         SELECT u.ord, 'movement.created' AS type, row_to_json(m) AS data
         FROM new_movements AS m JOIN unnest($3::uuid[]) WITH ORDINALITY AS u(p, ord)
           ON u.p = m.product_id),
       crossed AS (
         SELECT cardinality($3::uuid[]) + u.ord AS ord, 'stock.replenished' AS type,
                json_build_object('product_id', CAST(u.p AS text), 'site_id', CAST($2 AS text),
                                  'min_stock', p.min_stock, 'on_hand', l.on_hand,
                                  'reserved', l.reserved,
                                  'available', l.on_hand - l.reserved,
                                  'previous_available', l.on_hand - l.reserved - 50) AS data
         FROM unnest($3::uuid[]) WITH ORDINALITY AS u(p, ord)
         JOIN products AS p ON p.brand_id = $1 AND p.id = u.p
         JOIN stock_levels AS l ON l.brand_id = $1 AND l.product_id = u.p AND l.site_id = $2
         WHERE (l.on_hand - l.reserved - 50 >= p.min_stock)
               <> (l.on_hand - l.reserved >= p.min_stock))
       INSERT INTO events (brand_id, id, type, data, created_at)
       SELECT $1, gen_random_uuid(), type, data, now()
       FROM (SELECT * FROM movement UNION ALL SELECT * FROM crossed) AS e ORDER BY ord""",
    # The products' stored shortfalls at the site (low stock), as the writer adds them.
    """INSERT INTO site_shortfalls (brand_id, site_id, product_id, on_hand, reserved, min_stock)
       SELECT $1, $2, p.id, 50, 0, p.min_stock FROM unnest($3::uuid[]) AS u(id)
       JOIN products AS p ON p.brand_id = $1 AND p.id = u.id ORDER BY p.id
       ON CONFLICT (brand_id, site_id, product_id)
       DO UPDATE SET on_hand = site_shortfalls.on_hand + excluded.on_hand""",
    # The levels' checkpoints of the day (as-of reads), as the writer adds them.
    """INSERT INTO stock_level_days (brand_id, product_id, site_id, location_id, day, quantity)
       SELECT $1, p, $2, 0, (now() AT TIME ZONE 'UTC')::date, 50 FROM unnest($3::uuid[]) AS p
       ON CONFLICT (brand_id, product_id, site_id, location_id, day)
       DO UPDATE SET quantity = stock_level_days.quantity + excluded.quantity""",
]


async def initial_stock_limit(
    database_url: str, brand: data.Brand, token_hash: str, work: list[tuple[str, list[str]]]
) -> dict[str, Any]:
    pool = await asyncpg.create_pool(
        database_url, min_size=INITIAL_STOCK_CONCURRENCY, max_size=INITIAL_STOCK_CONCURRENCY
    )
    queue = list(reversed(work))
    auth, site_q, check, lock, started_q, levels, movements, stored, checkpoints = (
        LIMIT_INITIAL_STOCK
    )

    async def sender() -> None:
        while queue:
            site, products = queue.pop()
            async with pool.acquire() as conn, conn.transaction():
                await conn.fetch(auth, token_hash, brand.brand_id)
                await conn.fetch(site_q, brand.brand_id, site)
                await conn.fetch(check, brand.brand_id, products)
                await conn.fetch(lock, brand.brand_id, products)
                await conn.fetch(started_q, brand.brand_id, site, products)
                await conn.execute(levels, brand.brand_id, site, products)
                await conn.execute(movements, brand.brand_id, site, products, brand.user_id)
                await conn.execute(stored, brand.brand_id, site, products)
                await conn.execute(checkpoints, brand.brand_id, site, products)

    try:
        started = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(INITIAL_STOCK_CONCURRENCY)))
        return {"seconds": time.perf_counter() - started, "requests": len(work)}
    finally:
        await pool.close()


# --- CSV export -------------------------------------------------------------------------------


class RssWatch:
    """Peak RSS growth of the workers over a window: reset VmHWM, also sample every 50 ms."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.before = {pid: memory_kib(pid).get("VmRSS", 0) for pid in pids}
        self.peak = dict(self.before)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> RssWatch:
        reset_peak(self.pids)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        for pid in self.pids:
            self.peak[pid] = max(self.peak[pid], memory_kib(pid).get("VmHWM", 0))

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            for pid in self.pids:
                self.peak[pid] = max(self.peak[pid], memory_kib(pid).get("VmRSS", 0))

    @property
    def growth_mib(self) -> float:
        return max(self.peak[pid] - self.before[pid] for pid in self.pids) / 1024

    @property
    def peak_mib(self) -> float:
        return sum(self.peak.values()) / 1024


def csv_until() -> str:
    """The export's end_date: yesterday, the seeded ledger's last day (1,000,000 rows)."""
    return (datetime.now(UTC).date() - timedelta(days=1)).isoformat()


def csv_export_api(server: Server, token: str) -> dict[str, Any]:
    params = {"format": "csv", "end_date": csv_until()}
    headers = {"Authorization": f"Bearer {token}"}
    lines = 0
    with RssWatch(server.worker_pids()) as rss:
        started = time.perf_counter()
        with httpx.stream(
            "GET", server.url + "/inventory/movements", params=params, headers=headers, timeout=600
        ) as response:
            status = response.status_code
            for chunk in response.iter_bytes():
                lines += chunk.count(b"\n")
        seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows": max(lines - 1, 0),
        "status": status,
        "rss_growth_mib": rss.growth_mib,
        "rss_peak_mib": rss.peak_mib,
    }


class _Sink:
    def __init__(self) -> None:
        self.lines = 0

    async def __call__(self, chunk: bytes) -> None:
        self.lines += chunk.count(b"\n")


async def csv_export_limit(database_url: str, brand: data.Brand) -> dict[str, Any]:
    until = datetime.combine(datetime.now(UTC).date(), clock.min, tzinfo=UTC)
    conn = await asyncpg.connect(database_url)
    sink = _Sink()
    try:
        started = time.perf_counter()
        await conn.copy_from_query(
            """SELECT id, type, product_id, site_id, location_id, quantity, source_site_id,
                      destination_site_id, reference, notes, reason_code, reason_description,
                      invoice_id, transfer_id, unit_cost, user_id, created_at
               FROM stock_movements WHERE brand_id = $1 AND created_at < $2
               ORDER BY created_at DESC, id DESC""",
            brand.brand_id,
            until,
            output=sink,
            format="csv",
            header=True,
        )
        return {"seconds": time.perf_counter() - started, "rows": sink.lines - 1}
    finally:
        await conn.close()
