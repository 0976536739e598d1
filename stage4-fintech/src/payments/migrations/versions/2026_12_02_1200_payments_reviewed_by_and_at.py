"""payments reviewed by and at

A reviewer's decision records who took it (a staff member, a customers row) and when:
both set together, or neither (the fraud check and the reconciler decide the rest).
Existing rows decided by a reviewer before this revision keep neither: who decided them
was never recorded.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("payments", sa.Column("reviewed_by", sa.Uuid(), nullable=True))
    op.add_column("payments", sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_foreign_key(
        op.f("fk_payments_reviewed_by_customers"), "payments", "customers", ["reviewed_by"], ["id"]
    )
    op.create_check_constraint(
        op.f("ck_payments_reviewed_by_and_at_together"),
        "payments",
        "(reviewed_by IS NULL) = (reviewed_at IS NULL)",
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("ck_payments_reviewed_by_and_at_together"), "payments", type_="check"
    )
    op.drop_constraint(op.f("fk_payments_reviewed_by_customers"), "payments", type_="foreignkey")
    op.drop_column("payments", "reviewed_at")
    op.drop_column("payments", "reviewed_by")
