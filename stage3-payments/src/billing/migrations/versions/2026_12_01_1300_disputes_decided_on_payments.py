"""A payment's dispute: open, won or lost, what a loss took back, and its acknowledgement.

Revision ID: 3b8f0d6c2a91
Revises: 7c2e91d4a6b3
Create Date: 2026-12-01 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3b8f0d6c2a91"
down_revision: str | None = "7c2e91d4a6b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "payments",
        sa.Column(
            "dispute_status",
            sa.Enum(
                "open",
                "won",
                "lost",
                name="dispute_status",
                native_enum=False,
                create_constraint=True,
                length=30,
            ),
            nullable=True,
        ),
    )
    op.add_column(
        "payments",
        sa.Column("amount_lost", sa.BigInteger(), server_default="0", nullable=False),
    )
    op.alter_column("payments", "amount_lost", server_default=None)
    op.add_column(
        "payments", sa.Column("loss_acknowledged_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("payments", "loss_acknowledged_at")
    op.drop_column("payments", "amount_lost")
    op.drop_column("payments", "dispute_status")
