"""Never a 500: random JSON at POST /inventory/adjustments gets a contract status and shape.

Bodies range from arbitrary JSON (any scalar, list or object) to near-valid adjustments
whose fields mix real ids (this brand's, another brand's) with random values, sent by an
admin, a manager, a viewer or nobody, with or without an X-Site-Id header.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from stockroom.auth.principal import Role
from tests.errors.shape import error_of
from tests.factories import (
    Database,
    create_brand_with_admin,
    create_caller,
    create_location,
    create_product,
    create_site,
    put_stock,
)

ALLOWED = {201, 401, 403, 404, 409, 422}
CODES = {
    401: {"unauthenticated"},
    403: {"forbidden"},
    404: {"not_found"},
    409: {"stale_quantity"},
    422: {"validation_error", "insufficient_stock"},
}


@dataclass
class World:
    headers: dict[str, dict[str, str]]
    product_ids: list[str]
    site_ids: list[str]
    location_ids: list[int]


@pytest.fixture
async def world(db: Database) -> World:
    """One brand set up per test run; every example of the run posts against it."""
    brand = await create_brand_with_admin(db)
    other = await create_brand_with_admin(db, name="Other brand")
    lenient = await create_site(brand, allow_negative_stock=True)
    ungranted = await create_site(brand)
    plain = await create_product(brand)
    aware = await create_product(brand, location_aware=True)
    location = await create_location(brand, brand.site_id)
    elsewhere = await create_location(brand, lenient)
    await put_stock(brand, plain, 50)
    await put_stock(brand, aware, 50, location_id=location)
    manager = await create_caller(
        brand, Role.manager, site_ids=[brand.site_id, lenient], default_site_id=brand.site_id
    )
    viewer = await create_caller(brand, Role.viewer, site_ids=[brand.site_id])
    return World(
        headers={
            "admin": brand.admin.headers,
            "manager": manager.headers,
            "nobody": {},
            "viewer": viewer.headers,
        },
        product_ids=[str(plain), str(aware), str(await create_product(other)), str(uuid.uuid4())],
        site_ids=[str(brand.site_id), str(lenient), str(ungranted), str(other.site_id)],
        location_ids=[location, elsewhere, await create_location(other, other.site_id)],
    )


nasty_text = st.sampled_from(
    ["", " ", "\x00", "a\x00b", "\ud800", "x" * 65, "x" * 1001, "é" * 64, "null", "1"]
)
text = st.text(max_size=20) | nasty_text
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text
)
any_json = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def mostly(usual: st.SearchStrategy[Any], other: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`usual` three times in four, so bodies reach past validation often enough."""
    # (one_of(usual, usual, usual, other) would not do: it keeps one copy of each branch.)
    return st.integers(min_value=0, max_value=3).flatmap(lambda n: usual if n else other)


FIELDS = [
    "product_id",
    "quantity",
    "reason_code",
    "reason_description",
    "location_id",
    "site_id",
    "workspace_id",
    "expected_on_hand",
    "products",
    "reason",
    "notes",
    "reference",
]


def near_valid(world: World) -> st.SearchStrategy[Any]:
    """A valid single or batch body with up to three fields replaced by something else."""
    plain, aware = world.product_ids[:2]
    valid_sites = st.sampled_from(world.site_ids[:2])  # the brand's first and lenient sites
    quantity = st.integers(min_value=1, max_value=60) | st.integers(min_value=-60, max_value=-1)
    product_at = st.one_of(
        st.fixed_dictionaries({"product_id": st.just(plain)}),
        st.fixed_dictionaries(
            {"product_id": st.just(aware), "location_id": st.sampled_from(world.location_ids)}
        ),
    )
    line = st.tuples(
        product_at,
        st.fixed_dictionaries(
            {"quantity": quantity},
            optional={"expected_on_hand": st.integers(min_value=-5, max_value=60)},
        ),
    ).map(lambda parts: parts[0] | parts[1])
    single = st.tuples(
        line,
        st.fixed_dictionaries(
            {},
            optional={
                "reason_code": st.text(max_size=64),
                "reason_description": st.text(max_size=200),
                "site_id": valid_sites,
            },
        ),
    ).map(lambda parts: parts[0] | parts[1])
    batch = st.fixed_dictionaries(
        {
            "products": st.lists(line, min_size=1, max_size=4),
            "reason": st.sampled_from(["damaged", "lost", "found", "recount", "other"]),
        },
        optional={"notes": st.text(max_size=50), "reference": text, "workspace_id": valid_sites},
    )
    replacement = st.one_of(
        any_json,
        nasty_text,
        st.sampled_from(world.product_ids + world.site_ids + world.location_ids),
    )
    change = st.tuples(st.sampled_from(FIELDS), replacement)
    # A third of the bodies stay valid, so the stock rules are reached too.
    changes = st.integers(min_value=0, max_value=2).flatmap(
        lambda n: st.lists(change, min_size=1, max_size=3) if n else st.just([])
    )
    return st.tuples(single | batch, changes, st.integers(min_value=0, max_value=3)).map(
        lambda parts: mutate(*parts)
    )


def mutate(body: dict[str, Any], changes: list[tuple[str, Any]], line: int) -> dict[str, Any]:
    """Apply `changes` to the body; in a batch, every other change goes to one of its lines."""
    body = dict(body)
    lines = [dict(x) for x in body.get("products", [])]
    to_line = [bool(lines) and n % 2 == 1 for n in range(len(changes))]
    for (field, value), in_line in zip(changes, to_line, strict=True):
        if in_line:
            lines[line % len(lines)][field] = value
    if lines:
        body["products"] = lines
    for (field, value), in_line in zip(changes, to_line, strict=True):
        if not in_line:
            body[field] = value
    return body


@st.composite
def requests(draw: st.DrawFn, world: World) -> tuple[dict[str, str], Any]:
    caller = draw(mostly(st.sampled_from(["admin", "manager", "viewer"]), st.just("nobody")))
    headers = dict(world.headers[caller])
    garbage = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40)
    site_header = draw(mostly(st.none(), st.sampled_from(world.site_ids) | garbage))
    if site_header is not None:
        headers["X-Site-Id"] = site_header
    body = draw(mostly(near_valid(world), any_json))
    return headers, body


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_random_json_never_gets_a_server_error(
    client: httpx.AsyncClient, world: World, data: st.DataObject
) -> None:
    headers, body = data.draw(requests(world))

    response = await client.post(
        "/inventory/adjustments",
        headers=headers | {"Content-Type": "application/json"},
        # ASCII-escaped, so lone surrogates travel as the JSON escapes a client would send.
        content=json.dumps(body).encode(),
    )

    code = response.json()["error"]["code"] if response.status_code >= 400 else "created"
    event(f"{response.status_code} {code}")  # see --hypothesis-show-statistics
    assert response.status_code in ALLOWED, (body, response.text)
    if response.status_code == 201:
        created = response.json()
        movements = created.get("data", [created])
        assert all(m["type"] == "adjustment" for m in movements)
    else:
        error = error_of(response, response.status_code, response.json()["error"]["code"])
        assert error["code"] in CODES[response.status_code], error
