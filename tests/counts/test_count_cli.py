"""`stockroom counts start|record|complete` on real databases, as operators script them."""

from __future__ import annotations

import json

from tests.cli.test_cli import fresh_url, json_of, stockroom

__all__ = ["fresh_url"]  # the fixture: a database of its own per backend


def test_an_operator_counts_and_applies_from_the_command_line(fresh_url: str) -> None:
    stockroom(fresh_url, "migrate")
    demo = json_of(stockroom(fresh_url, "demo", "--json"))
    site = str(demo["site_ids"][0])  # type: ignore[index]
    product = str(demo["product_ids"][0])  # type: ignore[index]
    count = str(json_of(stockroom(fresh_url, "counts", "start", "--site", site, "--json"))["id"])

    first = json_of(
        stockroom(fresh_url, "counts", "record", count, "--line", f"{product}=3", "--json")
    )
    [line] = first["data"]  # type: ignore[misc]
    expected = line["expected"]
    again = json_of(
        stockroom(fresh_url, "counts", "record", count, "--line", f"{product}=4", "--json")
    )
    done = json_of(stockroom(fresh_url, "counts", "complete", count, "--json"))

    assert [row["counted_quantity"] for row in again["data"]] == [4]  # type: ignore[attr-defined]
    assert done["status"] == "completed"
    assert [m["quantity"] for m in done["movements"]] == [4 - expected]  # type: ignore[attr-defined]
    assert stockroom(fresh_url, "verify").returncode == 0
    closed = stockroom(fresh_url, "counts", "complete", count, check=False)
    assert closed.returncode == 2
    assert "completed" in closed.stderr
    unknown = stockroom(fresh_url, "counts", "record", count, "--line", "NOPE=1", check=False)
    assert unknown.returncode == 2
    assert "NOPE" in unknown.stderr


def test_record_refuses_unreadable_lines_and_negative_counts(fresh_url: str) -> None:
    stockroom(fresh_url, "migrate")
    demo = json.loads(stockroom(fresh_url, "demo", "--json").stdout)
    count = json_of(
        stockroom(fresh_url, "counts", "start", "--site", demo["site_ids"][0], "--json")
    )["id"]
    product = demo["product_ids"][0]

    for line in ("garbage", f"{product}=-1", f"{product}=two"):
        result = stockroom(fresh_url, "counts", "record", str(count), "--line", line, check=False)
        assert result.returncode == 2, (line, result.stdout)
        assert "error" in result.stderr
