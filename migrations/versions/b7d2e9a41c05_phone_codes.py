"""phones proven by one-time SMS codes: phone_challenges, users.phone_verified_at

Revision ID: b7d2e9a41c05
Revises: f3a1c2d4e5b6
Create Date: 2026-11-30 01:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d2e9a41c05'
down_revision = 'f3a1c2d4e5b6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('phone_challenges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.Enum('register', 'change_phone', name='phonepurpose', native_enum=False, length=30),
              nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('holder_id', sa.Integer(), nullable=True),
    sa.Column('code_hash', sa.String(length=80), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('resend_at', sa.DateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('sends', sa.Integer(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('registration', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['holder_id'], ['users.id'], name=op.f('fk_phone_challenges_holder_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_phone_challenges_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_phone_challenges')),
    sa.UniqueConstraint('token', name=op.f('uq_phone_challenges_token'))
    )
    with op.batch_alter_table('phone_challenges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_phone_challenges_phone'), ['phone'], unique=False)
        batch_op.create_index(batch_op.f('ix_phone_challenges_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone_verified_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('phone_verified_at')

    with op.batch_alter_table('phone_challenges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_phone_challenges_user_id'))
        batch_op.drop_index(batch_op.f('ix_phone_challenges_phone'))

    op.drop_table('phone_challenges')
