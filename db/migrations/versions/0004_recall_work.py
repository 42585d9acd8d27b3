"""recall work: each recall's repair time and whether it needs a lift; service types a customer books
directly (the recall jobs are booked only from a recall)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 05:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('recalls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('repair_minutes', sa.Integer(), server_default='120', nullable=False))
        batch_op.add_column(sa.Column('repair_needs_lift', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_check_constraint(op.f('ck_recalls_repair_minutes_valid'), 'repair_minutes BETWEEN 5 AND 1440')
    with op.batch_alter_table('service_types', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bookable', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('service_types', schema=None) as batch_op:
        batch_op.drop_column('bookable')
    with op.batch_alter_table('recalls', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_recalls_repair_minutes_valid'), type_='check')
        batch_op.drop_column('repair_needs_lift')
        batch_op.drop_column('repair_minutes')
