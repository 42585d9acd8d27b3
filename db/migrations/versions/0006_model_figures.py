"""model figures: the workshop's tyre pressures, oil and fuel grade per model and years, which car-care
answers quote (and nothing else)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 10:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('model_figures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('make', sa.String(length=40), nullable=False),
    sa.Column('model', sa.String(length=60), nullable=False),
    sa.Column('year_from', sa.Integer(), nullable=False),
    sa.Column('year_to', sa.Integer(), nullable=False),
    sa.Column('tyre_front_psi', sa.Integer(), nullable=True),
    sa.Column('tyre_rear_psi', sa.Integer(), nullable=True),
    sa.Column('oil_grade', sa.String(length=20), nullable=True),
    sa.Column('oil_capacity_l', sa.Numeric(precision=4, scale=1), nullable=True),
    sa.Column('fuel_ron', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('updated_on', sa.Date(), nullable=False),
    sa.CheckConstraint('year_to >= year_from', name=op.f('ck_model_figures_years_ordered')),
    sa.CheckConstraint('tyre_front_psi BETWEEN 15 AND 90 AND tyre_rear_psi BETWEEN 15 AND 90',
                       name=op.f('ck_model_figures_psi_valid')),
    sa.CheckConstraint('oil_capacity_l > 0 AND oil_capacity_l < 30', name=op.f('ck_model_figures_oil_capacity_valid')),
    sa.CheckConstraint('fuel_ron IN (91, 95, 98)', name=op.f('ck_model_figures_fuel_ron_valid')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_model_figures')),
    sa.UniqueConstraint('make', 'model', 'year_from', name=op.f('uq_model_figures_make_model_year_from'))
    )


def downgrade() -> None:
    op.drop_table('model_figures')
