"""A hypothesis state machine against the live API and a plain in-memory model.

Random sequences of adjustments, transfers, invoices (with and without a reservation),
voids, purchases and reservations (created, released whole or in part, extended) over two
sites and two products. After every step the API must agree with the model: each
product's on hand, reserved and available per site, the low-stock list of each site (by
available), and the movements report's sums. Expiry is not modelled here (the holds last
15 minutes); tests/reservations proves it with a controllable clock.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.server import Server, running_server

EXAMPLES = int(os.environ.get("STOCKROOM_STATEFUL_EXAMPLES", "12"))
STEPS = int(os.environ.get("STOCKROOM_STATEFUL_STEPS", "20"))
MIN_STOCK = (4, 0)  # the first product alerts below 4; the second never alerts


@dataclass
class Api:
    client: httpx.Client
    headers: dict[str, str]

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return self.client.post(path, headers=self.headers, json=body)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.client.get(path, headers=self.headers, params=params)


@pytest.fixture(scope="module")
def live(database_url: str) -> Iterator[tuple[Server, str]]:
    with running_server(database_url, workers=1) as server:
        demo = subprocess.run(
            [sys.executable, "-m", "stockroom.cli", "demo", "--json"],
            env={**os.environ, "STOCKROOM_DATABASE_URL": database_url},
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        yield server, str(json.loads(demo.stdout)["token"])


@dataclass
class Invoice:
    id: str
    site: int
    lines: dict[int, int]
    voided: bool = False


@dataclass
class Hold:
    id: str
    site: int
    remaining: dict[int, int]  # product → units still held
    closed: bool = False


@dataclass
class Model:
    on_hand: dict[tuple[int, int], int] = field(default_factory=dict)  # (product, site) → qty
    holds: list[Hold] = field(default_factory=list)

    def get(self, product: int, site: int) -> int:
        return self.on_hand.get((product, site), 0)

    def add(self, product: int, site: int, quantity: int) -> None:
        self.on_hand[(product, site)] = self.get(product, site) + quantity

    def reserved(self, product: int, site: int) -> int:
        return sum(
            h.remaining.get(product, 0) for h in self.holds if h.site == site and not h.closed
        )

    def available(self, product: int, site: int) -> int:
        return self.get(product, site) - self.reserved(product, site)

    def outcome(self, site: int, wanted: dict[int, int], held: dict[int, int]) -> str | None:
        """What selling `wanted` answers when `held` of it comes from a reservation."""
        if any(self.get(p, site) < q for p, q in wanted.items()):
            return "insufficient_stock"
        if any(q - held.get(p, 0) > self.available(p, site) for p, q in wanted.items()):
            return "insufficient_available"
        return None


def make_machine(api: Api) -> type[RuleBasedStateMachine]:
    class LedgerMachine(RuleBasedStateMachine):
        """Two fresh sites and products per run; the demo brand's admin drives the API."""

        def __init__(self) -> None:
            super().__init__()
            self.model = Model()
            self.invoices: list[Invoice] = []
            self.sites: list[str] = []
            self.products: list[str] = []

        @initialize()
        def create_sites_and_products(self) -> None:
            tag = uuid.uuid4().hex[:8]
            for name in ("north", "south"):
                response = api.post("/sites", {"name": f"{name}-{tag}"})
                assert response.status_code == 201, response.text
                self.sites.append(response.json()["id"])
            for i, min_stock in enumerate(MIN_STOCK):
                response = api.post(
                    "/products",
                    {"sku": f"P{i}-{tag}", "name": f"Product {i}", "min_stock": min_stock},
                )
                assert response.status_code == 201, response.text
                self.products.append(response.json()["id"])

        @rule(
            product=st.integers(0, 1),
            site=st.integers(0, 1),
            quantity=st.integers(-6, 8).filter(bool),
        )
        def adjust(self, product: int, site: int, quantity: int) -> None:
            response = api.post(
                "/inventory/adjustments",
                {
                    "product_id": self.products[product],
                    "site_id": self.sites[site],
                    "quantity": quantity,
                },
            )
            if self.model.get(product, site) + quantity >= 0:
                assert response.status_code == 201, response.text
                self.model.add(product, site, quantity)
            else:
                assert response.status_code == 422
                assert response.json()["error"]["code"] == "insufficient_stock"

        @rule(product=st.integers(0, 1), source=st.integers(0, 1), quantity=st.integers(1, 6))
        def transfer(self, product: int, source: int, quantity: int) -> None:
            destination = 1 - source
            response = api.post(
                "/inventory/transfers",
                {
                    "product_id": self.products[product],
                    "site_id": self.sites[source],
                    "destination_site_id": self.sites[destination],
                    "quantity": quantity,
                },
            )
            problem = self.model.outcome(source, {product: quantity}, {})
            if problem is None:
                assert response.status_code == 201, response.text
                body = response.json()
                assert body["transfer_out"]["transfer_id"] == body["transfer_in"]["transfer_id"]
                self.model.add(product, source, -quantity)
                self.model.add(product, destination, quantity)
            else:
                assert response.status_code == 422
                assert response.json()["error"]["code"] == problem

        @rule(
            site=st.integers(0, 1),
            lines=st.lists(st.tuples(st.integers(0, 1), st.integers(1, 4)), min_size=1, max_size=3),
        )
        def sell(self, site: int, lines: list[tuple[int, int]]) -> None:
            response = api.post(
                "/invoices",
                {
                    "site_id": self.sites[site],
                    "lines": [
                        {"product_id": self.products[p], "quantity": q, "unit_price": "2.50"}
                        for p, q in lines
                    ],
                },
            )
            wanted: dict[int, int] = {}
            for p, q in lines:
                wanted[p] = wanted.get(p, 0) + q
            problem = self.model.outcome(site, wanted, {})
            if problem is None:
                assert response.status_code == 201, response.text
                for p, q in wanted.items():
                    self.model.add(p, site, -q)
                self.invoices.append(Invoice(response.json()["id"], site, wanted))
            else:
                assert response.status_code == 422
                assert response.json()["error"]["code"] == problem

        @rule(
            site=st.integers(0, 1),
            lines=st.lists(st.tuples(st.integers(0, 1), st.integers(1, 4)), min_size=1, max_size=3),
        )
        def reserve(self, site: int, lines: list[tuple[int, int]]) -> None:
            response = api.post(
                "/inventory/reservations",
                {
                    "site_id": self.sites[site],
                    "lines": [{"product_id": self.products[p], "quantity": q} for p, q in lines],
                },
            )
            wanted: dict[int, int] = {}
            for p, q in lines:
                wanted[p] = wanted.get(p, 0) + q
            if all(q <= self.model.available(p, site) for p, q in wanted.items()):
                assert response.status_code == 201, response.text
                self.model.holds.append(Hold(response.json()["id"], site, wanted))
            else:
                assert response.status_code == 422, response.text
                assert response.json()["error"]["code"] == "insufficient_available"

        @precondition(lambda self: bool(self.model.holds))
        @rule(
            pick=st.integers(0, 100),
            lines=st.lists(st.tuples(st.integers(0, 1), st.integers(1, 4)), min_size=1, max_size=2),
        )
        def sell_reserved(self, pick: int, lines: list[tuple[int, int]]) -> None:
            hold = self.model.holds[pick % len(self.model.holds)]
            response = api.post(
                "/invoices",
                {
                    "site_id": self.sites[hold.site],
                    "reservation_id": hold.id,
                    "lines": [
                        {"product_id": self.products[p], "quantity": q, "unit_price": "3"}
                        for p, q in lines
                    ],
                },
            )
            wanted: dict[int, int] = {}
            for p, q in lines:
                wanted[p] = wanted.get(p, 0) + q
            if hold.closed:
                assert response.status_code == 422, response.text
                assert response.json()["error"]["code"] == "reservation_closed"
                return
            held = {p: min(q, hold.remaining.get(p, 0)) for p, q in wanted.items()}
            problem = self.model.outcome(hold.site, wanted, held)
            if problem is not None:
                assert response.status_code == 422, response.text
                assert response.json()["error"]["code"] == problem
                return
            assert response.status_code == 201, response.text
            for p, q in wanted.items():
                self.model.add(p, hold.site, -q)
                if p in hold.remaining:
                    hold.remaining[p] -= held[p]
            if not any(hold.remaining.values()):
                hold.closed = True
            self.invoices.append(Invoice(response.json()["id"], hold.site, wanted))

        @precondition(lambda self: bool(self.model.holds))
        @rule(
            pick=st.integers(0, 100),
            part=st.none() | st.tuples(st.integers(0, 1), st.integers(1, 3)),
        )
        def release(self, pick: int, part: tuple[int, int] | None) -> None:
            hold = self.model.holds[pick % len(self.model.holds)]
            body = None
            if part is not None:
                body = {"lines": [{"product_id": self.products[part[0]], "quantity": part[1]}]}
            response = api.client.post(
                f"/inventory/reservations/{hold.id}/release", headers=api.headers, json=body
            )
            if hold.closed:
                assert response.status_code == 422, response.text
                assert response.json()["error"]["code"] == "reservation_closed"
            elif part is not None and hold.remaining.get(part[0], 0) < part[1]:
                assert response.status_code == 422, response.text
                assert response.json()["error"]["code"] == "validation_error"
            else:
                assert response.status_code == 200, response.text
                if part is None:
                    hold.remaining = dict.fromkeys(hold.remaining, 0)
                else:
                    hold.remaining[part[0]] -= part[1]
                hold.closed = not any(hold.remaining.values())
                expected = "released" if hold.closed else "active"
                assert response.json()["status"] == expected

        @precondition(lambda self: bool(self.model.holds))
        @rule(pick=st.integers(0, 100))
        def extend(self, pick: int) -> None:
            hold = self.model.holds[pick % len(self.model.holds)]
            response = api.post(f"/inventory/reservations/{hold.id}/extend", {"ttl_seconds": 1800})
            if hold.closed:
                assert response.status_code == 422, response.text
                assert response.json()["error"]["code"] == "reservation_closed"
            else:
                assert response.status_code == 200, response.text

        @precondition(lambda self: bool(self.invoices))
        @rule(pick=st.integers(0, 100))
        def void(self, pick: int) -> None:
            invoice = self.invoices[pick % len(self.invoices)]
            response = api.post(f"/invoices/{invoice.id}/void", {})
            if invoice.voided:
                assert response.status_code == 422
            else:
                assert response.status_code == 200, response.text
                invoice.voided = True
                for p, q in invoice.lines.items():
                    self.model.add(p, invoice.site, q)

        @rule(product=st.integers(0, 1), site=st.integers(0, 1), quantity=st.integers(1, 6))
        def purchase(self, product: int, site: int, quantity: int) -> None:
            response = api.post(
                "/purchases",
                {
                    "site_id": self.sites[site],
                    "lines": [
                        {
                            "product_id": self.products[product],
                            "quantity": quantity,
                            "cost_per_unit": "1.25",
                        }
                    ],
                },
            )
            assert response.status_code == 201, response.text
            self.model.add(product, site, quantity)

        @invariant()
        def stock_matches_the_model(self) -> None:
            for p, product_id in enumerate(self.products):
                response = api.get(f"/inventory/products/{product_id}/stock")
                assert response.status_code == 200, response.text
                body = response.json()
                per_site = {
                    s["site_id"]: (s["on_hand"], s["reserved"], s["available"])
                    for s in body["sites"]
                }
                for s, site_id in enumerate(self.sites):
                    assert per_site.get(site_id, (0, 0, 0)) == (
                        self.model.get(p, s),
                        self.model.reserved(p, s),
                        self.model.available(p, s),
                    )
                assert body["total"] == sum(self.model.get(p, s) for s in range(len(self.sites)))

        @invariant()
        def low_stock_matches_the_model(self) -> None:
            for s, site_id in enumerate(self.sites):
                response = api.get("/inventory/low-stock", site_id=site_id, per_page=100)
                assert response.status_code == 200, response.text
                listed = {
                    item["product_id"]: item
                    for item in response.json()["data"]
                    if item["product_id"] in self.products
                }
                expected = {
                    self.products[p]
                    for p in range(len(self.products))
                    if self.model.available(p, s) < MIN_STOCK[p]
                }
                assert set(listed) == expected
                for product_id, item in listed.items():
                    p = self.products.index(product_id)
                    assert item["shortfall"] == MIN_STOCK[p] - self.model.available(p, s)

        @invariant()
        def report_sums_match_the_model(self) -> None:
            if not self.sites:
                return
            for p, product_id in enumerate(self.products):
                for s, site_id in enumerate(self.sites):
                    total, cursor = 0, None
                    while True:
                        params: dict[str, Any] = {
                            "product_id": product_id,
                            "site_id": site_id,
                            "limit": 100,
                        }
                        if cursor:
                            params["cursor"] = cursor
                        response = api.get("/inventory/movements", **params)
                        assert response.status_code == 200, response.text
                        page = response.json()
                        total += sum(m["quantity"] for m in page["data"])
                        cursor = page["meta"]["next_cursor"]
                        if not cursor:
                            break
                    assert total == self.model.get(p, s)

    return LedgerMachine


def test_random_sequences_of_stock_operations_agree_with_a_simple_model(
    live: tuple[Server, str],
) -> None:
    server, token = live
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        api = Api(client, {"Authorization": f"Bearer {token}"})
        run_state_machine_as_test(
            make_machine(api),
            settings=settings(
                max_examples=EXAMPLES,
                stateful_step_count=STEPS,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
            ),
        )
