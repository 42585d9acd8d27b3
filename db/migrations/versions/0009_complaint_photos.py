"""complaint photos: the files a customer sent with a complaint in their own column (the staff console shows
them through the channel that holds them), no longer appended to the description as lines of URLs

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 04:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What the complaints flow appended to a description, one per line, before this revision: a Telegram file
# (`tg-file:<id>`) or a Twilio media URL.
_MEDIA_PREFIXES = ('tg-file:', 'https://api.twilio.com/')

complaints = sa.table('complaints', sa.column('id', sa.Integer()), sa.column('description', sa.Text()),
                      sa.column('photos', sa.JSON()))


def upgrade() -> None:
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('photos', sa.JSON(), nullable=True))
    bind = op.get_bind()
    moved = []
    for row_id, description in bind.execute(sa.select(complaints.c.id, complaints.c.description)):
        lines = description.split('\n')
        photos = [line for line in lines if line.startswith(_MEDIA_PREFIXES)]
        if photos:
            kept = '\n'.join(line for line in lines if not line.startswith(_MEDIA_PREFIXES))
            moved.append({'row_id': row_id, 'description': kept, 'photos': photos})
    if moved:
        bind.execute(complaints.update().where(complaints.c.id == sa.bindparam('row_id'))
                     .values(description=sa.bindparam('description'), photos=sa.bindparam('photos', type_=sa.JSON())), moved)
    bind.execute(complaints.update().where(complaints.c.photos.is_(None)).values(photos=sa.literal_column("'[]'")))
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.alter_column('photos', existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    bind = op.get_bind()
    rows = [{'row_id': row_id, 'description': '\n'.join([description, *photos])}
            for row_id, description, photos in bind.execute(
                sa.select(complaints.c.id, complaints.c.description, complaints.c.photos))
            if photos]
    if rows:
        bind.execute(complaints.update().where(complaints.c.id == sa.bindparam('row_id'))
                     .values(description=sa.bindparam('description')), rows)
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_column('photos')
