"""transfers: transfers in transit, their lines; one completed row per existing transfer

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-29 16:30:00

Every transfer written before this revision was one-step (both halves at once): it gets a
`completed` row whose one line shipped and received its quantity, copied from its two
movements, so every `transfer_id` of the ledger has its row (`stockroom verify` checks it).
The line's id is the `transfer_out` movement's id (unique, and no UUID function is needed
on SQLite).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import stockroom.db.models.base

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = stockroom.db.models.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "transfers",
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("source_site_id", sa.Uuid(), nullable=False),
        sa.Column("destination_site_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("close_reason", sa.String(length=16), nullable=True),
        sa.Column("close_notes", sa.Text(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.Column("closed_at", UTC(), nullable=True),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_transfers_brand_id_brands")
        ),
        sa.ForeignKeyConstraint(
            ["source_site_id"], ["sites.id"], name=op.f("fk_transfers_source_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["destination_site_id"],
            ["sites.id"],
            name=op.f("fk_transfers_destination_site_id_sites"),
        ),
        sa.PrimaryKeyConstraint("brand_id", "id", name=op.f("pk_transfers")),
    )
    op.create_index("ix_transfers_brand_id_status", "transfers", ["brand_id", "status"])
    op.create_table(
        "transfer_lines",
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("transfer_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("destination_site_id", sa.Uuid(), nullable=False),
        sa.Column("source_location_id", sa.Integer(), nullable=True),
        sa.Column("destination_location_id", sa.Integer(), nullable=True),
        sa.Column("shipped", sa.BigInteger(), nullable=False),
        sa.Column("received", sa.BigInteger(), nullable=False),
        sa.Column("outstanding", sa.BigInteger(), nullable=False),
        sa.Column("written_off", sa.BigInteger(), nullable=False),
        sa.Column("returned", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_transfer_lines_brand_id_brands")
        ),
        sa.ForeignKeyConstraint(
            ["brand_id", "transfer_id"],
            ["transfers.brand_id", "transfers.id"],
            name="fk_transfer_lines_brand_id_transfer_id_transfers",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_transfer_lines_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["destination_site_id"],
            ["sites.id"],
            name=op.f("fk_transfer_lines_destination_site_id_sites"),
        ),
        sa.PrimaryKeyConstraint("brand_id", "id", name=op.f("pk_transfer_lines")),
        sa.UniqueConstraint(
            "brand_id",
            "transfer_id",
            "product_id",
            name=op.f("uq_transfer_lines_brand_id_transfer_id_product_id"),
        ),
    )
    op.create_index(
        "ix_transfer_lines_brand_id_product_id_destination_site_id",
        "transfer_lines",
        ["brand_id", "product_id", "destination_site_id"],
    )
    # The transfers written so far: one-step, completed (see the module's docstring).
    op.execute(
        """
        INSERT INTO transfers (brand_id, id, source_site_id, destination_site_id, status,
                               reference, notes, user_id, created_at, updated_at)
        SELECT o.brand_id, o.transfer_id, o.site_id, i.site_id, 'completed',
               o.reference, o.notes, o.user_id, o.created_at, o.created_at
        FROM stock_movements o
        JOIN stock_movements i
          ON i.brand_id = o.brand_id AND i.transfer_id = o.transfer_id
         AND i.type = 'transfer_in'
        WHERE o.type = 'transfer_out' AND o.transfer_id IS NOT NULL
        """
    )
    op.execute(
        """
        INSERT INTO transfer_lines (brand_id, id, transfer_id, product_id, destination_site_id,
                                    source_location_id, destination_location_id, shipped,
                                    received, outstanding, written_off, returned)
        SELECT o.brand_id, o.id, o.transfer_id, o.product_id, i.site_id,
               o.location_id, i.location_id, -o.quantity, i.quantity, 0, 0, 0
        FROM stock_movements o
        JOIN stock_movements i
          ON i.brand_id = o.brand_id AND i.transfer_id = o.transfer_id
         AND i.type = 'transfer_in'
        WHERE o.type = 'transfer_out' AND o.transfer_id IS NOT NULL
        """
    )


def downgrade() -> None:
    op.drop_index(
        "ix_transfer_lines_brand_id_product_id_destination_site_id", table_name="transfer_lines"
    )
    op.drop_table("transfer_lines")
    op.drop_index("ix_transfers_brand_id_status", table_name="transfers")
    op.drop_table("transfers")
