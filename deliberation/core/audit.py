"""Append-only, hash-chained audit log of every state change.

Each event stores the hash of the previous one; `verify_chain` recomputes every hash so that
editing, deleting or reordering any row is detected. A unique constraint on `prev_hash` makes a
fork impossible even if two requests record at once; on PostgreSQL an advisory lock serialises
writers so that such a race waits instead of failing. Never record a secret ballot's choices here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text, insert, select, text
from sqlalchemy.orm import Mapped, mapped_column

from deliberation.core.models import dialect_name, utcnow
from deliberation.extensions import db

GENESIS_HASH = "0" * 64
_PG_AUDIT_LOCK = 0x6175_6469  # "audi": any constant shared by all writers


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Plain columns, not foreign keys: the log must outlive and never block what it describes.
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_label: Mapped[str] = mapped_column(String(100), default="")
    community_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(40))
    summary: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    def compute_hash(self) -> str:
        """Hash of this event's content chained to the previous hash."""
        return event_hash({column: getattr(self, column) for column in HASHED_COLUMNS})


# Every state change records an event: both statements are built once.
_LAST_HASH = select(AuditEvent.__table__.c.hash).order_by(AuditEvent.__table__.c.id.desc()).limit(1)
_INSERT_EVENT = insert(AuditEvent.__table__)

# What each event's hash covers, in this order: the link, then the content.
HASHED_COLUMNS = ("prev_hash", "created_at", "actor_id", "actor_label", "community_id", "action",
                  "object_type", "object_id", "summary")


def event_hash(values: dict) -> str:
    """SHA-256 of an event's hashed columns (`created_at` to the microsecond)."""
    content = [values[column] for column in HASHED_COLUMNS]
    content[1] = content[1].isoformat(timespec="microseconds")
    payload = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Ref:
    """Names a row that was written without loading a model instance (`record` needs a type and id)."""

    object_type: str
    id: int | str


def record(action: str, obj, *, actor=None, community=None, summary: str = "") -> None:
    """Append an event for `obj`: a model instance (flushed here so it has an id) or a `Ref`."""
    session = db.session
    if dialect_name() == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_AUDIT_LOCK})
    session.flush()
    last_hash = session.scalar(_LAST_HASH)
    values = {
        "prev_hash": last_hash or GENESIS_HASH,
        "created_at": utcnow(),
        "actor_id": getattr(actor, "id", None),
        "actor_label": getattr(actor, "login", "") or "",
        "community_id": getattr(community, "id", None),
        "action": action,
        "object_type": obj.object_type if isinstance(obj, Ref) else type(obj).__name__,
        "object_id": str(getattr(obj, "id", "")),
        "summary": summary,
    }
    # A plain INSERT: the event is never read back in this request, so no ORM object is needed.
    session.execute(_INSERT_EVENT, {**values, "hash": event_hash(values)})


def fingerprint(obj, *actions: str) -> str | None:
    """The hash of the latest of these events about `obj`, printed on public pages (published minutes,
    vote results). The chain links every earlier event to it, so whoever noted it can later check
    with `flask audit verify --anchor` that nothing up to that point was deleted or rewritten —
    which the chain alone cannot show for its newest events."""
    columns = AuditEvent.__table__.c
    return db.session.scalar(select(columns.hash).where(
        columns.action.in_(actions), columns.object_type == type(obj).__name__, columns.object_id == str(obj.id))
        .order_by(columns.id.desc()).limit(1))


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_at: int | None = None
    reason: str = ""
    missing_anchors: tuple[str, ...] = ()


def verify_chain(batch_size: int = 1000, anchors: Iterable[str] = ()) -> ChainReport:
    """Walk the log in order and report the first event whose link or hash does not match, or the
    anchors (fingerprints noted earlier) that are no longer in the chain."""
    expected_prev = GENESIS_HASH
    checked = 0
    last_id = 0
    missing = {a.strip().lower() for a in anchors if a.strip()}
    while True:
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch_size)
        ).all()
        if not events:
            if missing:
                return ChainReport(False, checked, None, "anchor not in the chain: events up to it were deleted "
                                   "or rewritten", tuple(sorted(missing)))
            return ChainReport(ok=True, checked=checked)
        for event in events:
            if event.prev_hash != expected_prev:
                return ChainReport(False, checked, event.id, "previous-hash link does not match")
            if event.compute_hash() != event.hash:
                return ChainReport(False, checked, event.id, "content does not match its hash")
            expected_prev = event.hash
            missing.discard(event.hash)
            checked += 1
            last_id = event.id
        db.session.expunge_all()
