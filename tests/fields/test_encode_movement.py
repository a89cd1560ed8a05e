"""`encode_movement` is the movement as the API answers it: the same text pydantic writes.

The writer encodes each movement once, for its movement.created event and for the answer of
an initial stock; a difference would show as an event or an answer unlike the others.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from asyncpg.pgproto.pgproto import UUID as DriverUUID
from hypothesis import given, settings
from hypothesis import strategies as st

from stockroom.movements.schemas import Movement, encode_movement

TYPES = ["sale", "purchase", "transfer_out", "transfer_in", "adjustment", "initial_stock", "return"]
texts = st.none() | st.text(max_size=40)
# Ids read from PostgreSQL (a site, the caller) are the driver's UUID type, not uuid.UUID.
any_ids = st.uuids() | st.uuids().map(lambda value: DriverUUID(str(value)))
ids = st.none() | any_ids
instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
) | st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2099, 12, 31)).map(
    lambda moment: moment.replace(tzinfo=timezone(timedelta(hours=5, minutes=30)))
)
costs = st.none() | st.decimals(
    min_value=Decimal(0), max_value=Decimal("99999999999999.9999"), places=4, allow_nan=False
)


@st.composite
def rows(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "id": draw(st.uuids()),
        "brand_id": draw(st.uuids()),
        "type": draw(st.sampled_from(TYPES)),
        "product_id": draw(any_ids),
        "site_id": draw(any_ids),
        "location_id": draw(st.none() | st.integers(1, 2**31 - 1)),
        "quantity": draw(st.integers(-(10**9), 10**9)),
        "source_site_id": draw(ids),
        "destination_site_id": draw(ids),
        "reference": draw(texts),
        "notes": draw(texts),
        "reason_code": draw(texts),
        "reason_description": draw(texts),
        "invoice_id": draw(ids),
        "transfer_id": draw(ids),
        "purchase_id": draw(ids),
        "unit_cost": draw(costs),
        "user_id": draw(ids),
        "created_at": draw(instants),
        "occurred_at": draw(instants),
    }


@settings(max_examples=300, deadline=None)
@given(rows())
def test_a_movement_encodes_to_the_text_the_api_answers(row: dict[str, Any]) -> None:
    assert encode_movement(row) == Movement.model_validate(row).model_dump_json()


def test_control_characters_quotes_and_whole_costs_encode_as_the_api_answers() -> None:
    now = datetime(2026, 11, 29, 22, 0, tzinfo=UTC)
    row = {
        "id": uuid.uuid4(),
        "brand_id": uuid.uuid4(),
        "type": "adjustment",
        "product_id": uuid.uuid4(),
        "site_id": uuid.uuid4(),
        "location_id": None,
        "quantity": -3,
        "source_site_id": None,
        "destination_site_id": None,
        "reference": 'a "quoted"\\ line\nwith\ttabs\x1f and é, \u2028',
        "notes": None,
        "reason_code": "correction",
        "reason_description": None,
        "invoice_id": None,
        "transfer_id": None,
        "purchase_id": None,
        "unit_cost": Decimal("100.0000"),
        "user_id": None,
        "created_at": now,
        "occurred_at": now - timedelta(days=2, microseconds=1),
    }

    assert encode_movement(row) == Movement.model_validate(row).model_dump_json()
