"""index the requested trips

The sweeper reads the trips still requested after a while, every few seconds: a partial
index holds only those, so the query stays small as the table grows.

Revision ID: 7c1d2e3f4a5b
Revises: 49020719d477
Create Date: 2026-12-01 16:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c1d2e3f4a5b"
down_revision: str | None = "49020719d477"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_trips_requested_created_at",
        "trips",
        ["created_at"],
        unique=False,
        postgresql_where=sa.text("status = 'requested'"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_trips_requested_created_at",
        table_name="trips",
        postgresql_where=sa.text("status = 'requested'"),
    )
