"""Append-only, hash-chained and keyed audit log of every state change.

Each event stores the SHA-256 `hash` of its content and of the previous event's hash (the public
fingerprint printed on minutes, results, exports and the notice board), a sequence number `seq`
(1, 2, 3, … without gaps) and a `mac`: HMAC-SHA256 under `AUDIT_KEY` of the sequence number and
the hash, so it covers the content, the previous link and the position. The key lives outside the
database (environment or instance/audit_key): whoever can write to the database but does not hold
the key can recompute the plain hashes of a rewritten log, but not the MACs.
`core/audit_verify.py` checks all of it. A unique constraint on `prev_hash` and on `seq` makes a
fork impossible even if two requests record at once; on PostgreSQL an advisory lock serialises
writers so that such a race waits instead of failing. Never record a secret ballot's choices here.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import DateTime, Integer, String, Text, func, insert, select, text
from sqlalchemy.orm import Mapped, mapped_column

from deliberation.core.models import dialect_name, utcnow
from deliberation.extensions import db

GENESIS_HASH = "0" * 64
_PG_AUDIT_LOCK = 0x6175_6469  # "audi": any constant shared by all writers


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    # 1, 2, 3, … in chain order: a deleted event leaves a visible gap (covered by the MAC).
    seq: Mapped[int] = mapped_column(Integer, unique=True)
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
    # HMAC under AUDIT_KEY of (seq, hash); NULL only for an event the upgrade could not vouch for.
    mac: Mapped[str | None] = mapped_column(String(64))

    def compute_hash(self) -> str:
        """Hash of this event's content chained to the previous hash."""
        return event_hash({column: getattr(self, column) for column in HASHED_COLUMNS})


# Every state change records an event: both statements are built once.
_HEAD = select(AuditEvent.__table__.c.seq, AuditEvent.__table__.c.hash).order_by(
    AuditEvent.__table__.c.seq.desc()).limit(1)
_INSERT_EVENT = insert(AuditEvent.__table__)
# For a hot path that records one event (casting a ballot): the writers' lock as a column another
# statement can take it with (PostgreSQL only), and the head as columns a later statement of the same
# transaction can carry (`record(..., head=...)`): two round trips fewer, nothing kept between requests.
LOCK_COLUMN = func.pg_advisory_xact_lock(_PG_AUDIT_LOCK).label("audit_lock")
HEAD_COLUMNS = (_HEAD.with_only_columns(AuditEvent.__table__.c.seq).scalar_subquery().label("audit_head_seq"),
                _HEAD.with_only_columns(AuditEvent.__table__.c.hash).scalar_subquery().label("audit_head_hash"))

# What each event's hash covers, in this order: the link, then the content.
HASHED_COLUMNS = ("prev_hash", "created_at", "actor_id", "actor_label", "community_id", "action",
                  "object_type", "object_id", "summary")


def event_hash(values: dict) -> str:
    """SHA-256 of an event's hashed columns (`created_at` to the microsecond)."""
    content = [values[column] for column in HASHED_COLUMNS]
    content[1] = content[1].isoformat(timespec="microseconds")
    payload = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def event_mac(key: str, seq: int, hash_: str) -> str:
    """The keyed link of an event: HMAC-SHA256 over its position and its hash (which covers its
    content and the previous hash)."""
    message = f"deliberation-audit:v1:{seq}:{hash_}".encode()
    return hmac.digest(key.encode("utf-8"), message, "sha256").hex()  # one-shot: hmac.new(...).hexdigest()


def key_id(key: str) -> str:
    """A short public name for a key (never the key), to tell which key a verifier holds."""
    return hmac.new(key.encode("utf-8"), b"deliberation-audit-key-id", hashlib.sha256).hexdigest()[:12]


def audit_key() -> str:
    return current_app.config["AUDIT_KEY"]


@dataclass(frozen=True)
class Head:
    """The newest event: how many events the log holds and its fingerprint."""

    seq: int
    hash: str


def head() -> Head | None:
    """The chain head now (one indexed query), or None for an empty log."""
    row = db.session.execute(_HEAD).first()
    return Head(row.seq, row.hash) if row else None


@dataclass(frozen=True)
class Ref:
    """Names a row that was written without loading a model instance (`record` needs a type and id)."""

    object_type: str
    id: int | str


def record(action: str, obj, *, actor=None, community=None, summary: str = "",
           head: tuple[int | None, str | None] | None = None) -> None:
    """Append an event for `obj`: a model instance (flushed here so it has an id) or a `Ref`.

    `head`: the (seq, hash) of the chain head — (None, None) for an empty log — as the caller read it
    with `HEAD_COLUMNS`, in a statement of this transaction that began after it took the writers' lock
    (on PostgreSQL `LOCK_COLUMN`, in an earlier statement; SQLite's write transaction is the lock).
    Without it, the lock is taken and the head read here. A wrong head cannot fork the log: the unique
    keys on `seq` and `prev_hash` refuse the event."""
    session = db.session
    if head is None and dialect_name() == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_AUDIT_LOCK})
    session.flush()
    last_seq, last_hash = head if head is not None else (session.execute(_HEAD).first() or (None, None))
    seq = last_seq + 1 if last_seq is not None else 1
    values = {
        "prev_hash": last_hash if last_seq is not None else GENESIS_HASH,
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
    hash_ = event_hash(values)
    # On the session's connection: a plain statement needs none of the ORM's execution steps.
    session.connection().execute(_INSERT_EVENT, {**values, "seq": seq, "hash": hash_,
                                                 "mac": event_mac(audit_key(), seq, hash_)})


def fingerprint(obj, *actions: str) -> str | None:
    """The hash of the latest of these events about `obj`, printed on public pages (published minutes,
    vote results). The chain links every earlier event to it, so whoever noted it can later check
    with `flask audit verify --anchor` that nothing up to that point was deleted or rewritten —
    which the chain alone cannot show for its newest events."""
    columns = AuditEvent.__table__.c
    return db.session.scalar(select(columns.hash).where(
        columns.action.in_(actions), columns.object_type == type(obj).__name__, columns.object_id == str(obj.id))
        .order_by(columns.id.desc()).limit(1))


def verify_chain(*args, **kwargs):
    """Check the whole log (see core/audit_verify.py; kept here for callers that import it from audit)."""
    from deliberation.core.audit_verify import verify_chain as verify

    return verify(*args, **kwargs)
