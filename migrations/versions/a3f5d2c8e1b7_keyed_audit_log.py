"""keyed audit log: sequence numbers, MACs under AUDIT_KEY, daily anchors

Existing events keep their hashes (fingerprints already printed on minutes and results stay
valid). The upgrade walks their plain chain in id order, numbers them 1, 2, 3, … and signs each
with the app's AUDIT_KEY (so run it with `flask db upgrade`, which loads the key). It signs only
the intact prefix: from the first event whose hash or link does not match, events stay without a
MAC, and `flask audit verify` keeps reporting them — the upgrade never vouches for tampering done
before it.

Revision ID: a3f5d2c8e1b7
Revises: a7c3d5e1f901
Create Date: 2026-11-30 00:20:00

"""
import hashlib
import hmac
import json

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a3f5d2c8e1b7'
down_revision = 'a7c3d5e1f901'
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64
# Frozen copies of core/audit.py's rules at this revision, so later code changes cannot alter the upgrade.
HASHED_COLUMNS = ("prev_hash", "created_at", "actor_id", "actor_label", "community_id", "action",
                  "object_type", "object_id", "summary")


def _event_hash(row) -> str:
    content = [getattr(row, column) for column in HASHED_COLUMNS]
    content[1] = content[1].isoformat(timespec="microseconds")
    payload = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _event_mac(key: str, seq: int, hash_: str) -> str:
    message = f"deliberation-audit:v1:{seq}:{hash_}".encode()
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def upgrade():
    op.create_table('audit_anchors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('mac', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_anchors')),
    sa.UniqueConstraint('day', name=op.f('uq_audit_anchors_day'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('mac', sa.String(length=64), nullable=True))

    _number_and_sign_existing_events()

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_events_seq'), ['seq'])


def _number_and_sign_existing_events():
    connection = op.get_bind()
    types = {"id": sa.Integer(), "seq": sa.Integer(), "created_at": sa.DateTime(), "actor_id": sa.Integer(),
             "community_id": sa.Integer()}
    events = sa.table('audit_events', *(sa.column(c, types.get(c, sa.String()))
                                        for c in ("id", "seq", "mac", "hash", *HASHED_COLUMNS)))
    rows = connection.execute(sa.select(events).order_by(events.c.id)).all()
    if not rows:
        return
    from flask import current_app

    key = current_app.config["AUDIT_KEY"]
    expected_prev, intact = GENESIS_HASH, True
    for seq, row in enumerate(rows, start=1):
        intact = intact and row.prev_hash == expected_prev and _event_hash(row) == row.hash
        connection.execute(events.update().where(events.c.id == row.id).values(
            seq=seq, mac=_event_mac(key, seq, row.hash) if intact else None))
        expected_prev = row.hash


def downgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_events_seq'), type_='unique')
        batch_op.drop_column('mac')
        batch_op.drop_column('seq')

    op.drop_table('audit_anchors')
