"""proactive messages: the scheduler's job store (APScheduler's table), the dead-letter status of the outbox (a row given up after its last attempt), and
an escalation level on warranty claims (raised at each deadline missed, as on complaints)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 23:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = "status IN ('pending', 'sending', 'sent', 'failed', 'cancelled', 'skipped')"
AFTER = "status IN ('pending', 'sending', 'sent', 'failed', 'cancelled', 'skipped', 'dead')"


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_outbox_status_valid'), type_='check')
        batch_op.create_check_constraint('status_valid', AFTER)
    op.create_table('scheduler_jobs',
    sa.Column('id', sa.Unicode(length=191), nullable=False),
    sa.Column('next_run_time', sa.Float(precision=25), nullable=True),
    sa.Column('job_state', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduler_jobs'))
    )
    with op.batch_alter_table('scheduler_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scheduler_jobs_next_run_time'), ['next_run_time'], unique=False)
    with op.batch_alter_table('warranty_claims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('escalation_level', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('escalated_at', db.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_table('scheduler_jobs')
    with op.batch_alter_table('warranty_claims', schema=None) as batch_op:
        batch_op.drop_column('escalated_at')
        batch_op.drop_column('escalation_level')
    op.execute("UPDATE outbox SET status = 'failed' WHERE status = 'dead'")
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_outbox_status_valid'), type_='check')
        batch_op.create_check_constraint('status_valid', BEFORE)
