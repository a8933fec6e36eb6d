"""sessions can be cancelled (when, why); rounds have a planned voting close and its reminder's time;
e-mail addresses for notifications are proven by a link (when)

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
        batch_op.add_column(sa.Column('cancelled_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('cancel_reason', sa.Text(), nullable=True))
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('voting_closes_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('closing_reminder_sent_at', sa.DateTime(), nullable=True))
    # Addresses saved before are not proven: nothing is e-mailed to them until their owner confirms.
    with op.batch_alter_table('notification_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_confirmed_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('notification_settings', schema=None) as batch_op:
        batch_op.drop_column('email_confirmed_at')
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.drop_column('closing_reminder_sent_at')
        batch_op.drop_column('voting_closes_at')
    with op.batch_alter_table('consultation_sessions', schema=None) as batch_op:
        batch_op.drop_column('cancel_reason')
        batch_op.drop_column('cancelled_at')
