"""Signing in to the dashboard over HTTP, and reading its HTML tables in tests."""

from __future__ import annotations

from html.parser import HTMLParser

import httpx

from stockroom.dashboard.session import COOKIE

# The `client` fixture's base URL: the dashboard's sign-in and sign-out POSTs want this Origin.
ORIGIN = "http://stockroom.test"


async def sign_in(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/sign-in", data={"token": token}, headers={"Origin": ORIGIN})


def use_token(client: httpx.AsyncClient, token: str) -> None:
    """Set the session cookie as a browser holding it would send it."""
    client.cookies.set(COOKIE, token, domain="stockroom.test", path="/")


class _Tables(HTMLParser):
    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id = table_id
        self.depth = 0  # > 0 inside the wanted table
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None
        self.in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and (self.depth or dict(attrs).get("id") == self.table_id):
            self.depth += 1
        elif self.depth and tag == "tbody":
            self.in_body = True
        elif self.depth and self.in_body and tag == "tr":
            self.rows.append([])
        elif self.depth and self.in_body and tag == "td":
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag == "table":
            self.depth -= 1
        elif self.depth and tag == "tbody":
            self.in_body = False
        elif self.cell is not None and tag == "td":
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def table_rows(html: str, table_id: str) -> list[list[str]]:
    """The body rows of the table with this id, each a list of its cells' text."""
    parser = _Tables(table_id)
    parser.feed(html)
    return parser.rows


def select_options(html: str, name: str) -> list[str]:
    """The option labels of the <select> with this name."""

    class Options(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.inside = False
            self.option = False
            self.labels: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "select":
                self.inside = dict(attrs).get("name") == name
            elif self.inside and tag == "option":
                self.option = True
                self.labels.append("")

        def handle_endtag(self, tag: str) -> None:
            if tag == "select":
                self.inside = False
            elif tag == "option":
                self.option = False

        def handle_data(self, data: str) -> None:
            if self.option:
                self.labels[-1] += data.strip()

    parser = Options()
    parser.feed(html)
    return parser.labels


def form_fields(html: str, form_id: str) -> dict[str, str]:
    """The hidden fields (CSRF token, Idempotency-Key) of the form with this id."""

    class Hidden(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.inside = False
            self.fields: dict[str, str] = {}

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            named = dict(attrs)
            if tag == "form":
                self.inside = named.get("id") == form_id
            elif self.inside and tag == "input" and named.get("type") == "hidden":
                self.fields[named.get("name") or ""] = named.get("value") or ""

        def handle_endtag(self, tag: str) -> None:
            if tag == "form":
                self.inside = False

    parser = Hidden()
    parser.feed(html)
    assert parser.fields, f"no form {form_id!r} with hidden fields"
    return parser.fields


async def filled_form(
    client: httpx.AsyncClient, page: str, form_id: str, fields: dict[str, str]
) -> dict[str, str]:
    """Open `page` and fill the form `form_id`: its hidden fields (CSRF token, a fresh
    Idempotency-Key) with `fields`, ready to post (more than once, to double-submit)."""
    shown = await client.get(page)
    assert shown.status_code == 200, shown.text
    return form_fields(shown.text, form_id) | fields


async def post_form(
    client: httpx.AsyncClient, page: str, form_id: str, action: str, fields: dict[str, str]
) -> httpx.Response:
    """Open `page`, fill the form `form_id` and post it to `action`, as a browser would."""
    data = await filled_form(client, page, form_id, fields)
    return await client.post(action, data=data, headers={"Origin": ORIGIN})
