"""outbox: the dead-letter status of the dispatcher (a row given up after its last attempt)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 23:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op


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


def downgrade() -> None:
    op.execute("UPDATE outbox SET status = 'failed' WHERE status = 'dead'")
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_outbox_status_valid'), type_='check')
        batch_op.create_check_constraint('status_valid', BEFORE)
