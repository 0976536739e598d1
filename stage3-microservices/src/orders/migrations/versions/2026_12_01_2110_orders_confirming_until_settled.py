"""orders confirming until settled

A checkout whose confirmation got no answer is neither placed nor failed: it stays
`confirming` until the settler learns from the catalog what became of its reservation.
The status is a VARCHAR with a CHECK constraint, so the new value is a constraint change
(Alembic's autogenerate does not see CHECK constraints: written by hand). The partial
index serves the settler's search for checkouts left unsettled.

Revision ID: 3b1f0c7d9e42
Revises: 6922a6abab45
Create Date: 2026-12-01 21:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "3b1f0c7d9e42"
down_revision: str | None = "6922a6abab45"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint(op.f("ck_orders_order_status"), "orders", type_="check")
    op.create_check_constraint(
        op.f("ck_orders_order_status"),
        "orders",
        "status IN ('pending', 'confirming', 'placed', 'failed')",
    )
    op.create_index(
        "ix_orders_unsettled",
        "orders",
        ["updated_at"],
        unique=False,
        postgresql_where="status IN ('pending', 'confirming')",
    )


def downgrade() -> None:
    op.drop_index("ix_orders_unsettled", table_name="orders", postgresql_where="status IN ('pending', 'confirming')")
    # The old statuses have no word for "confirming": such an order goes back to pending,
    # and the old code resumes it from the reservation (idempotent) if retried.
    op.execute("UPDATE orders SET status = 'pending' WHERE status = 'confirming'")
    op.drop_constraint(op.f("ck_orders_order_status"), "orders", type_="check")
    op.create_check_constraint(
        op.f("ck_orders_order_status"), "orders", "status IN ('pending', 'placed', 'failed')"
    )
