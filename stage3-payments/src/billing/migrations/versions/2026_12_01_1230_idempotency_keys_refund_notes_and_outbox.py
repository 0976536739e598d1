"""Payments keep the idempotency key of their Stripe call, refunds a note of our own, and
the emails to owners go through an outbox.

The outbox is not a tenant table: the worker reads every organisation's messages. The
tenant role may only add to it (and read back the id it was given), from the transaction
whose change the message announces.

Revision ID: b3d8f0a2c415
Revises: 7c2e91d4a6b3
Create Date: 2026-12-01 12:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "b3d8f0a2c415"
down_revision: str | None = "7c2e91d4a6b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_ROLE = "billing_tenant"


def upgrade() -> None:
    op.add_column(
        "payments", sa.Column("stripe_idempotency_key", sa.String(length=255), nullable=True)
    )
    # Rows made before: their key was always `payment-<id>` (or `...-checkout`).
    op.execute(
        "UPDATE payments SET stripe_idempotency_key = 'payment-' || id || "
        "CASE WHEN stripe_checkout_session_id IS NULL THEN '' ELSE '-checkout' END"
    )
    op.add_column("refunds", sa.Column("note", sa.String(length=500), nullable=True))
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("task", sa.String(length=100), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
    )
    op.create_index(
        "ix_outbox_messages_unpublished",
        "outbox_messages",
        ["id"],
        unique=False,
        postgresql_where="published_at IS NULL",
    )
    op.execute(f"GRANT SELECT (id), INSERT ON outbox_messages TO {TENANT_ROLE}")


def downgrade() -> None:
    op.execute(f"REVOKE ALL ON outbox_messages FROM {TENANT_ROLE}")
    op.drop_index(
        "ix_outbox_messages_unpublished",
        table_name="outbox_messages",
        postgresql_where="published_at IS NULL",
    )
    op.drop_table("outbox_messages")
    op.drop_column("refunds", "note")
    op.drop_column("payments", "stripe_idempotency_key")
