"""sessions: a live version, bumped by every change the room and the console show

Revision ID: d4e8b1c7a9f2
Revises: a7c3e9f1b2d4
Create Date: 2026-11-30 02:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4e8b1c7a9f2'
down_revision = 'a7c3e9f1b2d4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('consultation_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('live_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('consultation_sessions', schema=None) as batch_op:
        batch_op.drop_column('live_version')
