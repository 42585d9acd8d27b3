"""channels: inbound receipts (one answer per platform message), delivery status, unreachable identities

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 00:25:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('inbound_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('message_id', sa.String(length=64), nullable=False),
    sa.Column('received_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_receipts')),
    sa.UniqueConstraint('channel', 'message_id', name=op.f('uq_inbound_receipts_channel_message_id'))
    )
    with op.batch_alter_table('inbound_receipts', schema=None) as batch_op:
        batch_op.create_index('ix_inbound_receipts_received', ['received_at'], unique=False)

    with op.batch_alter_table('channel_identities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unreachable_since', db.types.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivery_status', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('delivery_error_code', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('delivery_updated_at', db.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_provider_message_id'), ['provider_message_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_provider_message_id'))
        batch_op.drop_column('delivery_updated_at')
        batch_op.drop_column('delivery_error_code')
        batch_op.drop_column('delivery_status')

    with op.batch_alter_table('channel_identities', schema=None) as batch_op:
        batch_op.drop_column('unreachable_since')

    with op.batch_alter_table('inbound_receipts', schema=None) as batch_op:
        batch_op.drop_index('ix_inbound_receipts_received')

    op.drop_table('inbound_receipts')
