"""stock counts: count sessions, their product scope and their lines

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-29 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import stockroom.db.models.base

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = stockroom.db.models.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "stock_counts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("every_product", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.Column("completed_at", UTC(), nullable=True),
        sa.Column("cancelled_at", UTC(), nullable=True),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_stock_counts_brand_id_brands")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_stock_counts_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_stock_counts_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_counts")),
    )
    with op.batch_alter_table("stock_counts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_stock_counts_brand_id_created_at", ["brand_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_stock_counts_brand_id_site_id_created_at",
            ["brand_id", "site_id", "created_at"],
            unique=False,
        )
    op.create_table(
        "stock_count_products",
        sa.Column("count_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_stock_count_products_brand_id_brands")
        ),
        sa.ForeignKeyConstraint(
            ["count_id"],
            ["stock_counts.id"],
            name=op.f("fk_stock_count_products_count_id_stock_counts"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_stock_count_products_product_id_products"),
        ),
        sa.PrimaryKeyConstraint("count_id", "product_id", name=op.f("pk_stock_count_products")),
    )
    op.create_table(
        "stock_count_lines",
        sa.Column("count_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("counted_quantity", sa.BigInteger(), nullable=False),
        sa.Column("expected", sa.BigInteger(), nullable=False),
        sa.Column("counted_at", UTC(), nullable=False),
        sa.Column("counted_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_stock_count_lines_brand_id_brands")
        ),
        sa.ForeignKeyConstraint(
            ["count_id"],
            ["stock_counts.id"],
            name=op.f("fk_stock_count_lines_count_id_stock_counts"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_stock_count_lines_product_id_products")
        ),
        sa.PrimaryKeyConstraint(
            "count_id", "product_id", "location_id", name=op.f("pk_stock_count_lines")
        ),
    )


def downgrade() -> None:
    op.drop_table("stock_count_lines")
    op.drop_table("stock_count_products")
    with op.batch_alter_table("stock_counts", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_counts_brand_id_site_id_created_at")
        batch_op.drop_index("ix_stock_counts_brand_id_created_at")
    op.drop_table("stock_counts")
