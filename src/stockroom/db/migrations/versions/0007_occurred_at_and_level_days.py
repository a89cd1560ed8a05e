"""stock through time: movements' occurred_at, per-level per-day checkpoints for as-of reads

Revision ID: 0007
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import stockroom.db.models.base

revision: str = "0007"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Stamp = stockroom.db.models.base.UTCDateTime


def upgrade() -> None:
    # Existing movements happened when they were typed: occurred_at = created_at.
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("occurred_at", Stamp(timezone=True), nullable=True))
    op.execute("UPDATE stock_movements SET occurred_at = created_at")
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.alter_column("occurred_at", existing_type=Stamp(timezone=True), nullable=False)
        batch_op.create_index(
            "ix_stock_movements_brand_id_product_id_site_id_occurred_at",
            ["brand_id", "product_id", "site_id", "occurred_at"],
            unique=False,
        )
    op.create_table(
        "stock_level_days",
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_stock_level_days_brand_id_brands")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_stock_level_days_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_stock_level_days_site_id_sites")
        ),
        sa.PrimaryKeyConstraint(
            "brand_id",
            "product_id",
            "site_id",
            "location_id",
            "day",
            name=op.f("pk_stock_level_days"),
        ),
    )
    # The checkpoints of the movements already written (one UTC day per row).
    if op.get_bind().dialect.name == "postgresql":
        day = "(occurred_at AT TIME ZONE 'UTC')::date"
    else:
        day = "date(occurred_at)"
    level = "brand_id, product_id, site_id, COALESCE(location_id, 0)"
    # Built from the constants above only.
    backfill = (
        "INSERT INTO stock_level_days (brand_id, product_id, site_id, location_id, day, quantity) "  # noqa: S608
        "SELECT " + level + ", " + day + ", SUM(quantity) FROM stock_movements "
        "GROUP BY " + level + ", " + day
    )
    op.execute(backfill)


def downgrade() -> None:
    op.drop_table("stock_level_days")
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_movements_brand_id_product_id_site_id_occurred_at")
        batch_op.drop_column("occurred_at")
