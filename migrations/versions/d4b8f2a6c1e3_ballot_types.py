"""ballot types: a round's ballot is approval, k-approval, cumulative points or ranked top-k

Rounds that limited the approvals per ballot become k-approval rounds with the same k.

Revision ID: d4b8f2a6c1e3
Revises: a7c3e9f1b2d4
Create Date: 2026-11-30 02:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4b8f2a6c1e3'
down_revision = 'd4e8f2a6b1c3'
branch_labels = None
depends_on = None

BALLOT_TYPES = ('approval', 'k_approval', 'cumulative', 'ranked')


def upgrade():
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ballot_type', sa.Enum(*BALLOT_TYPES, name='ballottype', native_enum=False,
                                                             length=30),
                                      nullable=False, server_default='approval'))
        batch_op.add_column(sa.Column('points_total', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('points_per_project', sa.Integer(), nullable=True))
    op.execute("UPDATE rounds SET ballot_type = 'k_approval' WHERE max_approvals IS NOT NULL")


def downgrade():
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.drop_column('points_per_project')
        batch_op.drop_column('points_total')
        batch_op.drop_column('ballot_type')
