"""orders cancelled by customers

A placed (or confirming) order can be cancelled: `cancelling` while the catalog is asked
to give its stock back, `cancelled` once it has. Both are new values of the status's
CHECK constraint (written by hand: autogenerate does not see CHECK constraints), and the
settler, which finishes cancellations whose catalog call failed, now looks for
`cancelling` orders through the partial index as well.

Revision ID: 7c4e2a9f1b30
Revises: 3b1f0c7d9e42
Create Date: 2026-12-02 01:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "7c4e2a9f1b30"
down_revision: str | None = "3b1f0c7d9e42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSTRAINT = "ck_orders_order_status"
BEFORE = ("pending", "confirming", "placed", "failed")
AFTER = (*BEFORE, "cancelling", "cancelled")
UNSETTLED_BEFORE = "status IN ('pending', 'confirming')"
UNSETTLED_AFTER = "status IN ('pending', 'confirming', 'cancelling')"


def _statuses(statuses: tuple[str, ...]) -> str:
    return "status IN ({})".format(", ".join(f"'{status}'" for status in statuses))


def _unsettled_index(where: str) -> None:
    op.drop_index("ix_orders_unsettled", table_name="orders")
    op.create_index(
        "ix_orders_unsettled", "orders", ["updated_at"], unique=False, postgresql_where=where
    )


def upgrade() -> None:
    op.drop_constraint(op.f(CONSTRAINT), "orders", type_="check")
    op.create_check_constraint(op.f(CONSTRAINT), "orders", _statuses(AFTER))
    _unsettled_index(UNSETTLED_AFTER)


def downgrade() -> None:
    # The older schema has no word for a cancelled order. A cancelled one gave its stock
    # back, as a failed one did. A cancelling one goes back to placed, though the catalog
    # may have cancelled its reservation already: let the settler finish the
    # cancellations (no order left cancelling) before downgrading.
    op.execute(
        "UPDATE orders SET status = 'failed', failure_reason = 'cancelled' "
        "WHERE status = 'cancelled'"
    )
    op.execute("UPDATE orders SET status = 'placed' WHERE status = 'cancelling'")
    op.drop_constraint(op.f(CONSTRAINT), "orders", type_="check")
    op.create_check_constraint(op.f(CONSTRAINT), "orders", _statuses(BEFORE))
    _unsettled_index(UNSETTLED_BEFORE)
