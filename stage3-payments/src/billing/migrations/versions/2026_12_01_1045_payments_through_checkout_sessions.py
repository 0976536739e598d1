"""Payments made on Stripe's hosted Checkout page keep their Checkout Session's id.

Revision ID: 7c2e91d4a6b3
Revises: 4fd9c985b4fa
Create Date: 2026-12-01 10:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c2e91d4a6b3"
down_revision: str | None = "4fd9c985b4fa"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "payments", sa.Column("stripe_checkout_session_id", sa.String(length=255), nullable=True)
    )
    op.create_unique_constraint(
        op.f("uq_payments_stripe_checkout_session_id"), "payments", ["stripe_checkout_session_id"]
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("uq_payments_stripe_checkout_session_id"), "payments", type_="unique"
    )
    op.drop_column("payments", "stripe_checkout_session_id")
