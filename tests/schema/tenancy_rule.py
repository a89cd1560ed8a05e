"""The tenancy rule, read from a live database's catalog (PostgreSQL's or SQLite's).

Every tenant table carries `brand_id` in its primary key, in every unique constraint and
unique index, and in every foreign key to another tenant table (matched to the referred
table's `brand_id`). Reference tables (`brands`) are the exception: Citus copies them to
every node, and a tenant table points at them with `brand_id` alone.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import Connection

TENANT_KEY = "brand_id"
REFERENCE_TABLES = frozenset({"brands"})
NOT_TENANT_DATA = frozenset({"alembic_version"})


def tenant_key_violations(conn: Connection) -> list[str]:
    """What breaks the rule, one sentence each (empty: the schema keeps it)."""
    inspector: Any = inspect(conn)
    partitions = _postgres_partitions(conn)
    problems: list[str] = []
    for table in sorted(inspector.get_table_names()):
        if table in REFERENCE_TABLES | NOT_TENANT_DATA or table in partitions:
            continue
        columns = {column["name"] for column in inspector.get_columns(table)}
        if TENANT_KEY not in columns:
            problems.append(f"{table}: no {TENANT_KEY} column (and not a reference table)")
            continue
        primary = inspector.get_pk_constraint(table)["constrained_columns"]
        if TENANT_KEY not in primary:
            problems.append(f"{table}: primary key {tuple(primary)} lacks {TENANT_KEY}")
        uniques = [
            (unique["name"], unique["column_names"])
            for unique in inspector.get_unique_constraints(table)
        ] + [
            (index["name"], index["column_names"])
            for index in inspector.get_indexes(table)
            if index["unique"]
        ]
        for name, unique_columns in uniques:
            if TENANT_KEY not in unique_columns:
                problems.append(
                    f"{table}: unique {name} {tuple(unique_columns)} lacks {TENANT_KEY}"
                )
        for fk in inspector.get_foreign_keys(table):
            if fk["referred_table"] in REFERENCE_TABLES:
                continue
            pairs = dict(zip(fk["constrained_columns"], fk["referred_columns"], strict=True))
            if pairs.get(TENANT_KEY) != TENANT_KEY:
                problems.append(
                    f"{table}: foreign key {fk['name']} {tuple(fk['constrained_columns'])} -> "
                    f"{fk['referred_table']}{tuple(fk['referred_columns'])} lacks {TENANT_KEY}"
                )
    # A unique constraint is also listed as its index on some backends: name it once.
    return sorted(set(problems))


def _postgres_partitions(conn: Connection) -> set[str]:
    # A partition inherits its parent's keys; the parent is the table to judge.
    if conn.dialect.name != "postgresql":
        return set()
    rows = conn.exec_driver_sql(
        "SELECT relname FROM pg_class WHERE relispartition AND relkind IN ('r', 'p')"
    )
    return {row[0] for row in rows}
