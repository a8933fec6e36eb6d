"""How secret rows are stored: ballots and satisfaction-survey answers (DESIGN.md, "Secrecy discipline").

Who took part is stored by its own area (`BallotParticipation`, `SurveyParticipation`), in the
order people took part. What they chose must follow no order that pairs with it, in SQL or on disk:
a database page fills in insertion order, PostgreSQL's heap (ctid) too, and SQLite's write-ahead log
keeps every committed page image in commit order. So:

- While voting or answering is open, each payload is *sealed*: AES-256-GCM with a random nonce,
  its plaintext padded to a fixed length, in `sealed_rows` under a random key, with no time. The
  key is derived (HKDF-SHA256) from the app's SECRET_KEY and a random salt per scope (one round,
  one survey) kept in `seal_keys`. A copy of the database alone reads no payload at all.
- At closing, `unseal` opens every sealed row of the scope and hands the payloads back in a random
  order; the caller writes them as plain rows in that order (or in receipt-hash order); the sealed
  rows and the salt are deleted. On SQLite the deletion zeroes the freed bytes (`secure_delete`) and,
  after the commit, the write-ahead log is checkpointed and truncated, so the old page images go.
  The salt is then gone: SECRET_KEY can no longer open a sealed row from an earlier copy's pages
  taken after closing.

What this does not protect: a copy taken while open *together with* SECRET_KEY opens every sealed
row, and their storage order follows the order of casting (README, threat model).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import LargeBinary, String, UniqueConstraint, bindparam, delete, event, func, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from deliberation.core.errors import DomainError
from deliberation.core.models import dialect_name, insert_unless_duplicate
from deliberation.extensions import db

NONCE_BYTES = 12
BLOCK = 64  # sealed payloads are padded to a multiple of this many bytes
_LENGTH_BYTES = 4
_CHECKPOINT_AFTER_COMMIT = "secrecy_checkpoint"


def _random_id() -> str:
    return secrets.token_hex(16)


class SealKey(db.Model):
    """The random salt from which one scope's sealing key is derived; deleted when the scope is opened."""

    __tablename__ = "seal_keys"

    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    salt: Mapped[bytes] = mapped_column(LargeBinary(32))


class SealedRow(db.Model):
    """One sealed secret payload: random key, no time, fixed length; nothing says whose it is."""

    __tablename__ = "sealed_rows"
    # `tag` (a keyed digest, when the payload must be unique in its scope: a ballot's receipt) or NULL.
    # SQLite: store rows by the random key, not by an insertion-ordered hidden rowid.
    __table_args__ = (UniqueConstraint("scope", "tag"), {"sqlite_with_rowid": False})

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_random_id)
    scope: Mapped[str] = mapped_column(String(40))
    tag: Mapped[str | None] = mapped_column(String(64))
    box: Mapped[bytes] = mapped_column(LargeBinary)


# Sealing is on the casting hot path: statements built once.
_SALT = select(SealKey.__table__.c.salt).where(SealKey.__table__.c.scope == bindparam("scope"))
# The scope's salt as a column another statement can carry (the casting path reads it with the
# round's lock, in the same statement and transaction: one round trip fewer, nothing kept).
SALT_OF_SCOPE = _SALT.scalar_subquery().label("salt")
_BOXES = select(SealedRow.__table__.c.box).where(SealedRow.__table__.c.scope == bindparam("scope"))
_COUNT = select(func.count()).select_from(SealedRow.__table__).where(SealedRow.__table__.c.scope == bindparam("scope"))


def _salt(scope: str, *, create: bool) -> bytes | None:
    salt = db.session.scalar(_SALT, {"scope": scope})
    if salt is None and create:
        # The first seal of a scope makes its salt; two first seals at once keep the one that won.
        db.session.execute(insert_unless_duplicate(SealKey.__table__),
                           {"scope": scope, "salt": secrets.token_bytes(32)})
        salt = db.session.scalar(_SALT, {"scope": scope})
    return salt


def _key(scope: str, salt: bytes) -> bytes:
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt,
                info=b"deliberation/seal/v1/" + scope.encode()).derive(secret)


def padded_length(length: int, capacity: int) -> int:
    """The sealed plaintext's length: `capacity` rounded up to whole blocks, or a multiple of that
    when a payload is longer (which then shows only that it is longer than the capacity)."""
    size = math.ceil((capacity + _LENGTH_BYTES) / BLOCK) * BLOCK
    return size * max(1, math.ceil((length + _LENGTH_BYTES) / size))


def _encode(payload: dict, capacity: int) -> bytes:
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    return (len(data).to_bytes(_LENGTH_BYTES, "big") + data).ljust(padded_length(len(data), capacity), b"\0")


def _decode(plain: bytes) -> dict:
    length = int.from_bytes(plain[:_LENGTH_BYTES], "big")
    return json.loads(plain[_LENGTH_BYTES:_LENGTH_BYTES + length])


def seal(scope: str, payload: dict, *, capacity: int, unique: str | None = None, salt: bytes | None = None) -> bool:
    """Store a secret payload sealed in `scope`; `capacity` is the longest payload the scope expects,
    so that every sealed row of the scope has the same length. With `unique`, a value that must not
    repeat in the scope (a receipt hash): returns False, storing nothing, if it already does.
    `salt`: the scope's salt as read by the caller in this transaction (`SALT_OF_SCOPE`, bound to
    the same scope), to save a read; None reads it here (and makes it on the scope's first seal)."""
    table = SealedRow.__table__
    stored = db.session.connection().scalar(
        insert_unless_duplicate(table, table.c.id),
        sealed_row(scope, payload, capacity=capacity, unique=unique, salt=salt))
    return stored is not None


def sealed_row(scope: str, payload: dict, *, capacity: int, unique: str | None = None,
               salt: bytes | None = None) -> dict:
    """The values of the `sealed_rows` row that `seal` inserts (id, scope, tag, box), for a caller that
    inserts it in a statement of its own making (casting, on PostgreSQL: with the participation)."""
    key = _key(scope, salt if salt is not None else _salt(scope, create=True))
    nonce = secrets.token_bytes(NONCE_BYTES)
    box = nonce + AESGCM(key).encrypt(nonce, _encode(payload, capacity), scope.encode())
    tag = hmac.new(key, unique.encode(), hashlib.sha256).hexdigest() if unique is not None else None
    return {"id": _random_id(), "scope": scope, "tag": tag, "box": box}


def sealed_count(scope: str) -> int:
    return db.session.scalar(_COUNT, {"scope": scope}) or 0


def is_sealed(scope: str) -> bool:
    """Whether the scope still has a sealing key (it was sealed into and not yet opened)."""
    return db.session.scalar(_SALT, {"scope": scope}) is not None


def peek(scope: str) -> list[dict]:
    """The scope's sealed payloads in a random order, leaving them sealed: for checks (a benchmark
    verifying that every receipt shown was stored). Needs SECRET_KEY, as anyone who opens them."""
    salt = _salt(scope, create=False)
    if salt is None:
        return []
    aead, key_scope = AESGCM(_key(scope, salt)), scope.encode()
    try:
        payloads = [_decode(aead.decrypt(box[:NONCE_BYTES], box[NONCE_BYTES:], key_scope))
                    for box in db.session.scalars(_BOXES, {"scope": scope})]
    except InvalidTag as error:
        raise DomainError(_l("The sealed ballots or answers cannot be opened: the server's secret key has changed "
                             "since they were cast. Restore the previous SECRET_KEY, then try again.")) from error
    return shuffled(payloads)


def unseal(scope: str) -> list[dict]:
    """Open every sealed payload of the scope and destroy the sealed rows and the key's salt.
    Returns the payloads in a random order: write them as plain rows in that order (or in another
    order that follows nothing, such as receipt-hash order). Call it in the closing transaction,
    before that transaction deletes any other secret row: from here on freed bytes are zeroed."""
    payloads = peek(scope)
    begin_rewrite()
    db.session.execute(delete(SealedRow).where(SealedRow.scope == scope))
    db.session.execute(delete(SealKey).where(SealKey.scope == scope))
    return payloads


def begin_rewrite() -> None:
    """From here on in this transaction, deleted secret rows leave no bytes behind on SQLite (secure
    delete zeroes them in the page), and the write-ahead log is truncated after the commit."""
    if dialect_name() == "sqlite":
        db.session.execute(text("PRAGMA secure_delete=ON"))
        db.session.info[_CHECKPOINT_AFTER_COMMIT] = True


def shuffled(rows: list) -> list:
    """A copy of rows in an order drawn from the system's random source."""
    rows = list(rows)
    secrets.SystemRandom().shuffle(rows)
    return rows


@event.listens_for(Session, "after_commit")
def _truncate_write_ahead_log(session: Session) -> None:
    """Copy the committed pages into the database file and empty the -wal file, whose older page
    images still hold the sealed rows and the salt. Best effort: while another connection is reading,
    SQLite cannot truncate now (no waiting: busy timeout 0), and the log's frames are overwritten as
    it is reused."""
    if not session.info.pop(_CHECKPOINT_AFTER_COMMIT, False):
        return
    with db.engine.connect() as connection:
        driver = connection.connection.dbapi_connection
        cursor = driver.cursor()
        timeout = cursor.execute("PRAGMA busy_timeout").fetchone()[0]
        try:
            cursor.execute("PRAGMA busy_timeout=0")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        finally:
            cursor.execute(f"PRAGMA busy_timeout={int(timeout)}")
            cursor.close()
