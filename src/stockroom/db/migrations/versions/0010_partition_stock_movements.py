"""stock_movements partitioned by month of created_at on PostgreSQL (SQLite unchanged)

Revision ID: 0010
Revises: 0004

The table is rebuilt as a partitioned one with the same columns, keeping its rows: one
partition per month from the oldest movement's to `MONTHS_AHEAD` months from now, and a
DEFAULT partition for anything else (stockroom/ledger/partitions.py says why). The primary
key becomes (brand_id, id, created_at): a partitioned table's unique keys must hold the
partition key, and Citus wants the distribution column (brand_id) in it. Every index,
foreign key and check keeps its name (read from the catalogue, so whatever an earlier
migration added comes along). Downgrade rebuilds the plain table, rows included.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

from alembic import op
from sqlalchemy import text
from sqlalchemy.engine import Connection

from stockroom.ledger import partitions

revision: str = "0010"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = partitions.TABLE
PRIMARY_KEY = "pk_stock_movements"


def _indexes(bind: Connection, table: str) -> list[str]:
    """CREATE INDEX statements of `table`'s indexes that no constraint owns, for `TABLE`."""
    rows = bind.execute(
        text(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = :t AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(:t))"
        ),
        {"t": table},
    ).scalars()
    # A partitioned table's index reads "ON ONLY table"; the rebuilt table takes it whole.
    return [d.replace(" ON ONLY ", " ON ").replace(f".{table} ", f".{TABLE} ") for d in rows]


def _constraints(bind: Connection, table: str) -> list[tuple[str, str]]:
    """(name, definition) of `table`'s foreign keys and checks (not the primary key)."""
    rows = bind.execute(
        text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = to_regclass(:t) AND contype IN ('f', 'c') AND conparentid = 0 "
            "ORDER BY conname"
        ),
        {"t": table},
    ).all()
    return [(r[0], r[1]) for r in rows]


def _columns(bind: Connection, table: str) -> str:
    rows = bind.execute(
        text(
            "SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = to_regclass(:t) "
            "AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
        ),
        {"t": table},
    ).scalars()
    return ", ".join(rows)


def _finish(bind: Connection, indexes: list[str], constraints: list[tuple[str, str]]) -> None:
    for definition in indexes:
        op.execute(definition)
    for name, definition in constraints:
        op.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} {definition}")
    op.execute(f"ANALYZE {TABLE}")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    old = f"{TABLE}_unpartitioned"
    indexes, constraints = _indexes(bind, TABLE), _constraints(bind, TABLE)
    oldest = bind.execute(text(f"SELECT min(created_at) FROM {TABLE}")).scalar()  # noqa: S608
    now = datetime.now(UTC)
    op.execute(f"ALTER TABLE {TABLE} RENAME TO {old}")
    op.execute(
        f"CREATE TABLE {TABLE} (LIKE {old} INCLUDING DEFAULTS INCLUDING STORAGE) "
        "PARTITION BY RANGE (created_at)"
    )
    last = partitions.months(now, now)[0]
    for _ in range(partitions.MONTHS_AHEAD):
        last = partitions.next_month(last)
    for month in partitions.months(min(oldest or now, now), last):
        op.execute(partitions.create_partition_sql(month))
    op.execute(partitions.create_default_partition_sql())
    columns = _columns(bind, old)
    op.execute(f"INSERT INTO {TABLE} ({columns}) SELECT {columns} FROM {old}")  # noqa: S608
    op.execute(f"DROP TABLE {old}")
    op.execute(
        f"ALTER TABLE {TABLE} ADD CONSTRAINT {PRIMARY_KEY} PRIMARY KEY (brand_id, id, created_at)"
    )
    _finish(bind, indexes, constraints)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    old = f"{TABLE}_partitioned"
    indexes, constraints = _indexes(bind, TABLE), _constraints(bind, TABLE)
    op.execute(f"ALTER TABLE {TABLE} RENAME TO {old}")
    op.execute(f"CREATE TABLE {TABLE} (LIKE {old} INCLUDING DEFAULTS INCLUDING STORAGE)")
    columns = _columns(bind, old)
    op.execute(f"INSERT INTO {TABLE} ({columns}) SELECT {columns} FROM {old}")  # noqa: S608
    op.execute(f"DROP TABLE {old} CASCADE")
    op.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {PRIMARY_KEY} PRIMARY KEY (id)")
    _finish(bind, indexes, constraints)
