"""the three rates' monthly roll-up, and an index for the requests not yet answered

Revision ID: c8e2a4f6b9d1
Revises: b5c1e7d3f9a2
Create Date: 2026-11-30 03:15:00

"""
from collections import defaultdict
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c8e2a4f6b9d1'
down_revision = 'b5c1e7d3f9a2'
branch_labels = None
depends_on = None

BEIJING = timedelta(hours=8)


def _fill():
    """Count the existing requests into the roll-up, as `grids/rollup.py` does (months: Asia/Shanghai)."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT community_id, grid_id, handling_unit_id, answered_at, due_at, closed_at, resolved, satisfaction "
        "FROM resident_requests WHERE answered_at IS NOT NULL"))
    totals = defaultdict(lambda: [0] * 5)

    def month(moment):
        if isinstance(moment, str):  # SQLite without type information
            from datetime import datetime
            moment = datetime.fromisoformat(moment)
        return (moment + BEIJING).strftime("%Y-%m")

    for community, grid, unit, answered, due, closed, resolved, satisfaction in rows:
        parts = [(month(due), (1, int(answered <= due), 0, 0, 0))]
        if closed is not None:
            parts.append((month(closed), (0, 0, 1, int(bool(resolved)), int((satisfaction or 0) >= 4))))
        for kind, subject in [("grid", grid)] + ([("unit", unit)] if unit is not None else []):
            for m, counts in parts:
                total = totals[(community, kind, subject, m)]
                for i, n in enumerate(counts):
                    total[i] += n
    if totals:
        table = sa.table('request_rate_months', sa.column('community_id'), sa.column('unit_id'),
                         sa.column('grid_id'), sa.column('month'), sa.column('due'), sa.column('in_time'),
                         sa.column('closed'), sa.column('resolved'), sa.column('satisfied'))
        op.bulk_insert(table, [
            {"community_id": community, "unit_id": subject if kind == "unit" else None,
             "grid_id": subject if kind == "grid" else None, "month": m, "due": c[0], "in_time": c[1],
             "closed": c[2], "resolved": c[3], "satisfied": c[4]}
            for (community, kind, subject, m), c in sorted(totals.items(), key=lambda item: str(item[0]))])


def upgrade():
    op.create_table('request_rate_months',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('due', sa.Integer(), nullable=False),
    sa.Column('in_time', sa.Integer(), nullable=False),
    sa.Column('closed', sa.Integer(), nullable=False),
    sa.Column('resolved', sa.Integer(), nullable=False),
    sa.Column('satisfied', sa.Integer(), nullable=False),
    sa.CheckConstraint('(unit_id IS NULL) <> (grid_id IS NULL)', name=op.f('ck_request_rate_months_unit_or_grid')),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_request_rate_months_community_id_communities')),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_request_rate_months_grid_id_grids')),
    sa.ForeignKeyConstraint(['unit_id'], ['handling_units.id'], name=op.f('fk_request_rate_months_unit_id_handling_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_request_rate_months')),
    sa.UniqueConstraint('grid_id', 'month', name=op.f('uq_request_rate_months_grid_id_month')),
    sa.UniqueConstraint('unit_id', 'month', name=op.f('uq_request_rate_months_unit_id_month'))
    )
    with op.batch_alter_table('request_rate_months', schema=None) as batch_op:
        batch_op.create_index('ix_request_rate_months_community_month', ['community_id', 'month'], unique=False)
    with op.batch_alter_table('resident_requests', schema=None) as batch_op:
        batch_op.create_index('ix_resident_requests_unanswered_due', ['community_id', 'answered_at', 'due_at'],
                              unique=False)
    _fill()


def downgrade():
    with op.batch_alter_table('resident_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_resident_requests_unanswered_due')
    with op.batch_alter_table('request_rate_months', schema=None) as batch_op:
        batch_op.drop_index('ix_request_rate_months_community_month')
    op.drop_table('request_rate_months')
