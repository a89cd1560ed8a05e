"""site shortfalls: each product's stock at each site beside its minimum, for low stock

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 23:00:00

Low stock at a site becomes an index range of the short rows of `site_shortfalls` (the
writer keeps the rows with the levels, the catalogue keeps `min_stock`), instead of probing
every product with a minimum; 0012's two low-stock indexes are dropped. The table is filled
here from the levels and the products: a row for every level's product and site (the
levels summed over locations), and for every product with a minimum at every site of its
brand (never stocked there: 0 on hand).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# stockroom.db.models.ledger.SHORT (a copy: migrations stand alone).
SHORT = "min_stock > on_hand - reserved"

# The same statement as stockroom.ledger.shortfalls.REBUILD, for every brand.
BACKFILL = """
INSERT INTO site_shortfalls (brand_id, site_id, product_id, on_hand, reserved, min_stock)
SELECT p.brand_id, s.id, p.id, coalesce(l.on_hand, 0), coalesce(l.reserved, 0), p.min_stock
FROM products AS p
JOIN sites AS s ON s.brand_id = p.brand_id
LEFT JOIN (
    SELECT brand_id, site_id, product_id, sum(on_hand) AS on_hand, sum(reserved) AS reserved
    FROM stock_levels
    GROUP BY brand_id, site_id, product_id
) AS l ON l.brand_id = p.brand_id AND l.site_id = s.id AND l.product_id = p.id
WHERE p.min_stock > 0 OR l.product_id IS NOT NULL
"""


def upgrade() -> None:
    op.create_table(
        "site_shortfalls",
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("on_hand", sa.BigInteger(), nullable=False),
        sa.Column("reserved", sa.BigInteger(), nullable=False),
        sa.Column("min_stock", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_site_shortfalls_brand_id_brands")
        ),
        sa.ForeignKeyConstraint(
            ["brand_id", "product_id"],
            ["products.brand_id", "products.id"],
            name=op.f("fk_site_shortfalls_product_id_products"),
        ),
        sa.ForeignKeyConstraint(
            ["brand_id", "site_id"],
            ["sites.brand_id", "sites.id"],
            name=op.f("fk_site_shortfalls_site_id_sites"),
        ),
        sa.PrimaryKeyConstraint(
            "brand_id", "site_id", "product_id", name=op.f("pk_site_shortfalls")
        ),
    )
    op.execute(BACKFILL)
    op.create_index(
        "ix_site_shortfalls_brand_id_site_id_short",
        "site_shortfalls",
        ["brand_id", "site_id"],
        unique=False,
        postgresql_where=sa.text(SHORT),
        sqlite_where=sa.text(SHORT),
    )

    # 0012's low-stock indexes serve no query any more; the levels' one made every level
    # update write an index entry (it holds on_hand − reserved): without it, HOT updates.
    op.drop_index("ix_products_brand_id_min_stock", table_name="products")
    op.drop_index("ix_stock_levels_brand_id_site_id_available", table_name="stock_levels")


def downgrade() -> None:
    op.create_index(
        "ix_stock_levels_brand_id_site_id_available",
        "stock_levels",
        ["brand_id", "site_id", sa.text("(on_hand - reserved)")],
        unique=False,
        postgresql_where=sa.text("(on_hand - reserved) < 2147483647"),
        sqlite_where=sa.text("(on_hand - reserved) < 2147483647"),
    )
    op.create_index(
        "ix_products_brand_id_min_stock", "products", ["brand_id", "min_stock"], unique=False
    )
    op.drop_index("ix_site_shortfalls_brand_id_site_id_short", table_name="site_shortfalls")
    op.drop_table("site_shortfalls")
