"""drop ballot_participations' index on round_id: both unique keys begin with round_id

Revision ID: a7d3e9c1f5b2
Revises: c8e2a4f6b9d1
Create Date: 2026-11-30 09:20:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a7d3e9c1f5b2'
down_revision = 'c8e2a4f6b9d1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ballot_participations', schema=None) as batch_op:
        batch_op.drop_index('ix_ballot_participations_round_id')


def downgrade():
    with op.batch_alter_table('ballot_participations', schema=None) as batch_op:
        batch_op.create_index('ix_ballot_participations_round_id', ['round_id'], unique=False)
