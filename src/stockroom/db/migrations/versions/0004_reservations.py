"""reservations: reserved units on levels, reservations and their lines, invoice link

Revision ID: 0004
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import stockroom.db.models.base

revision: str = "0004"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Stamp = stockroom.db.models.base.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("stock_levels", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reserved", sa.BigInteger(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reservation_id", sa.Uuid(), nullable=True))
    op.create_table(
        "reservations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("expires_at", Stamp(timezone=True), nullable=False),
        sa.Column("created_at", Stamp(timezone=True), nullable=False),
        sa.Column("updated_at", Stamp(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_reservations_brand_id_brands")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_reservations_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservations")),
    )
    op.create_index(
        "ix_reservations_brand_id_created_at", "reservations", ["brand_id", "created_at", "id"]
    )
    op.create_index("ix_reservations_brand_id_reference", "reservations", ["brand_id", "reference"])
    op.create_index("ix_reservations_status_expires_at", "reservations", ["status", "expires_at"])
    op.create_table(
        "reservation_lines",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("reservation_id", sa.Uuid(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("remaining", sa.BigInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("expires_at", Stamp(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_reservation_lines_brand_id_brands")
        ),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservations.id"],
            name=op.f("fk_reservation_lines_reservation_id_reservations"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_reservation_lines_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_reservation_lines_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservation_lines")),
    )
    op.create_index(
        "ix_reservation_lines_reservation_id", "reservation_lines", ["reservation_id", "line_no"]
    )
    op.create_index(
        "ix_reservation_lines_brand_id_product_id_site_id_location_id",
        "reservation_lines",
        ["brand_id", "product_id", "site_id", "location_id"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_reservation_lines_brand_id_product_id_site_id_location_id",
        table_name="reservation_lines",
    )
    op.drop_index("ix_reservation_lines_reservation_id", table_name="reservation_lines")
    op.drop_table("reservation_lines")
    op.drop_index("ix_reservations_status_expires_at", table_name="reservations")
    op.drop_index("ix_reservations_brand_id_reference", table_name="reservations")
    op.drop_index("ix_reservations_brand_id_created_at", table_name="reservations")
    op.drop_table("reservations")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_column("reservation_id")
    with op.batch_alter_table("stock_levels", schema=None) as batch_op:
        batch_op.drop_column("reserved")
