"""low stock indexes: levels by available, products by min_stock

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 16:30:00

Low stock at a site reads only the levels whose `on_hand - reserved` is below the brand's
largest `min_stock` (an index range), and the products with a `min_stock` and no level at
the site, instead of summing every level of the site (stockroom.stock.service).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_stock_levels_brand_id_site_id_available",
        "stock_levels",
        ["brand_id", "site_id", sa.text("(on_hand - reserved)")],
        unique=False,
        # AVAILABLE_INDEX_BOUND of stockroom.db.models.ledger (a copy: migrations stand alone).
        postgresql_where=sa.text("(on_hand - reserved) < 2147483647"),
        sqlite_where=sa.text("(on_hand - reserved) < 2147483647"),
    )
    op.create_index(
        "ix_products_brand_id_min_stock", "products", ["brand_id", "min_stock"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_products_brand_id_min_stock", table_name="products")
    op.drop_index("ix_stock_levels_brand_id_site_id_available", table_name="stock_levels")
