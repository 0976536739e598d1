"""cancelled reservations

A confirmed reservation whose order is cancelled gives its stock back and becomes
`cancelled`. The status is a VARCHAR with a CHECK constraint (not a PostgreSQL ENUM), so
a new status is a new constraint; Alembic's autogenerate does not compare CHECK
constraints, so this one is written by hand.

Revision ID: 0002
Revises: 127e6c6586a5
Create Date: 2026-12-01 18:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "127e6c6586a5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSTRAINT = "ck_reservations_reservation_status"
BEFORE = ("held", "confirmed", "released", "expired")
AFTER = (*BEFORE, "cancelled")


def _statuses(statuses: tuple[str, ...]) -> str:
    return "status IN ({})".format(", ".join(f"'{status}'" for status in statuses))


def upgrade() -> None:
    op.drop_constraint(op.f(CONSTRAINT), "reservations", type_="check")
    op.create_check_constraint(op.f(CONSTRAINT), "reservations", _statuses(AFTER))


def downgrade() -> None:
    # Cancelled reservations gave their stock back, as released ones did: the nearest
    # status the older schema knows.
    op.execute("UPDATE reservations SET status = 'released' WHERE status = 'cancelled'")
    op.drop_constraint(op.f(CONSTRAINT), "reservations", type_="check")
    op.create_check_constraint(op.f(CONSTRAINT), "reservations", _statuses(BEFORE))
