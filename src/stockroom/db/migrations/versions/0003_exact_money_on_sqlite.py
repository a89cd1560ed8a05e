"""exact money on sqlite: amounts as scaled integers (ten-thousandths)

SQLite has no decimal type: the NUMERIC(18, 4) money columns held floats, which cannot
tell 99999999999999.9999 from 1e14. From this revision on, `MoneyType` stores an amount
there as an integer count of ten-thousandths (12.5 → 125000); the largest amount,
999999999999999999, fits a 64-bit integer. The declared type stays NUMERIC(18, 4): its
affinity keeps integers as integers, and no table has to be rebuilt. Existing values are
converted (they were floats already, so no more exact than they were).

PostgreSQL's numeric(18, 4) was exact already: nothing changes there.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 13:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column) of every money column.
MONEY_COLUMNS = (
    ("products", "cost_per_unit"),
    ("invoices", "total"),
    ("invoice_lines", "unit_price"),
    ("stock_movements", "unit_cost"),
)
SCALE = 10_000


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, column in MONEY_COLUMNS:
        op.execute(
            # Names from the constant list above, never from input.
            f"UPDATE {table} SET {column} = CAST(ROUND({column} * {SCALE}) AS INTEGER) "  # noqa: S608
            f"WHERE {column} IS NOT NULL"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, column in MONEY_COLUMNS:
        op.execute(
            f"UPDATE {table} SET {column} = CAST({column} AS REAL) / {SCALE} "  # noqa: S608
            f"WHERE {column} IS NOT NULL"
        )
