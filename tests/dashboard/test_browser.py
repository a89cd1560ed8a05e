"""End to end in a real headless Chromium: sign in, see the demo stock, watch the chart move,
then do each daily task with the forms on a desktop (1280×800) and on a phone (390×844):
an adjustment with a reason (refused in place, then double-clicked: one movement), a
one-step transfer, a transfer shipped now and received later in parts then closed, a
purchase receipt, a count with a scanner typing like a keyboard, releasing a reservation and
voiding an invoice.

Debian's Chromium (`make browser` installs it) driven by Playwright; no browser is ever
downloaded. axe-core (`make openapi-tools` installs it into .tools) is injected into every
page and must report no serious or critical violation; at phone width no page may scroll
sideways. After each task the ledger is read back through the API. Without Chromium or
axe-core this test skips, except under CI=true, where it fails. Every run leaves
screenshots in test-artifacts/ (gitignored): dashboard.png, and one per page and viewport
under test-artifacts/dashboard-<backend>/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server import running_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
AXE = ROOT / ".tools" / "node_modules" / "axe-core" / "axe.min.js"
VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}


def require_browser() -> None:
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (make browser installs Debian's chromium)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing.append("the playwright package (the dev extras)")
    if not AXE.exists():
        missing.append(f"{AXE} (make openapi-tools installs axe-core)")
    if missing:
        reason = "browser test needs " + " and ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def create_demo(database_url: str) -> dict[str, object]:
    """`stockroom demo --json`, exactly as a new user would run it."""
    done = subprocess.run(
        [sys.executable, "-m", "stockroom.cli", "demo", "--json"],
        env={**os.environ, "STOCKROOM_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    demo: dict[str, object] = json.loads(done.stdout)
    return demo


def save_screenshot(png: bytes, backend: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    own = ARTIFACTS / f"dashboard-{backend}.png"
    own.write_bytes(png)
    # Both backends may run at once (xdist): replace dashboard.png whole, never half-written.
    staged = ARTIFACTS / f".dashboard-{backend}.png.tmp"
    shutil.copyfile(own, staged)
    os.replace(staged, ARTIFACTS / "dashboard.png")


class Worker:
    """A signed-in browser page, and the API (the same brand's token) to read the ledger."""

    def __init__(self, page: Any, base_url: str, api: httpx.Client, backend: str) -> None:
        self.page = page
        self.base_url = base_url
        self.api = api
        self.shots = ARTIFACTS / f"dashboard-{backend}"
        self.shots.mkdir(parents=True, exist_ok=True)
        self.axe = AXE.read_text()
        self.viewport = "desktop"

    def open(self, path: str) -> None:
        self.page.goto(f"{self.base_url}{path}")

    def check_page(self, name: str) -> None:
        """No serious or critical axe violation, no sideways scrolling; a screenshot."""
        page = self.page
        # Evaluated through DevTools, which the page's CSP (no inline script) does not block.
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.evaluate(self.axe + "\n;true")
        result = page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
            ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))"
        )
        assert result == [], f"{name} at {self.viewport}: {result}"
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 0:
            wide = page.evaluate(
                "[...document.querySelectorAll('body *')]"
                ".filter(e => e.getBoundingClientRect().right > innerWidth + 1)"
                ".slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id)"
            )
            pytest.fail(f"{name} scrolls sideways by {overflow}px at {self.viewport}: {wide}")
        page.screenshot(path=str(self.shots / f"{self.viewport}-{name}.png"), full_page=True)

    def submit(self, button: str) -> None:
        with self.page.expect_navigation():
            self.page.get_by_role("button", name=button).click()

    def newest(self, product_id: str, **filters: str) -> dict[str, Any]:
        """The newest movement of the product (optionally of a type or at a site)."""
        answer = self.api.get(
            "/inventory/movements", params={"product_id": product_id, **filters, "per_page": 1}
        )
        assert answer.status_code == 200, answer.text
        movement: dict[str, Any] = answer.json()["data"][0]
        return movement

    def transfer(self, transfer_id: str) -> dict[str, Any]:
        answer = self.api.get(f"/inventory/transfers/{transfer_id}")
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found

    def level(self, product_id: str, site_id: str) -> dict[str, Any]:
        stock = self.api.get(f"/inventory/products/{product_id}/stock").json()
        site: dict[str, Any] = next(s for s in stock["sites"] if s["site_id"] == site_id)
        return site


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for the module's tests (one per backend), each test on a page of its own.

    Not wider than the module: between its calls the sync Playwright API leaves its event
    loop marked as running in this thread, and the async tests that follow would refuse to
    start theirs; pytest ends a module-scoped fixture before it runs another module's tests.
    """
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


def test_a_person_signs_in_sees_the_demo_stock_and_an_adjustment_in_the_chart(
    browser: Any, database_url: str, backend: str
) -> None:
    demo = create_demo(database_url)
    token = str(demo["token"])
    beans, milk, _cups = demo["product_ids"]  # type: ignore[misc]
    shop, warehouse = demo["site_ids"]  # type: ignore[misc]
    # The API client is closed with the test: a socket left to the garbage collector warns
    # (ResourceWarning, an error here) in whichever later test the collector happens to run.
    with (
        running_server(database_url, workers=1) as server,
        httpx.Client(
            base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as api,
    ):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            # How long to wait for a state (a page, an element) before failing: generous, for a
            # loaded CI machine; nothing waits longer than its state takes to arrive.
            page.set_default_timeout(30_000)
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            worker = Worker(page, server.base_url, api, backend)

            # Sign in with the demo token.
            page.goto(f"{server.base_url}/")
            worker.check_page("sign-in")
            page.fill("#token", token)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{server.base_url}/dashboard")

            # The demo stock: beans are 60 at the warehouse and 13 at the shop.
            beans_row = page.locator("#stock tbody tr", has_text="BEANS-1KG")
            assert beans_row.locator("td").all_inner_texts()[3:] == ["60", "13", "73"]
            # The stylesheet loaded (the CSP allows it): the header is dark.
            header = page.evaluate(
                "getComputedStyle(document.querySelector('.top')).backgroundColor"
            )
            assert header == "rgb(17, 24, 39)"

            # The product page: levels and the chart of the three demo movements.
            page.get_by_role("link", name="BEANS-1KG").click()
            page.wait_for_url(f"**/dashboard/products/{beans}")
            chart = page.locator("#stock-chart")
            assert chart.is_visible()
            assert chart.get_attribute("data-points") == "3"
            assert chart.get_attribute("data-last") == "73"
            assert chart.locator("circle").count() == 3
            assert page.inner_text("#total-on-hand").startswith("73")

            # Five bags of beans go to waste, through the API.
            response = worker.api.post(
                "/inventory/adjustments",
                json={
                    "product_id": beans,
                    "site_id": shop,
                    "quantity": -5,
                    "reason_code": "waste",
                    "reason_description": "bags split in the delivery",
                },
            )
            assert response.status_code == 201, response.text

            page.reload()
            assert chart.get_attribute("data-points") == "4"
            assert chart.get_attribute("data-last") == "68"
            assert chart.locator("circle").count() == 4
            assert page.inner_text("#total-on-hand").startswith("68")
            levels = page.locator("#levels tbody tr").all_inner_texts()
            assert [" ".join(row.split()) for row in levels] == [
                # site, on hand, reserved, available (below the minimum of 10: said so), in transit
                "Central warehouse 60 0 60 0",
                "Downtown shop 8 0 8 LOW 0",
            ]
            newest = " ".join(
                page.locator("#product-movements tbody tr").first.inner_text().split()
            )
            assert "−5" in newest and "68" in newest and "waste" in newest
            save_screenshot(page.screenshot(full_page=True), backend)

            for viewport, (width, height) in VIEWPORTS.items():
                page.set_viewport_size({"width": width, "height": height})
                worker.viewport = viewport
                do_the_daily_tasks(worker, beans=beans, milk=milk, shop=shop, warehouse=warehouse)

            # Signing out goes back to the form; the pages need signing in again.
            page.get_by_role("button", name="Sign out").click()
            page.wait_for_url(f"{server.base_url}/?notice=signed-out")
            assert page.is_visible("#token")
            page.goto(f"{server.base_url}/dashboard")
            page.wait_for_url(f"{server.base_url}/")
            # The refused adjustments answer 422 (the form shown again): the browser logs those.
            assert [p for p in problems if "status of 422" not in p] == [], problems
        finally:
            page.close()


def do_the_daily_tasks(worker: Worker, *, beans: str, milk: str, shop: str, warehouse: str) -> None:
    """Each task with the forms, as a person does it; the ledger read back after each."""
    page = worker.page
    for name, path in [
        ("stock", "/dashboard"),
        ("low-stock", "/dashboard/low-stock"),
        ("low-stock-all-sites", "/dashboard/low-stock?site_id=all"),
        ("movements", f"/dashboard/movements?sku=BEANS-1KG&site_id={shop}"),
    ]:
        worker.open(path)
        worker.check_page(name)

    # The product page: the chart's figures open from the keyboard.
    worker.open(f"/dashboard/products/{beans}")
    page.focus("#chart-details summary")
    page.keyboard.press("Enter")
    assert page.locator("#chart-details li").first.is_visible()
    worker.check_page("product")

    # A broken bag: remove 1 at the shop, reason waste (from the product page's button).
    page.locator("#product-actions").get_by_role("link", name="Adjust").click()
    page.wait_for_url("**/dashboard/adjust?sku=BEANS-1KG")
    page.select_option("#f-site_id", shop)
    page.get_by_label("Remove").check()
    page.fill("#f-quantity", "1")
    page.select_option("#f-reason", "waste")
    page.fill("#f-note", f"dropped ({worker.viewport})")
    worker.check_page("adjust")
    worker.submit("Save adjustment")
    assert "BEANS-1KG −1 (waste)" in page.inner_text("#saved")
    worker.check_page("adjust-saved")
    adjustment = worker.newest(beans, site_id=shop)
    assert (adjustment["type"], adjustment["quantity"], adjustment["reason_code"]) == (
        "adjustment",
        -1,
        "waste",
    )
    # Too many: the error is shown in place, nothing is written.
    page.select_option("#f-site_id", shop)
    page.fill("#f-sku", "BEANS-1KG")
    page.fill("#f-quantity", "100000")
    worker.submit("Save adjustment")
    assert page.locator("#form-error").is_visible()
    worker.check_page("adjust-refused")
    assert worker.newest(beans, site_id=shop)["id"] == adjustment["id"]
    # Corrected, and double-clicked: one movement (the form's Idempotency-Key).
    page.fill("#f-quantity", "1")
    page.get_by_role("button", name="Save adjustment").dblclick()
    page.wait_for_selector("#saved")
    newest_two = worker.api.get(
        "/inventory/movements", params={"product_id": beans, "site_id": shop, "per_page": 2}
    ).json()["data"]
    assert newest_two[1]["id"] == adjustment["id"]
    assert newest_two[0]["quantity"] == -1

    # Two bags from the warehouse to the shop.
    worker.open("/dashboard/transfer")
    page.select_option("#f-site_id", warehouse)
    page.select_option("#f-destination_site_id", shop)
    page.fill("#f-sku", "BEANS-1KG")
    page.fill("#f-quantity", "2")
    worker.check_page("transfer")
    worker.submit("Transfer")
    assert "2 × BEANS-1KG to Downtown shop" in page.inner_text("#saved")
    arrived = worker.newest(beans, site_id=shop)
    assert (arrived["type"], arrived["quantity"]) == ("transfer_in", 2)
    assert worker.newest(beans, site_id=warehouse)["transfer_id"] == arrived["transfer_id"]

    # Three bags shipped now, received later in two parts: one arrives, the rest comes back.
    box = f"BOX-{worker.viewport}"
    worker.open("/dashboard/transfer")
    page.select_option("#f-site_id", warehouse)
    page.select_option("#f-destination_site_id", shop)
    page.fill("#f-sku", "BEANS-1KG")
    page.fill("#f-quantity", "3")
    page.get_by_label("Ship now, receive later").check()
    page.fill("#f-reference", box)
    worker.submit("Transfer")
    assert "3 × BEANS-1KG to Downtown shop (on its way" in page.inner_text("#saved")
    worker.check_page("transfer-shipped")
    shipped = worker.newest(beans, site_id=warehouse)
    assert (shipped["type"], shipped["quantity"], shipped["reference"]) == ("transfer_out", -3, box)
    transfer = worker.transfer(shipped["transfer_id"])
    assert (transfer["status"], transfer["outstanding"]) == ("in_transit", 3)
    assert worker.level(beans, shop)["in_transit"] == 3
    on_hand_at_shop = worker.level(beans, shop)["on_hand"]

    worker.open("/dashboard/transfers")
    item = page.locator(f"#transfer-{transfer['id']}")
    assert box in item.inner_text()
    worker.check_page("transfers-on-the-way")
    item.get_by_label("BEANS-1KG: received now").fill("1")
    worker.submit(f"Receive {box}")
    assert "1 unit(s) received, transfer partially received" in page.inner_text("#saved")
    transfer = worker.transfer(transfer["id"])
    assert (transfer["status"], transfer["received"], transfer["outstanding"]) == (
        "partially_received",
        1,
        2,
    )
    assert worker.newest(beans, site_id=shop)["quantity"] == 1
    at_shop = worker.level(beans, shop)
    assert (at_shop["on_hand"], at_shop["in_transit"]) == (on_hand_at_shop + 1, 2)
    # Too many for what is left: refused in place, nothing received.
    item.get_by_label("BEANS-1KG: received now").fill("5")
    worker.submit(f"Receive {box}")
    assert page.locator("#form-error").is_visible()
    worker.check_page("transfers-refused")
    assert worker.transfer(transfer["id"])["received"] == 1
    # The rest will not come: the warehouse closes the transfer and gets its 2 bags back.
    warehouse_before = worker.level(beans, warehouse)["on_hand"]
    item.get_by_label("What happened to the rest?").select_option("returned")
    worker.submit(f"Close {box}")
    assert "transfer closed (returned)" in page.inner_text("#saved")
    worker.check_page("transfers-closed")
    transfer = worker.transfer(transfer["id"])
    assert (transfer["status"], transfer["returned"], transfer["outstanding"]) == ("closed", 2, 0)
    back = worker.newest(beans, site_id=warehouse)
    assert (back["type"], back["quantity"], back["transfer_id"]) == (
        "transfer_in",
        2,
        transfer["id"],
    )
    assert worker.level(beans, warehouse)["on_hand"] == warehouse_before + 2
    assert worker.level(beans, shop)["in_transit"] == 0
    assert page.locator(f"#transfer-{transfer['id']}").count() == 0  # no longer on its way

    # A delivery of milk at the shop.
    worker.open("/dashboard/receive")
    page.select_option("#f-site_id", shop)
    page.fill("#f-reference", f"DN-{worker.viewport}")
    page.fill("#f-sku-0", "MILK-1L")
    page.fill("#f-quantity-0", "12")
    page.fill("#f-cost-0", "0.95")
    worker.check_page("receive")
    worker.submit("Receive")
    assert "12 units on 1 line(s)" in page.inner_text("#saved")
    worker.check_page("receive-saved")
    delivered = worker.newest(milk, site_id=shop)
    assert (delivered["type"], delivered["quantity"], delivered["reference"]) == (
        "purchase",
        12,
        f"DN-{worker.viewport}",
    )

    # Count the shop's beans with a scanner: it types the SKU and presses Enter.
    worker.open("/dashboard/counts")
    page.select_option("#f-site_id", shop)
    worker.check_page("counts")
    worker.submit("Start counting")
    on_hand = worker.level(beans, shop)["on_hand"]
    scans = 3 if worker.viewport == "desktop" else 2
    assert scans != on_hand  # so that completing writes a correction
    # The SKU field has the focus once the page is ready (autofocus), after every scan too:
    # Playwright's focus assertion waits for that state (its timeout fails the test; a
    # wait_for_function predicate would be an eval, which the dashboard's CSP refuses).
    from playwright.sync_api import expect

    sku = page.locator("#f-sku")
    for _ in range(scans):
        expect(sku).to_be_focused(timeout=30_000)  # focus stays for scanning
        page.keyboard.type("BEANS-1KG")
        with page.expect_navigation():
            page.keyboard.press("Enter")
    expect(sku).to_be_focused(timeout=30_000)
    line = " ".join(page.locator("#count-lines tbody tr").first.inner_text().split())
    assert line.startswith("BEANS-1KG") and f"{scans} {on_hand}" in line  # counted, expected
    worker.check_page("count")
    worker.submit("Complete the count")
    assert "count completed, 1 level(s) corrected" in page.inner_text("#saved")
    worker.check_page("count-completed")
    recount = worker.newest(beans, site_id=shop)
    assert (recount["type"], recount["reason_code"], recount["quantity"]) == (
        "adjustment",
        "recount",
        scans - on_hand,
    )
    assert worker.level(beans, shop)["on_hand"] == scans

    # An order's reservation is released from the list.
    reference = f"ORDER-{worker.viewport}"
    held = worker.api.post(
        "/inventory/reservations",
        json={
            "site_id": shop,
            "lines": [{"product_id": milk, "quantity": 2}],
            "reference": reference,
        },
    )
    assert held.status_code == 201, held.text
    assert worker.level(milk, shop)["reserved"] == 2
    worker.open("/dashboard/reservations")
    worker.check_page("reservations")
    worker.submit(f"Release {reference}")
    assert reference in page.inner_text("#saved")
    worker.check_page("reservations-released")
    assert worker.level(milk, shop)["reserved"] == 0
    assert worker.api.get(f"/inventory/reservations/{held.json()['id']}").json()["status"] == (
        "released"
    )

    # A sale made by mistake is voided: its units come back.
    number = f"INV-{worker.viewport}"
    sold = worker.api.post(
        "/invoices",
        json={
            "site_id": shop,
            "number": number,
            "lines": [{"product_id": milk, "quantity": 1, "unit_price": "1.80"}],
        },
    )
    assert sold.status_code == 201, sold.text
    worker.open("/dashboard/invoices")
    worker.check_page("invoices")
    worker.submit(f"Void {number}")
    assert number in page.inner_text("#saved")
    worker.check_page("invoices-voided")
    returned = worker.newest(milk, site_id=shop)
    assert (returned["type"], returned["quantity"], returned["invoice_id"]) == (
        "return",
        1,
        sold.json()["id"],
    )
