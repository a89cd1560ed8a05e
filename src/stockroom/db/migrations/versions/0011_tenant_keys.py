"""tenant keys: every tenant table's primary key, unique constraints and foreign keys carry brand_id

So the database itself refuses a brand-A row that points at a brand-B row (a composite
foreign key `(brand_id, product_id) -> products(brand_id, id)` cannot match across brands),
and every table can be distributed by `brand_id` (Citus: docs/scaling.md).

The work is driven by three lists. To bring a table of a later migration under the rule,
add its entries: `PRIMARY_KEYS` (a table whose key lacks brand_id), `UNIQUES` and
`FOREIGN_KEYS` (a single-column foreign key `(table, column) -> referred.id`, made
`(brand_id, column) -> referred(brand_id, id)` under the same name). `brands` is the
reference table: `brand_id -> brands.id` stays single-column.

`stock_movements`: its primary key is made (brand_id, id, created_at) by the partitioning
migration (0010) on PostgreSQL; here it is converted only where it still lacks brand_id.

Locations: the `locations.id` sequence default is dropped on PostgreSQL (SQLite cannot
autoincrement a column of a composite key); the application draws a location's id per
brand (`sites/service.py`), so no node ever needs a shared sequence.

Revision ID: 0011
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision: str = "0011"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> (primary key before, primary key after)
PRIMARY_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "sites": (("id",), ("brand_id", "id")),
    "locations": (("id",), ("brand_id", "id")),
    "products": (("id",), ("brand_id", "id")),
    "users": (("id",), ("brand_id", "id")),
    "user_sites": (("user_id", "site_id"), ("brand_id", "user_id", "site_id")),
    "api_tokens": (("id",), ("brand_id", "id")),
    "invoices": (("id",), ("brand_id", "id")),
    "invoice_lines": (("id",), ("brand_id", "id")),
    "purchases": (("id",), ("brand_id", "id")),
    # Only if 0010 has not keyed it (SQLite): the same key as the partitioned table's.
    "stock_movements": (("id",), ("brand_id", "id", "created_at")),
    "stock_counts": (("id",), ("brand_id", "id")),
    "stock_count_products": (
        ("count_id", "product_id"),
        ("brand_id", "count_id", "product_id"),
    ),
    "stock_count_lines": (
        ("count_id", "product_id", "location_id"),
        ("brand_id", "count_id", "product_id", "location_id"),
    ),
    "reservations": (("id",), ("brand_id", "id")),
    "reservation_lines": (("id",), ("brand_id", "id")),
}

# (table, columns before, columns after); named by the convention uq_<table>_<columns>.
UNIQUES: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("api_tokens", ("token_hash",), ("brand_id", "token_hash")),
]

# (table, column, referred table): `column -> referred.id` becomes composite.
FOREIGN_KEYS: list[tuple[str, str, str]] = [
    ("locations", "site_id", "sites"),
    ("users", "default_site_id", "sites"),
    ("user_sites", "user_id", "users"),
    ("user_sites", "site_id", "sites"),
    ("api_tokens", "user_id", "users"),
    ("invoices", "site_id", "sites"),
    ("invoice_lines", "invoice_id", "invoices"),
    ("invoice_lines", "product_id", "products"),
    ("invoice_lines", "location_id", "locations"),
    ("purchases", "site_id", "sites"),
    ("stock_levels", "product_id", "products"),
    ("stock_levels", "site_id", "sites"),
    ("stock_movements", "product_id", "products"),
    ("stock_movements", "site_id", "sites"),
    ("stock_movements", "location_id", "locations"),
    ("stock_counts", "site_id", "sites"),
    ("stock_counts", "location_id", "locations"),
    ("stock_count_products", "count_id", "stock_counts"),
    ("stock_count_products", "product_id", "products"),
    ("stock_count_lines", "count_id", "stock_counts"),
    ("stock_count_lines", "product_id", "products"),
    ("reservations", "site_id", "sites"),
    ("reservation_lines", "reservation_id", "reservations"),
    ("reservation_lines", "product_id", "products"),
    ("reservation_lines", "site_id", "sites"),
    # Tables of the migrations 0006 (transfers) and 0007 (level days), made on other branches
    # in the same wave; an entry whose table does not exist is skipped.
    ("transfers", "source_site_id", "sites"),
    ("transfers", "destination_site_id", "sites"),
    ("transfer_lines", "product_id", "products"),
    ("transfer_lines", "destination_site_id", "sites"),
    ("stock_level_days", "product_id", "products"),
    ("stock_level_days", "site_id", "sites"),
]

# The hash-only lookup of tokens minted before tokens carried their brand (auth/tokens.py).
HASH_ONLY_INDEX = "ix_api_tokens_token_hash"


def _fk_name(table: str, column: str, referred: str) -> str:
    return f"fk_{table}_{column}_{referred}"


def _tables() -> list[str]:
    seen = dict.fromkeys([*PRIMARY_KEYS, *(t for t, _, _ in UNIQUES)])
    seen.update(dict.fromkeys(t for t, _, _ in FOREIGN_KEYS))
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    return [table for table in seen if table in existing]


def _partitioned(table: str) -> bool:
    """A partitioned table (0010's ledger on PostgreSQL): its key is 0010's, both ways."""
    if op.get_bind().dialect.name != "postgresql":
        return False
    kind = op.get_bind().execute(
        sa.text("SELECT relkind::text FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table}
    )
    return kind.scalar() == "p"


def _primary_key(table: str) -> tuple[str, ...]:
    found = sa.inspect(op.get_bind()).get_pk_constraint(table)
    return tuple(found["constrained_columns"])


def _rekey(upgrade: bool) -> None:
    """Swap keys table by table (one batch each: SQLite rebuilds a table once)."""
    # Foreign keys first everywhere: PostgreSQL will not drop a key another table refers to.
    sqlite = op.get_bind().dialect.name == "sqlite"
    tables = _tables()
    current_pk = {
        table: _primary_key(table)
        for table in PRIMARY_KEYS
        if table in tables and not _partitioned(table)
    }
    phases = ["all"] if sqlite else ["drop_fks", "keys", "add_fks"]
    for phase in phases:
        for table in tables:
            with op.batch_alter_table(table) as batch:
                if phase in ("all", "drop_fks"):
                    for fk_table, column, referred in FOREIGN_KEYS:
                        if fk_table == table:
                            batch.drop_constraint(
                                _fk_name(table, column, referred), type_="foreignkey"
                            )
                if phase in ("all", "keys"):
                    _swap_keys(batch, table, current_pk.get(table), upgrade)
                if phase in ("all", "add_fks"):
                    for fk_table, column, referred in FOREIGN_KEYS:
                        if fk_table == table:
                            local, remote = (
                                (["brand_id", column], ["brand_id", "id"])
                                if upgrade
                                else ([column], ["id"])
                            )
                            batch.create_foreign_key(
                                _fk_name(table, column, referred), referred, local, remote
                            )


def _swap_keys(
    batch: BatchOperations, table: str, current: tuple[str, ...] | None, upgrade: bool
) -> None:
    if current is not None:
        before, after = PRIMARY_KEYS[table]
        old, new = (before, after) if upgrade else (after, before)
        if current == old:
            batch.drop_constraint(f"pk_{table}", type_="primary")
            batch.create_primary_key(f"pk_{table}", list(new))
    for unique_table, before_cols, after_cols in UNIQUES:
        if unique_table == table:
            old_cols, new_cols = (before_cols, after_cols) if upgrade else (after_cols, before_cols)
            batch.drop_constraint(f"uq_{table}_{'_'.join(old_cols)}", type_="unique")
            batch.create_unique_constraint(f"uq_{table}_{'_'.join(new_cols)}", list(new_cols))


def upgrade() -> None:
    _rekey(upgrade=True)
    op.create_index(HASH_ONLY_INDEX, "api_tokens", ["token_hash"])
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("locations", "id", server_default=None)


def downgrade() -> None:
    shared = (
        op.get_bind()
        .execute(sa.text("SELECT id FROM locations GROUP BY id HAVING count(*) > 1 LIMIT 1"))
        .first()
    )
    if shared is not None:
        # Location ids are drawn per brand since 0011: two brands may both have location 1.
        raise RuntimeError(
            f"cannot downgrade below 0011: location id {shared[0]} is used by several brands"
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "SELECT setval(pg_get_serial_sequence('locations', 'id'),"
            " coalesce((SELECT max(id) FROM locations), 0) + 1, false)"
        )
        op.alter_column(
            "locations",
            "id",
            server_default=sa.text("nextval('locations_id_seq'::regclass)"),
        )
    op.drop_index(HASH_ONLY_INDEX, table_name="api_tokens")
    _rekey(upgrade=False)
