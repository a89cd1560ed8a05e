"""webhooks: endpoints, deliveries, attempts (the events they deliver: 0008)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 16:14:33.865385
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import stockroom.db.models.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_attempts",
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("endpoint_id", sa.Uuid(), nullable=False),
        sa.Column(
            "attempted_at", stockroom.db.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_webhook_attempts_brand_id_brands")
        ),
        sa.PrimaryKeyConstraint("brand_id", "id", name=op.f("pk_webhook_attempts")),
    )
    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_attempts_delivery_id_attempted_at",
            ["delivery_id", "attempted_at"],
            unique=False,
        )

    op.create_table(
        "webhook_deliveries",
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("endpoint_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("event_position", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.Column(
            "next_attempt_at", stockroom.db.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "first_attempt_at", stockroom.db.models.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "last_attempt_at", stockroom.db.models.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "delivered_at", stockroom.db.models.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "created_at", stockroom.db.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_webhook_deliveries_brand_id_brands")
        ),
        sa.PrimaryKeyConstraint("brand_id", "id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "brand_id",
            "endpoint_id",
            "event_id",
            name=op.f("uq_webhook_deliveries_brand_id_endpoint_id_event_id"),
        ),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_deliveries_endpoint_id_created_at",
            ["endpoint_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_webhook_deliveries_endpoint_id_status_event_position",
            ["endpoint_id", "status", "event_position"],
            unique=False,
        )

    op.create_table(
        "webhook_endpoints",
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.String(length=255), nullable=True),
        sa.Column("secret_encrypted", sa.Text(), nullable=False),
        sa.Column("event_position", sa.BigInteger(), nullable=False),
        sa.Column(
            "failing_since", stockroom.db.models.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("lease_owner", sa.Uuid(), nullable=True),
        sa.Column(
            "lease_until", stockroom.db.models.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "created_at", stockroom.db.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", stockroom.db.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_webhook_endpoints_brand_id_brands")
        ),
        sa.PrimaryKeyConstraint("brand_id", "id", name=op.f("pk_webhook_endpoints")),
    )
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_endpoints_brand_id_created_at",
            ["brand_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_webhook_endpoints_enabled_lease_until", ["enabled", "lease_until"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_endpoints_enabled_lease_until")
        batch_op.drop_index("ix_webhook_endpoints_brand_id_created_at")

    op.drop_table("webhook_endpoints")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_endpoint_id_status_event_position")
        batch_op.drop_index("ix_webhook_deliveries_endpoint_id_created_at")

    op.drop_table("webhook_deliveries")
    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_attempts_delivery_id_attempted_at")

    op.drop_table("webhook_attempts")
