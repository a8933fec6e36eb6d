"""Daily anchors of the audit log: the chain head published once a day on every notice board.

`flask audit anchor` (run daily by cron or the worker) writes today's anchor — the date, how many
events the log holds and the newest event's fingerprint — once per day (Asia/Shanghai), and
appends the same line to instance/audit_anchors.log, a witness kept outside the database. The
notice board shows the latest anchors, and its view writes today's anchor itself on the first
view of the day if the command has not run yet. Each anchor row carries an HMAC under `AUDIT_KEY`, so an anchor
cannot be forged or edited without the key; deleting the newest anchors together with the events
after them is what the published copies (and the log file) reveal: see core/audit_verify.py.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Date, DateTime, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from deliberation.core import notice_board
from deliberation.core.audit import GENESIS_HASH, audit_key, head
from deliberation.core.models import insert_unless_duplicate, utcnow
from deliberation.core.notice_board import NoticeSection
from deliberation.extensions import db

ANCHORS_FILE = "audit_anchors.log"
SHOWN_ON_NOTICE_BOARD = 7


class AuditAnchor(db.Model):
    __tablename__ = "audit_anchors"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)  # in Asia/Shanghai
    seq: Mapped[int] = mapped_column(Integer)  # events in the log then (the head's sequence number)
    head_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    mac: Mapped[str] = mapped_column(String(64))


def anchor_mac(key: str, day: date, seq: int, head_hash: str) -> str:
    message = f"deliberation-audit-anchor:v1:{day.isoformat()}:{seq}:{head_hash}".encode()
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def local_today() -> date:
    """Today where the community lives (the notice board's day)."""
    return datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def anchors_file() -> Path:
    return Path(current_app.config["INSTANCE_DIR"]) / ANCHORS_FILE


@dataclass(frozen=True)
class AnchorLine:
    """One published anchor, as printed: day, number of events, head fingerprint."""

    day: date
    seq: int
    head_hash: str

    def __str__(self) -> str:
        return f"{self.day.isoformat()} {self.seq} {self.head_hash}"


def write_daily_anchor(today: date | None = None) -> tuple[AnchorLine, bool]:
    """Anchor today's chain head unless today already has an anchor; flushes, never commits.
    Returns the day's anchor and whether it was written now. Safe under concurrent calls: the day
    is unique and a second insert does nothing."""
    today = today or local_today()
    current = head()
    seq, head_hash = (current.seq, current.hash) if current else (0, GENESIS_HASH)
    table = AuditAnchor.__table__
    written = db.session.scalar(insert_unless_duplicate(table, table.c.id), {
        "day": today, "seq": seq, "head_hash": head_hash, "created_at": utcnow(),
        "mac": anchor_mac(audit_key(), today, seq, head_hash)})
    if written is not None:
        return AnchorLine(today, seq, head_hash), True
    existing = db.session.execute(select(table.c.seq, table.c.head_hash).where(table.c.day == today)).one()
    return AnchorLine(today, existing.seq, existing.head_hash), False


def append_to_anchors_file(line: AnchorLine) -> Path:
    """Keep the anchor in instance/audit_anchors.log too (a copy outside the database), once per day."""
    path = anchors_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and any(kept.day == line.day for kept in parse_anchor_lines(path.read_text(encoding="utf-8"))):
        return path
    with path.open("a", encoding="utf-8") as fh:
        fh.write(f"{line}\n")
    return path


def parse_anchor_lines(text: str) -> list[AnchorLine]:
    """Lines `YYYY-MM-DD SEQ FINGERPRINT` (as printed on the notice board; `#` starts a comment).
    Raises ValueError naming the first malformed line."""
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        content = raw.split("#", 1)[0].strip()
        if not content:
            continue
        parts = content.split()
        try:
            day, seq, fingerprint = parts
            line = AnchorLine(date.fromisoformat(day), int(seq), fingerprint.lower())
        except ValueError:
            raise ValueError(f"line {number}: expected 'YYYY-MM-DD COUNT FINGERPRINT', got {raw!r}") from None
        if len(line.head_hash) != 64 or line.seq < 0:
            raise ValueError(f"line {number}: expected 'YYYY-MM-DD COUNT FINGERPRINT', got {raw!r}")
        lines.append(line)
    return lines


def recent_anchors(limit: int = SHOWN_ON_NOTICE_BOARD) -> list[AuditAnchor]:
    return list(db.session.scalars(select(AuditAnchor).order_by(AuditAnchor.day.desc()).limit(limit)))


def anchor_today_if_missing() -> bool:
    """Write today's anchor unless it exists (one indexed query when it does); True if written now.
    The caller commits: the notice board does this on the first view of a day without an anchor."""
    today = local_today()
    if db.session.scalar(select(AuditAnchor.id).where(AuditAnchor.day == today)) is not None:
        return False
    return write_daily_anchor(today)[1]


@notice_board.register("audit", order=90)
def audit_section(community) -> NoticeSection:
    """The latest daily anchors (one query)."""
    return NoticeSection("audit", "core/notice/_audit_anchors.html", {"anchors": recent_anchors()})
