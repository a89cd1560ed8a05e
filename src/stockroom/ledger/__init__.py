"""The ledger: the one writer of stock (`post_movements`), its pure rules, and `verify`."""

from stockroom.ledger.available import HoldDraft
from stockroom.ledger.lines import LineTarget, check_line_targets
from stockroom.ledger.rules import MovementDraft
from stockroom.ledger.writer import post_movements

__all__ = ["HoldDraft", "LineTarget", "MovementDraft", "check_line_targets", "post_movements"]
