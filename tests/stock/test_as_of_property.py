"""Stock as of an instant equals the naive sum of the movements that occurred by then.

Random ledgers — adjustments at two sites (one with a location-aware product's two bins)
written over several simulated days, each backdated by a random amount within the window —
then random instants (and the movements' own instants, and midnights, where the checkpoint
buckets meet): `as_of` on both stock reads must equal the sum of the movements with
`occurred_at <= instant`, per site and location. The clock is fixed (stockroom/clock.py),
never slept on.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stockroom import clock
from tests.factories import (
    Database,
    create_brand_with_admin,
    create_location,
    create_product,
    create_site,
)

WINDOW = timedelta(days=7)  # STOCKROOM_BACKDATE_DAYS default
START = datetime(2026, 11, 2, 21, 30, 0, 500_000, tzinfo=UTC)  # late evening: days turn

write = st.tuples(
    st.integers(0, 12 * 60),  # minutes the clock moves before this write
    st.integers(0, 2),  # level: site A, site B, site B's second bin (location-aware product)
    st.integers(-5, 9).filter(bool),  # quantity
    st.one_of(  # how far back it occurred (seconds); negative: up to 5 minutes ahead
        st.just(0),
        st.integers(-300, int(WINDOW.total_seconds())),
        st.integers(0, 3 * 3600),
    ),
)


def stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    writes=st.lists(write, min_size=1, max_size=14),
    probes=st.lists(st.integers(0, 10**6), max_size=6),
)
async def test_as_of_equals_the_sum_of_movements_that_occurred_by_then(
    db: Database, client: httpx.AsyncClient, writes: list[Any], probes: list[int]
) -> None:
    brand = await create_brand_with_admin(db)
    site_a = await create_site(brand, name="A", allow_negative_stock=True)
    site_b = await create_site(brand, name="B", allow_negative_stock=True)
    plain = await create_product(brand)
    binned = await create_product(brand, location_aware=True)
    bins = [
        await create_location(brand, site_b, name="B1"),
        await create_location(brand, site_b, name="B2"),
    ]
    # (product, site, location) of each level a write may touch
    levels = [(plain, site_a, None), (binned, site_b, bins[0]), (binned, site_b, bins[1])]
    ledger: list[tuple[uuid.UUID, uuid.UUID, int | None, int, datetime]] = []
    now = START
    try:
        for minutes, level, quantity, back in writes:
            now += timedelta(minutes=minutes)
            clock.set_now(now)
            occurred = now - timedelta(seconds=back)
            product, site, location = levels[level]
            body = {"product_id": str(product), "quantity": quantity, "site_id": str(site)}
            if location is not None:
                body["location_id"] = location
            body["occurred_at"] = stamp(occurred)
            answer = await client.post(
                "/inventory/adjustments", json=body, headers=brand.admin.headers
            )
            assert answer.status_code == 201, answer.text
            assert answer.json()["occurred_at"] == stamp(occurred)
            ledger.append((product, site, location, quantity, occurred))

        earliest = START - WINDOW
        span = (now - earliest).total_seconds()
        instants = {earliest + timedelta(seconds=span * p / 10**6) for p in probes}
        for *_, occurred in ledger:
            instants |= {occurred, occurred - timedelta(microseconds=1)}
            midnight = occurred.replace(hour=0, minute=0, second=0, microsecond=0)
            instants |= {midnight, midnight - timedelta(microseconds=1)}
        instants = {i for i in instants if i <= now}

        for instant in sorted(instants):
            expected: dict[tuple[uuid.UUID, uuid.UUID, int | None], int] = defaultdict(int)
            for product, site, location, quantity, occurred in ledger:
                if occurred <= instant:
                    expected[(product, site, location)] += quantity
            for product in (plain, binned):
                answer = await client.get(
                    f"/inventory/products/{product}/stock",
                    params={"as_of": stamp(instant)},
                    headers=brand.admin.headers,
                )
                assert answer.status_code == 200, answer.text
                got = answer.json()
                by_site = {s["site_id"]: s for s in got["sites"]}
                for site in (site_a, site_b):
                    want = sum(q for (p, s, _), q in expected.items() if (p, s) == (product, site))
                    assert by_site[str(site)]["on_hand"] == want, (instant, product, site)
                    for entry in by_site[str(site)]["locations"]:
                        assert entry["on_hand"] == expected[(product, site, entry["location_id"])]
                assert got["total"] == sum(q for (p, _, _), q in expected.items() if p == product)
            listing = await client.get(
                "/inventory/stock",
                params={"as_of": stamp(instant), "per_page": 100},
                headers=brand.admin.headers,
            )
            assert listing.status_code == 200, listing.text
            for item in listing.json()["data"]:
                want = sum(
                    q
                    for (p, s, _), q in expected.items()
                    if (str(p), str(s)) == (item["product_id"], item["site_id"])
                )
                assert item["on_hand"] == want, (instant, item)
                assert item["available"] == want
    finally:
        clock.set_now(None)
