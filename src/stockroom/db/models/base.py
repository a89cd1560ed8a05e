"""Declarative base, column types shared by every table, and the constraint naming convention."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKeyConstraint,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    TypeDecorator,
    Uuid,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.schema import ColumnCollectionConstraint, Constraint, Table
from sqlalchemy.types import TypeEngine

from stockroom import clock
from stockroom.fields import MONEY_CONTEXT, MONEY_DIGITS, MONEY_PLACES, MONEY_STEP

TENANT_KEY = "brand_id"


def _fk_column(constraint: Constraint, _table: Table) -> str:
    # A composite tenant key is named by its own column: (brand_id, site_id) -> sites is
    # fk_<table>_site_id_sites, the name it had when it was single-column (migration 0011).
    assert isinstance(constraint, ColumnCollectionConstraint)
    names: list[str] = [column.name for column in constraint.columns]
    own = [name for name in names if name != TENANT_KEY]
    return own[-1] if own else names[0]


NAMING_CONVENTION: dict[str, Any] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk_column": _fk_column,
    "fk": "fk_%(table_name)s_%(fk_column)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def tenant_key(*columns: str) -> PrimaryKeyConstraint:
    """A tenant table's primary key: brand_id first (Citus distributes by it)."""
    return PrimaryKeyConstraint(TENANT_KEY, *columns)


def tenant_fk(column: str, referred_table: str) -> ForeignKeyConstraint:
    """`(brand_id, column) -> referred(brand_id, id)`: a row cannot point into another brand."""
    return ForeignKeyConstraint(
        [TENANT_KEY, column], [f"{referred_table}.{TENANT_KEY}", f"{referred_table}.id"]
    )


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps are stored in UTC and always come back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: stockroom stores UTC-aware timestamps only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


class MoneyType(TypeDecorator[Decimal]):
    """Money, exact on both databases: numeric(18, 4) on PostgreSQL, a scaled integer on SQLite.

    SQLite has no decimal type: a NUMERIC column holds a float, which cannot tell
    99999999999999.9999 from 1e14. There the amount is stored in ten-thousandths, as a
    64-bit integer (the largest, 999999999999999999, fits; migration 0003 converted the
    old values). The declared column type stays NUMERIC(18, 4), whose affinity keeps an
    integer an integer. Any arithmetic on money happens in Python (`MONEY_CONTEXT`), never
    in SQL, where SQLite would turn it back into floats.
    """

    impl = Numeric(MONEY_DIGITS, MONEY_PLACES, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(MONEY_DIGITS, MONEY_PLACES, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        amount = Decimal(value).quantize(MONEY_STEP, context=MONEY_CONTEXT)
        if dialect.name == "sqlite":
            return int(amount.scaleb(MONEY_PLACES, context=MONEY_CONTEXT))
        return amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-MONEY_PLACES, context=MONEY_CONTEXT)
        return Decimal(value)


Money = MoneyType()


def utcnow() -> datetime:
    # The one clock (a test may fix it): stamps and expiry compare against the same "now".
    return clock.now()


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012
        uuid.UUID: Uuid(),
        datetime: UTCDateTime(),
        Decimal: Money,
    }
