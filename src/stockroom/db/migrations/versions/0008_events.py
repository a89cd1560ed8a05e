"""events: the outbox the feed and webhooks read

Revision ID: 0008
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import stockroom.db.models.base

revision: str = "0008"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Stamp = stockroom.db.models.base.UTCDateTime


def upgrade() -> None:
    # PostgreSQL numbers events after commit (a relay), so it needs the insertion order from
    # an identity; SQLite numbers them as they are written and stores that number here.
    postgres = op.get_bind().dialect.name == "postgresql"
    seq = (
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False)
        if postgres
        else sa.Column("seq", sa.BigInteger(), nullable=False)
    )
    op.create_table(
        "events",
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=True),
        seq,
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", Stamp(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_events_brand_id_brands")
        ),
        sa.PrimaryKeyConstraint("brand_id", "id", name=op.f("pk_events")),
        sa.UniqueConstraint("brand_id", "position", name=op.f("uq_events_brand_id_position")),
    )
    op.create_index(
        "ix_events_brand_id_seq_unnumbered",
        "events",
        ["brand_id", "seq"],
        postgresql_where=sa.text("position IS NULL"),
        sqlite_where=sa.text("position IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_events_brand_id_seq_unnumbered", table_name="events")
    op.drop_table("events")
