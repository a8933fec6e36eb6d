"""sessions: a live version, bumped by every change the room and the console show

Revision ID: b5c1e7d3f9a2
Revises: 62dc26a99b03
Create Date: 2026-11-30 02:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b5c1e7d3f9a2'
down_revision = '62dc26a99b03'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('consultation_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('live_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('consultation_sessions', schema=None) as batch_op:
        batch_op.drop_column('live_version')
