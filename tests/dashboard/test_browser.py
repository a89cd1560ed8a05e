"""End to end in a real headless Chromium: sign in, see the demo stock, watch the chart move.

Debian's Chromium (`make browser` installs it) driven by Playwright; no browser is ever
downloaded. Without Chromium this test skips, except under CI=true, where it fails.
Every run leaves a screenshot of the product page in test-artifacts/dashboard.png.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

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
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def require_browser() -> None:
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (make browser installs Debian's chromium)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing.append("the playwright package (the dev extras)")
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


def test_a_person_signs_in_sees_the_demo_stock_and_an_adjustment_in_the_chart(
    database_url: str, backend: str
) -> None:
    require_browser()
    from playwright.sync_api import sync_playwright

    demo = create_demo(database_url)
    token = str(demo["token"])
    beans, *_ = demo["product_ids"]  # type: ignore[misc]
    shop, _ = demo["site_ids"]  # type: ignore[misc]
    with running_server(database_url, workers=1) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(10_000)
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))

            # Sign in with the demo token.
            page.goto(f"{server.base_url}/")
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
            response = httpx.post(
                f"{server.base_url}/inventory/adjustments",
                headers={"Authorization": f"Bearer {token}"},
                json={
                    "product_id": beans,
                    "site_id": shop,
                    "quantity": -5,
                    "reason_code": "waste",
                    "reason_description": "bags split in the delivery",
                },
                timeout=10,
            )
            assert response.status_code == 201, response.text

            page.reload()
            assert chart.get_attribute("data-points") == "4"
            assert chart.get_attribute("data-last") == "68"
            assert chart.locator("circle").count() == 4
            assert page.inner_text("#total-on-hand").startswith("68")
            levels = page.locator("#levels tbody tr").all_inner_texts()
            assert [" ".join(row.split()) for row in levels] == [
                # site, on hand, reserved, available, in transit
                "Central warehouse 60 0 60 0",
                "Downtown shop 8 0 8 0",
            ]
            newest = " ".join(
                page.locator("#product-movements tbody tr").first.inner_text().split()
            )
            assert "−5" in newest and "68" in newest and "waste" in newest
            save_screenshot(page.screenshot(full_page=True), backend)

            # Signing out goes back to the form; the pages need signing in again.
            page.get_by_role("button", name="Sign out").click()
            page.wait_for_url(f"{server.base_url}/?notice=signed-out")
            assert page.is_visible("#token")
            page.goto(f"{server.base_url}/dashboard")
            page.wait_for_url(f"{server.base_url}/")
            assert not problems, problems
        finally:
            browser.close()
