"""Pure ledger rules (no database): netting lines into level changes, and when one is short."""

from __future__ import annotations

import random
import uuid
from collections import Counter, defaultdict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stockroom.errors import ValidationFailed
from stockroom.ledger.rules import LevelKey, MovementDraft, goes_short, level_changes

PRODUCTS = [uuid.UUID(int=n) for n in (3, 1, 2)]
SITES = [uuid.UUID(int=n) for n in (20, 10)]


def draft(
    product: uuid.UUID,
    quantity: int,
    *,
    site: uuid.UUID = SITES[0],
    location: int | None = None,
    expected: int | None = None,
    field: str = "",
) -> MovementDraft:
    return MovementDraft(
        type="adjustment",
        product_id=product,
        site_id=site,
        quantity=quantity,
        location_id=location,
        expected_on_hand=expected,
        field=field,
    )


def test_two_lines_on_one_level_become_one_change_of_their_sum() -> None:
    changes = level_changes(
        [draft(PRODUCTS[0], -3, field="products[0]."), draft(PRODUCTS[0], -3, field="products[1].")]
    )

    assert len(changes) == 1
    assert changes[0].delta == -6
    assert changes[0].fields == ["products[0].", "products[1]."]


def test_lines_that_cancel_out_still_make_a_change_of_zero() -> None:
    changes = level_changes([draft(PRODUCTS[0], 4), draft(PRODUCTS[0], -4)])

    assert [c.delta for c in changes] == [0]


def test_same_product_at_different_locations_or_sites_are_different_levels() -> None:
    changes = level_changes(
        [
            draft(PRODUCTS[0], 1, location=7),
            draft(PRODUCTS[0], 2, location=8),
            draft(PRODUCTS[0], 4),
            draft(PRODUCTS[0], 8, site=SITES[1]),
        ]
    )

    assert sorted(c.delta for c in changes) == [1, 2, 4, 8]


def test_no_location_is_the_level_keyed_zero() -> None:
    (change,) = level_changes([draft(PRODUCTS[0], 1)])

    assert change.key == LevelKey(PRODUCTS[0], SITES[0], 0)


def test_changes_come_in_sorted_key_order_whatever_the_line_order() -> None:
    drafts = [
        draft(PRODUCTS[0], 1, site=SITES[0]),
        draft(PRODUCTS[1], 1, site=SITES[1], location=5),
        draft(PRODUCTS[2], 1, site=SITES[0]),
        draft(PRODUCTS[1], 1, site=SITES[1], location=2),
    ]

    keys = [c.key for c in level_changes(drafts)]

    assert keys == sorted(keys)
    assert keys[0].product_id == uuid.UUID(int=1)
    assert [k.location_id for k in keys[:2]] == [2, 5]
    assert keys == [c.key for c in level_changes(list(reversed(drafts)))]


def test_expected_on_hand_carries_over_to_the_change() -> None:
    (change,) = level_changes([draft(PRODUCTS[0], -1, expected=5), draft(PRODUCTS[0], -1)])

    assert change.expected_on_hand == 5


def test_lines_on_one_level_expecting_different_quantities_are_refused() -> None:
    with pytest.raises(ValidationFailed) as raised:
        level_changes(
            [
                draft(PRODUCTS[0], -1, expected=5, field="products[0]."),
                draft(PRODUCTS[0], -1, expected=6, field="products[1]."),
            ]
        )

    assert raised.value.status_code == 422
    assert [d["field"] for d in raised.value.details] == ["products[1].expected_on_hand"]


def test_no_drafts_make_no_changes() -> None:
    assert level_changes([]) == []


@pytest.mark.parametrize(
    ("on_hand", "delta", "allow_negative", "short"),
    [
        (5, -6, False, True),
        (5, -5, False, False),
        (5, -6, True, False),
        (0, -1, False, True),
        (0, 3, False, False),
        (-4, 1, False, False),  # a level already below zero may still receive stock
        (-4, -1, False, True),
        (-4, -1, True, False),
        (0, 0, False, False),
    ],
)
def test_goes_short_only_below_zero_where_negative_stock_is_forbidden(
    on_hand: int, delta: int, allow_negative: bool, short: bool
) -> None:
    assert goes_short(on_hand, delta, allow_negative=allow_negative) is short


drafts_strategy = st.lists(
    st.builds(
        draft,
        st.sampled_from(PRODUCTS),
        st.integers(min_value=-(10**9), max_value=10**9).filter(bool),
        site=st.sampled_from(SITES),
        location=st.none() | st.integers(min_value=1, max_value=4),
        field=st.from_regex(r"products\[[0-9]{1,3}\]\.", fullmatch=True),
    ),
    max_size=40,
)


@given(drafts_strategy)
def test_netting_keeps_every_levels_sum_sorted_with_one_change_per_level(
    drafts: list[MovementDraft],
) -> None:
    changes = level_changes(drafts)

    expected: dict[LevelKey, int] = defaultdict(int)
    lines: Counter[LevelKey] = Counter()
    for d in drafts:
        key = LevelKey(d.product_id, d.site_id, d.location_id or 0)
        expected[key] += d.quantity
        lines[key] += 1
    keys = [c.key for c in changes]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    assert {c.key: c.delta for c in changes} == dict(expected)
    assert {c.key: len(c.fields) for c in changes} == dict(lines)
    assert sum(c.delta for c in changes) == sum(d.quantity for d in drafts)


@given(drafts_strategy, st.randoms(use_true_random=False))
def test_netting_does_not_depend_on_line_order(
    drafts: list[MovementDraft], rng: random.Random
) -> None:
    shuffled = list(drafts)
    rng.shuffle(shuffled)

    first = [(c.key, c.delta) for c in level_changes(drafts)]
    second = [(c.key, c.delta) for c in level_changes(shuffled)]

    assert first == second


@given(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.integers(min_value=-(10**9), max_value=10**9),
    st.booleans(),
)
def test_only_a_decrease_ending_below_zero_at_a_strict_site_goes_short(
    on_hand: int, delta: int, allow_negative: bool
) -> None:
    short = goes_short(on_hand, delta, allow_negative=allow_negative)

    if allow_negative or delta >= 0:
        assert not short  # receiving stock, or a lenient site, is never refused
    else:
        assert short == (on_hand + delta < 0)
