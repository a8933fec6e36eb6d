"""session tokens and phone claims

Every user gets a random session token (part of every session and remember-me cookie, replaced on
logout, password change and role revocation) instead of the counted auth version, and a record of
registrations refused because they gave the user's phone number.

Revision ID: a7d3c51e2b90
Revises: e9fc9741c458
Create Date: 2026-11-30 00:20:00

"""
import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a7d3c51e2b90'
down_revision = 'e9fc9741c458'
branch_labels = None
depends_on = None

users = sa.table('users', sa.column('id', sa.Integer), sa.column('session_token', sa.String))


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('phone_claims', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('phone_claimed_at', sa.DateTime(), nullable=True))
    connection = op.get_bind()
    # Every existing session ends once: the old cookies carry the auth version, not a token.
    for (user_id,) in connection.execute(sa.select(users.c.id)).all():
        connection.execute(users.update().where(users.c.id == user_id)
                           .values(session_token=secrets.token_urlsafe(32)))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('session_token', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('phone_claims', existing_type=sa.Integer(), server_default=None)
        batch_op.drop_column('auth_version')


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('auth_version', sa.Integer(), nullable=False, server_default='1'))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('auth_version', existing_type=sa.Integer(), server_default=None)
        batch_op.drop_column('phone_claimed_at')
        batch_op.drop_column('phone_claims')
        batch_op.drop_column('session_token')
