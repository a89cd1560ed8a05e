"""A hypothesis state machine against the live API and a plain in-memory model.

Random sequences of adjustments, transfers (one-step, and in transit: shipped, received in
parts, closed as returned, lost or damaged), invoices (with and without a reservation),
voids, purchases, reservations (created, released whole or in part, extended) and stock
counts (start, record lines, complete) over two sites and two products. After every step
the API must agree with the model: each product's on hand, reserved, available and
in transit per site,
the low-stock list of each site (by available), and the movements report's sums. Expiry is
not modelled here (the holds last 15 minutes); tests/reservations proves it with a
controllable clock.

A write names its site in any of the ways the contract allows (body `site_id`, query
`site_id` or `workspace_id`, `X-Site-Id`); and Idempotency-Keys are retried by their own
caller (a replay, nothing written again) and by other callers — a viewer and a manager
without access to the sites, and another admin — who never get the stored answer.
"""

from __future__ import annotations

import os
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

from tests.cli.test_cli import json_of, stockroom
from tests.server import Server, running_server

EXAMPLES = int(os.environ.get("STOCKROOM_STATEFUL_EXAMPLES", "12"))
STEPS = int(os.environ.get("STOCKROOM_STATEFUL_STEPS", "20"))
MIN_STOCK = (4, 0)  # the first product alerts below 4; the second never alerts


@dataclass
class Api:
    client: httpx.Client
    headers: dict[str, str]

    def post(
        self,
        path: str,
        body: dict[str, Any],
        *,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        return self.client.post(
            path, headers={**self.headers, **(headers or {})}, json=body, params=params
        )

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.client.get(path, headers=self.headers, params=params)


# How a write names its site: the contract's four ways (API.md, "Auth and scope").
SITE_NAMINGS = ("body", "query site_id", "query workspace_id", "X-Site-Id")


def name_site(
    how: str, site_id: str, body: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """(body, query, headers) of a write naming `site_id` the way `how` says."""
    if how == "body":
        return {**body, "site_id": site_id}, {}, {}
    if how == "query site_id":
        return body, {"site_id": site_id}, {}
    if how == "query workspace_id":
        return body, {"workspace_id": site_id}, {}
    return body, {}, {"X-Site-Id": site_id}


@dataclass
class Others:
    """Tokens of other callers of the demo brand, granted no site of the machine's."""

    viewer: dict[str, str]
    manager: dict[str, str]
    admin: dict[str, str]


def _cli(database_url: str, *args: str) -> Any:
    return json_of(stockroom(database_url, *args, "--json"))


@pytest.fixture(scope="module")
def live(database_url: str) -> Iterator[tuple[Server, str, Others]]:
    with running_server(database_url, workers=1) as server:
        token = str(_cli(database_url, "demo")["token"])
        tokens: dict[str, dict[str, str]] = {}
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            for role in ("viewer", "manager", "admin"):
                created = client.post(
                    "/users",
                    headers={"Authorization": f"Bearer {token}"},
                    json={"email": f"{role}-{uuid.uuid4().hex[:8]}@example.com", "role": role},
                )
                assert created.status_code == 201, created.text
                issued = _cli(database_url, "tokens", "create", "--user", created.json()["id"])
                tokens[role] = {"Authorization": f"Bearer {issued['token']}"}
        yield server, token, Others(tokens["viewer"], tokens["manager"], tokens["admin"])


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
class CountModel:
    id: str
    site: int
    lines: dict[int, tuple[int, int]] = field(default_factory=dict)  # product → (counted, expected)
    closed: bool = False


@dataclass
class Transit:
    id: str
    product: int
    source: int
    outstanding: int
    ended: bool = False

    @property
    def destination(self) -> int:
        return 1 - self.source


@dataclass
class Model:
    on_hand: dict[tuple[int, int], int] = field(default_factory=dict)  # (product, site) → qty
    holds: list[Hold] = field(default_factory=list)
    transits: list[Transit] = field(default_factory=list)

    def in_transit(self, product: int, site: int) -> int:
        return sum(
            t.outstanding
            for t in self.transits
            if t.product == product and t.destination == site and not t.ended
        )

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


def make_machine(api: Api, others: Others) -> type[RuleBasedStateMachine]:
    class LedgerMachine(RuleBasedStateMachine):
        """Two fresh sites and products per run; the demo brand's admin drives the API."""

        def __init__(self) -> None:
            super().__init__()
            self.model = Model()
            self.invoices: list[Invoice] = []
            self.counts: list[CountModel] = []
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
            how=st.sampled_from(SITE_NAMINGS),
        )
        def adjust(self, product: int, site: int, quantity: int, how: str) -> None:
            body, params, headers = name_site(
                how, self.sites[site], {"product_id": self.products[product], "quantity": quantity}
            )
            response = api.post("/inventory/adjustments", body, params=params, headers=headers)
            self._expect_adjustment(response, product, site, quantity)

        def _expect_adjustment(
            self, response: httpx.Response, product: int, site: int, quantity: int
        ) -> bool:
            """Check an adjustment's answer against the model (and apply it); True if written."""
            if self.model.get(product, site) + quantity >= 0:
                assert response.status_code == 201, response.text
                assert response.json()["site_id"] == self.sites[site]
                self.model.add(product, site, quantity)
                return True
            assert response.status_code == 422
            assert response.json()["error"]["code"] == "insufficient_stock"
            return False

        @rule(
            product=st.integers(0, 1),
            site=st.integers(0, 1),
            quantity=st.integers(-6, 8).filter(bool),
            how=st.sampled_from(SITE_NAMINGS),
            other=st.sampled_from(("viewer", "manager", "admin")),
        )
        def retried_with_its_key(
            self, product: int, site: int, quantity: int, how: str, other: str
        ) -> None:
            """A keyed write, retried by another caller, then by its own: one write at most."""
            body, params, headers = name_site(
                how, self.sites[site], {"product_id": self.products[product], "quantity": quantity}
            )
            headers = {**headers, "Idempotency-Key": uuid.uuid4().hex}
            first = api.post("/inventory/adjustments", body, params=params, headers=headers)
            written = self._expect_adjustment(first, product, site, quantity)

            stranger = api.client.post(
                "/inventory/adjustments",
                headers={**headers, **getattr(others, other)},
                json=body,
                params=params,
            )
            assert "idempotent-replayed" not in stranger.headers
            if written:
                # Never the stored answer: the key belongs to another request.
                assert stranger.status_code == 422, stranger.text
                assert stranger.json()["error"]["code"] == "idempotency_conflict"
            elif other == "admin":
                # The refused first request released its key: this is a new request.
                self._expect_adjustment(stranger, product, site, quantity)
            else:
                assert stranger.status_code == 403, stranger.text

            again = api.post("/inventory/adjustments", body, params=params, headers=headers)
            if written:
                assert again.status_code == 201
                assert again.headers.get("idempotent-replayed") == "true"
                assert again.json() == first.json()
            else:
                assert again.status_code in (201, 422, 409), again.text
                if again.status_code == 201 and "idempotent-replayed" not in again.headers:
                    self.model.add(product, site, quantity)

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

        @rule(product=st.integers(0, 1), source=st.integers(0, 1), quantity=st.integers(1, 6))
        def ship_in_transit(self, product: int, source: int, quantity: int) -> None:
            response = api.post(
                "/inventory/transfers",
                {
                    "product_id": self.products[product],
                    "site_id": self.sites[source],
                    "destination_site_id": self.sites[1 - source],
                    "quantity": quantity,
                    "in_transit": True,
                },
            )
            problem = self.model.outcome(source, {product: quantity}, {})
            if problem is None:
                assert response.status_code == 201, response.text
                body = response.json()
                assert (body["status"], body["transfer_in"]) == ("in_transit", None)
                self.model.add(product, source, -quantity)
                self.model.transits.append(Transit(body["transfer_id"], product, source, quantity))
            else:
                assert response.status_code == 422
                assert response.json()["error"]["code"] == problem

        @precondition(lambda self: bool(self.model.transits))
        @rule(pick=st.integers(0, 100), quantity=st.integers(1, 4))
        def receive(self, pick: int, quantity: int) -> None:
            transit = self.model.transits[pick % len(self.model.transits)]
            response = api.post(
                f"/inventory/transfers/{transit.id}/receive",
                {"lines": [{"product_id": self.products[transit.product], "quantity": quantity}]},
            )
            if transit.ended:
                assert response.status_code == 422, response.text
                assert response.json()["error"]["code"] == "transfer_closed"
            elif quantity > transit.outstanding:
                assert response.status_code == 422, response.text
                assert response.json()["error"]["details"][0]["outstanding"] == transit.outstanding
            else:
                assert response.status_code == 200, response.text
                transit.outstanding -= quantity
                transit.ended = transit.outstanding == 0
                self.model.add(transit.product, transit.destination, quantity)
                expected = "completed" if transit.ended else "partially_received"
                assert response.json()["status"] == expected
                assert response.json()["outstanding"] == transit.outstanding

        @precondition(lambda self: bool(self.model.transits))
        @rule(pick=st.integers(0, 100), reason=st.sampled_from(("returned", "lost", "damaged")))
        def close_transit(self, pick: int, reason: str) -> None:
            transit = self.model.transits[pick % len(self.model.transits)]
            response = api.post(f"/inventory/transfers/{transit.id}/close", {"reason": reason})
            if transit.ended:
                assert response.status_code == 422, response.text
                assert response.json()["error"]["code"] == "transfer_closed"
                return
            assert response.status_code == 200, response.text
            assert response.json()["status"] == "closed"
            if reason == "returned":
                self.model.add(transit.product, transit.source, transit.outstanding)
                assert response.json()["returned"] == transit.outstanding
            else:
                assert response.json()["written_off"] == transit.outstanding
            transit.outstanding, transit.ended = 0, True

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

        @rule(
            product=st.integers(0, 1),
            site=st.integers(0, 1),
            quantity=st.integers(1, 6),
            how=st.sampled_from(SITE_NAMINGS),
        )
        def purchase(self, product: int, site: int, quantity: int, how: str) -> None:
            line = {"product_id": self.products[product], "quantity": quantity}
            body, params, headers = name_site(
                how, self.sites[site], {"lines": [{**line, "cost_per_unit": "1.25"}]}
            )
            response = api.post("/purchases", body, params=params, headers=headers)
            assert response.status_code == 201, response.text
            assert response.json()["site_id"] == self.sites[site]
            self.model.add(product, site, quantity)

        @rule(site=st.integers(0, 1))
        def start_count(self, site: int) -> None:
            response = api.post(
                "/inventory/counts", {"site_id": self.sites[site], "product_ids": self.products}
            )
            assert response.status_code == 201, response.text
            self.counts.append(CountModel(response.json()["id"], site))

        @precondition(lambda self: bool(self.counts))
        @rule(pick=st.integers(0, 100), product=st.integers(0, 1), counted=st.integers(0, 10))
        def record_count_line(self, pick: int, product: int, counted: int) -> None:
            count = self.counts[pick % len(self.counts)]
            response = api.client.put(
                f"/inventory/counts/{count.id}/lines",
                headers=api.headers,
                json={
                    "lines": [{"product_id": self.products[product], "counted_quantity": counted}]
                },
            )
            if count.closed:
                assert response.status_code == 422
                assert response.json()["error"]["code"] == "count_closed"
                return
            assert response.status_code == 200, response.text
            # The line's expected is the stock at this instant; the latest entry wins, but
            # one repeating the line's figure leaves it as it was counted.
            if count.lines.get(product, (None, 0))[0] != counted:
                count.lines[product] = (counted, self.model.get(product, count.site))
            [line] = [
                line
                for line in response.json()["lines"]
                if line["product_id"] == self.products[product]
            ]
            assert (line["counted_quantity"], line["expected"]) == count.lines[product]

        @precondition(lambda self: bool(self.counts))
        @rule(pick=st.integers(0, 100))
        def complete_count(self, pick: int) -> None:
            count = self.counts[pick % len(self.counts)]
            response = api.post(f"/inventory/counts/{count.id}/complete", {})
            if count.closed:
                assert response.status_code == 422
                assert response.json()["error"]["code"] == "count_closed"
                return
            changes = {p: counted - expected for p, (counted, expected) in count.lines.items()}
            if any(self.model.get(p, count.site) + d < 0 for p, d in changes.items()):
                assert response.status_code == 422
                assert response.json()["error"]["code"] == "insufficient_stock"
                return
            assert response.status_code == 200, response.text
            count.closed = True
            for p, d in changes.items():
                self.model.add(p, count.site, d)
            assert sorted(m["quantity"] for m in response.json()["movements"]) == sorted(
                d for d in changes.values() if d
            )

        @invariant()
        def stock_matches_the_model(self) -> None:
            for p, product_id in enumerate(self.products):
                response = api.get(f"/inventory/products/{product_id}/stock")
                assert response.status_code == 200, response.text
                body = response.json()
                per_site = {
                    s["site_id"]: (s["on_hand"], s["reserved"], s["available"], s["in_transit"])
                    for s in body["sites"]
                }
                for s, site_id in enumerate(self.sites):
                    assert per_site.get(site_id, (0, 0, 0, 0)) == (
                        self.model.get(p, s),
                        self.model.reserved(p, s),
                        self.model.available(p, s),
                        self.model.in_transit(p, s),
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
    live: tuple[Server, str, Others],
) -> None:
    server, token, others = live
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        api = Api(client, {"Authorization": f"Bearer {token}"})
        run_state_machine_as_test(
            make_machine(api, others),
            settings=settings(
                max_examples=EXAMPLES,
                stateful_step_count=STEPS,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
            ),
        )
