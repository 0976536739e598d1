"""stock low events

The catalog announces events too: its outbox (`outbox_events`), a flag per variant so
that `stock.low` is announced once per fall to the threshold, and the product's name on
each reservation line, for orders to put in `order.placed`. The names of lines reserved
before this migration are filled in from the current catalogue.

Revision ID: 127e6c6586a5
Revises: 0001
Create Date: 2026-12-01 16:55:46.729963
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '127e6c6586a5'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('outbox_events',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('message_id', sa.Uuid(), nullable=False),
    sa.Column('event_type', sa.String(length=100), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('traceparent', sa.String(length=55), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_events')),
    sa.UniqueConstraint('message_id', name=op.f('uq_outbox_events_message_id'))
    )
    op.create_index('ix_outbox_events_unpublished', 'outbox_events', ['id'], unique=False, postgresql_where='published_at IS NULL')
    op.add_column('reservation_lines', sa.Column('product_name', sa.String(length=200), nullable=True))
    op.execute(
        "UPDATE reservation_lines AS l SET product_name = p.name || ' (' || v.name || ')' "
        "FROM variants AS v JOIN products AS p ON p.id = v.product_id WHERE v.id = l.variant_id"
    )
    op.alter_column('reservation_lines', 'product_name', nullable=False)
    op.add_column('variants', sa.Column('low_stock_alerted', sa.Boolean(), server_default=sa.text('false'), nullable=False))


def downgrade() -> None:
    op.drop_column('variants', 'low_stock_alerted')
    op.drop_column('reservation_lines', 'product_name')
    op.drop_index('ix_outbox_events_unpublished', table_name='outbox_events', postgresql_where='published_at IS NULL')
    op.drop_table('outbox_events')
