"""sealed secrets: ballots and survey answers stay sealed until closing (core/secrecy.py)

Revision ID: 5ec7e7c1a2b3
Revises: a3f5d2c8e1b7
Create Date: 2026-11-29 23:55:00.000000

Rows already stored in plain (ballots of a round in voting, answers of an open survey) stay as they
are and are counted with the opened ones at closing.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5ec7e7c1a2b3'
down_revision = 'a3f5d2c8e1b7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('seal_keys',
    sa.Column('scope', sa.String(length=40), nullable=False),
    sa.Column('salt', sa.LargeBinary(length=32), nullable=False),
    sa.PrimaryKeyConstraint('scope', name=op.f('pk_seal_keys'))
    )
    op.create_table('sealed_rows',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('scope', sa.String(length=40), nullable=False),
    sa.Column('tag', sa.String(length=64), nullable=True),
    sa.Column('box', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sealed_rows')),
    sa.UniqueConstraint('scope', 'tag', name=op.f('uq_sealed_rows_scope_tag')),
    sqlite_with_rowid=False
    )


def downgrade():
    op.drop_table('sealed_rows')
    op.drop_table('seal_keys')
