"""create users, trips and trip pings

The two partial unique indexes are the last word on assignment: one trip that is not over
per rider, one assigned trip that is not over per driver.

Revision ID: 49020719d477
Revises: 
Create Date: 2026-12-01 12:27:00.581449
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '49020719d477'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('users',
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('role', sa.Enum('rider', 'driver', name='user_role', native_enum=False, create_constraint=True, length=30), nullable=False),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('trips',
    sa.Column('rider_id', sa.BigInteger(), nullable=False),
    sa.Column('driver_id', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.Enum('requested', 'driver_assigned', 'arriving', 'in_progress', 'completed', 'cancelled', name='trip_status', native_enum=False, create_constraint=True, length=30), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('pickup_lat', sa.Double(), nullable=False),
    sa.Column('pickup_lng', sa.Double(), nullable=False),
    sa.Column('dropoff_lat', sa.Double(), nullable=False),
    sa.Column('dropoff_lng', sa.Double(), nullable=False),
    sa.Column('quoted_fare_cents', sa.Integer(), nullable=False),
    sa.Column('surge', sa.Double(), nullable=False),
    sa.Column('fare_cents', sa.Integer(), nullable=True),
    sa.Column('distance_km', sa.Double(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by', sa.Enum('rider', 'driver', 'dispatch', name='cancelled_by', native_enum=False, create_constraint=True, length=30), nullable=True),
    sa.Column('cancel_reason', sa.String(length=200), nullable=True),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(status = 'cancelled') = (cancelled_by IS NOT NULL)", name=op.f('ck_trips_cancelled_says_by_whom')),
    sa.CheckConstraint("(status = 'requested') = (driver_id IS NULL) OR status = 'cancelled'", name=op.f('ck_trips_driver_set_once_assigned')),
    sa.CheckConstraint('pickup_lat BETWEEN -90 AND 90 AND dropoff_lat BETWEEN -90 AND 90', name=op.f('ck_trips_latitudes')),
    sa.CheckConstraint('pickup_lng BETWEEN -180 AND 180 AND dropoff_lng BETWEEN -180 AND 180', name=op.f('ck_trips_longitudes')),
    sa.ForeignKeyConstraint(['driver_id'], ['users.id'], name=op.f('fk_trips_driver_id_users')),
    sa.ForeignKeyConstraint(['rider_id'], ['users.id'], name=op.f('fk_trips_rider_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trips'))
    )
    op.create_index('uq_trips_one_active_per_driver', 'trips', ['driver_id'], unique=True, postgresql_where=sa.text("status IN ('driver_assigned', 'arriving', 'in_progress')"))
    op.create_index('uq_trips_one_active_per_rider', 'trips', ['rider_id'], unique=True, postgresql_where=sa.text("status IN ('requested', 'driver_assigned', 'arriving', 'in_progress')"))
    op.create_table('trip_pings',
    sa.Column('trip_id', sa.BigInteger(), nullable=False),
    sa.Column('lat', sa.Double(), nullable=False),
    sa.Column('lng', sa.Double(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.ForeignKeyConstraint(['trip_id'], ['trips.id'], name=op.f('fk_trip_pings_trip_id_trips'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trip_pings'))
    )
    op.create_index(op.f('ix_trip_pings_trip_id'), 'trip_pings', ['trip_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_trip_pings_trip_id'), table_name='trip_pings')
    op.drop_table('trip_pings')
    op.drop_index('uq_trips_one_active_per_rider', table_name='trips', postgresql_where=sa.text("status IN ('requested', 'driver_assigned', 'arriving', 'in_progress')"))
    op.drop_index('uq_trips_one_active_per_driver', table_name='trips', postgresql_where=sa.text("status IN ('driver_assigned', 'arriving', 'in_progress')"))
    op.drop_table('trips')
    op.drop_table('users')
