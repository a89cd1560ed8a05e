"""Signing in and out of the dashboard with an API token held in a cookie."""

from __future__ import annotations

import httpx

from stockroom.dashboard.session import COOKIE
from stockroom.users.service import revoke_tokens
from tests.dashboard.pages import ORIGIN, sign_in, use_token
from tests.factories import Database, create_brand_with_admin, create_product


async def test_the_root_shows_a_sign_in_form_for_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'name="token"' in response.text
    assert 'action="/sign-in"' in response.text
    # One script file of this server (times in the reader's zone), nothing inline.
    assert "script-src 'self';" in response.headers["content-security-policy"]
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert "default-src 'none'" in response.headers["content-security-policy"]


async def test_signing_in_sets_an_httponly_strict_cookie_and_opens_the_stock_page(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    await create_product(brand, sku="TEA-1", name="Green tea")

    response = await sign_in(client, brand.admin.token)

    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={brand.admin.token};")
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/"} <= attributes
    assert "secure" not in attributes  # plain http on 127.0.0.1 would never send it back
    page = await client.get("/dashboard")
    assert page.status_code == 200
    assert "TEA-1" in page.text
    # Signed in, the root goes straight to the stock page.
    assert (await client.get("/")).headers["location"] == "/dashboard"


async def test_an_unknown_token_is_refused_with_a_message_and_no_cookie(
    client: httpx.AsyncClient,
) -> None:
    unknown = await sign_in(client, "sr_" + "x" * 43)
    garbled = await sign_in(client, "not a token")
    empty = await sign_in(client, "")

    for response in (unknown, garbled):
        assert response.status_code == 401
        assert "That token is unknown or has been revoked." in response.text
        assert "set-cookie" not in response.headers
    assert empty.status_code == 401
    assert "Enter an API token." in empty.text


async def test_sign_in_from_another_origin_is_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    form = {"token": brand.admin.token}

    forged = await client.post("/sign-in", data=form, headers={"Origin": "http://evil.example"})
    anonymous = await client.post("/sign-in", data=form)
    null_origin = await client.post("/sign-in", data=form, headers={"Origin": "null"})
    by_referer = await client.post(
        "/sign-in", data=form, headers={"Referer": f"{ORIGIN}/?notice=signed-out"}
    )

    for response in (forged, anonymous, null_origin):
        assert response.status_code == 403
        assert "set-cookie" not in response.headers
        assert "must be sent from a page of this site" in response.text
    assert by_referer.status_code == 303  # a browser that sends no Origin sends a Referer


async def test_a_revoked_token_sends_the_browser_back_to_sign_in_with_a_message(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    assert (await sign_in(client, brand.admin.token)).status_code == 303
    async with db.transaction() as session:
        assert await revoke_tokens(session, brand.admin.token) == 1

    response = await client.get("/dashboard")

    assert response.status_code == 303
    assert response.headers["location"] == "/?notice=ended"
    assert f'{COOKIE}=""' in response.headers["set-cookie"]  # cleared
    form = await client.get("/?notice=ended")
    assert "Your session has ended" in form.text
    assert 'name="token"' in form.text


async def test_a_page_without_a_cookie_redirects_to_sign_in(client: httpx.AsyncClient) -> None:
    for path in ("/dashboard", "/dashboard/low-stock", "/dashboard/movements"):
        response = await client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/"


async def test_a_forged_cookie_is_not_a_session(client: httpx.AsyncClient) -> None:
    use_token(client, "sr_" + "y" * 43)

    response = await client.get("/dashboard")

    assert response.status_code == 303
    assert response.headers["location"] == "/?notice=ended"


async def test_signing_out_clears_the_cookie(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    await sign_in(client, brand.admin.token)

    forged = await client.post("/sign-out", headers={"Origin": "http://evil.example"})
    response = await client.post("/sign-out", headers={"Origin": ORIGIN})

    assert forged.status_code == 403
    assert response.status_code == 303
    assert response.headers["location"] == "/?notice=signed-out"
    assert "max-age=0" in response.headers["set-cookie"].lower()
    assert (await client.get("/dashboard")).headers["location"] == "/"
    assert "You are signed out." in (await client.get("/?notice=signed-out")).text
