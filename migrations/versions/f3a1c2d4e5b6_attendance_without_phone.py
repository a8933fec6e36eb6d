"""attendance without a phone: the secretary may enter the votes of a member ticked present without one

Revision ID: f3a1c2d4e5b6
Revises: 5ec7e7c1a2b3
Create Date: 2026-11-29 23:55:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3a1c2d4e5b6'
down_revision = '5ec7e7c1a2b3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attendances', schema=None) as batch_op:
        batch_op.add_column(sa.Column('without_phone', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('attendances', schema=None) as batch_op:
        batch_op.drop_column('without_phone')
