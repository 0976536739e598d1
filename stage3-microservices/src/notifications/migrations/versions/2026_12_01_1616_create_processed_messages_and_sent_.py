"""create processed messages and sent emails

The notifications service's schema: the messages its consumer has handled, and the
emails it has sent.

Revision ID: 84832cc1ea43
Revises: 
Create Date: 2026-12-01 16:16:14.469879
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '84832cc1ea43'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('processed_messages',
    sa.Column('consumer', sa.String(length=100), nullable=False),
    sa.Column('message_id', sa.Uuid(), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('consumer', 'message_id', name=op.f('pk_processed_messages'))
    )
    op.create_table('sent_emails',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=50), nullable=False),
    sa.Column('recipients', sa.String(length=1000), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('email_message_id', sa.String(length=300), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sent_emails')),
    sa.UniqueConstraint('event_id', name=op.f('uq_sent_emails_event_id'))
    )


def downgrade() -> None:
    op.drop_table('sent_emails')
    op.drop_table('processed_messages')
