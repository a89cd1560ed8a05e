"""Pure ledger rules, no I/O: how a request's lines become level changes, and when one is short."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from stockroom.db.models.ledger import NO_LOCATION
from stockroom.errors import ValidationFailed, field_error


@dataclass(frozen=True, slots=True)
class MovementDraft:
    """One movement to append; `field` says where its line sits in the request (for errors)."""

    type: str
    product_id: uuid.UUID
    site_id: uuid.UUID
    quantity: int
    location_id: int | None = None
    source_site_id: uuid.UUID | None = None
    destination_site_id: uuid.UUID | None = None
    reference: str | None = None
    notes: str | None = None
    reason_code: str | None = None
    reason_description: str | None = None
    invoice_id: uuid.UUID | None = None
    transfer_id: uuid.UUID | None = None
    purchase_id: uuid.UUID | None = None
    unit_cost: Decimal | None = None
    # Compare-and-set: the level this line changes must be exactly this before the write.
    expected_on_hand: int | None = None
    field: str = ""


@dataclass(frozen=True, slots=True, order=True)
class LevelKey:
    product_id: uuid.UUID
    site_id: uuid.UUID
    location_id: int


@dataclass(slots=True)
class LevelChange:
    """The net change a request makes to one level, with the request fields that make it up."""

    key: LevelKey
    delta: int
    expected_on_hand: int | None = None
    fields: list[str] = field(default_factory=list)


def level_key(draft: MovementDraft) -> LevelKey:
    location = NO_LOCATION if draft.location_id is None else draft.location_id
    return LevelKey(draft.product_id, draft.site_id, location)


def level_changes(drafts: list[MovementDraft]) -> list[LevelChange]:
    """Net change per level, in one fixed (sorted) order so opposing writers never deadlock.

    Lines on the same level are checked together: two lines of −3 against a stock of 5
    are one change of −6, which fails, rather than two changes of −3 that each look fine.
    """
    changes: dict[LevelKey, LevelChange] = {}
    for draft in drafts:
        key = level_key(draft)
        change = changes.get(key)
        if change is None:
            change = changes[key] = LevelChange(key, 0)
        change.delta += draft.quantity
        change.fields.append(draft.field)
        if draft.expected_on_hand is not None:
            if change.expected_on_hand not in (None, draft.expected_on_hand):
                raise ValidationFailed(
                    "Lines on the same stock level expect different quantities.",
                    [field_error(f"{draft.field}expected_on_hand", "conflicts with another line")],
                )
            change.expected_on_hand = draft.expected_on_hand
    return [changes[key] for key in sorted(changes, key=sort_key)]


def sort_key(key: LevelKey) -> tuple[int, int, int]:
    """The levels' one lock order, LevelKey's own (UUIDs compare by their integers), as a
    tuple compared in C: sorting 500 keys by their dataclass comparison cost milliseconds."""
    return (key.product_id.int, key.site_id.int, key.location_id)


def goes_short(on_hand: int, delta: int, *, allow_negative: bool) -> bool:
    """Would this change leave a level below zero where negative stock is not allowed?"""
    return needs_negative(on_hand, delta) and not allow_negative


class ProblemKind(enum.Enum):
    """Why the writer refuses a level change (each is answered by its own error)."""

    stale = "stale"  # the level is not at `expected_on_hand`: 409 stale_quantity
    short = "short"  # it would go below zero where that is forbidden: 422 insufficient_stock


@dataclass(frozen=True, slots=True)
class Problem:
    """One level change the writer refuses, with the figure it was judged against."""

    kind: ProblemKind
    change: LevelChange
    on_hand: int

    @property
    def message(self) -> str:
        if self.kind is ProblemKind.stale:
            return f"on hand is {self.on_hand}, not {self.change.expected_on_hand}"
        return f"on hand is {self.on_hand}; a change of {self.change.delta} would go below zero"


def needs_negative(on_hand: int, delta: int) -> bool:
    """Does this change leave the level below zero (so it holds only if the site allows it)?"""
    return delta < 0 and on_hand + delta < 0


def judge(change: LevelChange, on_hand: int, *, allow_negative: bool) -> Problem | None:
    """The rules for one level change against the level's figure: stale first, then short."""
    if change.expected_on_hand is not None and on_hand != change.expected_on_hand:
        return Problem(ProblemKind.stale, change, on_hand)
    if goes_short(on_hand, change.delta, allow_negative=allow_negative):
        return Problem(ProblemKind.short, change, on_hand)
    return None
