"""proposals accepted below the co-signature threshold keep the public reason

Revision ID: a7c3d5e1f901
Revises: a7d3c51e2b90
Create Date: 2026-11-29 23:59:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c3d5e1f901'
down_revision = 'a7d3c51e2b90'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('threshold_reason', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_column('threshold_reason')
