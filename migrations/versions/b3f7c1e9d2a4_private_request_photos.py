"""requests' photos move from the public area to their own, served only to the request's handlers

Revision ID: b3f7c1e9d2a4
Revises: a7d3e9c1f5b2
Create Date: 2026-11-30 09:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b3f7c1e9d2a4'
down_revision = 'a7d3e9c1f5b2'
branch_labels = None
depends_on = None


def _move(source: str, target: str) -> None:
    op.get_bind().execute(sa.text(
        "UPDATE stored_files SET area = :target "
        "WHERE area = :source AND name IN (SELECT filename FROM request_photos)"),
        {"source": source, "target": target})


def upgrade():
    _move('public', 'requests')


def downgrade():
    _move('requests', 'public')
