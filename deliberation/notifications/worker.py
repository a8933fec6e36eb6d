"""The delivery worker: claims due outbox rows, delivers them, retries with back-off.

Claims are atomic: on PostgreSQL `FOR UPDATE SKIP LOCKED` lets workers on any number of hosts take
disjoint batches; on SQLite the single claiming UPDATE holds the database's write lock. A claim
pushes `next_attempt_at` forward by a lease: a worker that dies mid-batch leaves its rows to be
taken again after the lease. Each delivery is marked sent in its own commit right after it went
out, so a restart resends at most the one message that was in flight when the process died (an
e-mail keeps its Message-ID and an SMS its OutId, so that one is recognisable as a repeat).
"""

from __future__ import annotations

import logging
import smtplib
import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from deliberation.core.models import utcnow
from deliberation.extensions import db
from deliberation.notifications.mail import Mailer, build_digest, build_message
from deliberation.notifications.models import Channel, DeliveryStatus, OutboxMessage
from deliberation.notifications.sms import SmsError, get_gateway

log = logging.getLogger(__name__)
_outbox = OutboxMessage.__table__


def claim(limit: int) -> list[int]:
    """Take up to `limit` due deliveries for this worker (committed at once); returns their ids."""
    now = utcnow()
    lease = now + timedelta(seconds=current_app.config["NOTIFY_LEASE_SECONDS"])
    due = (select(_outbox.c.id)
           .where(_outbox.c.status == DeliveryStatus.pending.value, _outbox.c.next_attempt_at <= now)
           .order_by(_outbox.c.next_attempt_at, _outbox.c.id).limit(limit)
           .with_for_update(skip_locked=True))  # rendered on PostgreSQL only
    ids = db.session.scalars(
        update(_outbox).where(_outbox.c.id.in_(due))
        .values(next_attempt_at=lease, attempts=_outbox.c.attempts + 1)
        .returning(_outbox.c.id)).all()
    db.session.commit()
    return sorted(ids)


class Deliverer:
    """Sends one outbox row over its channel; keeps the SMTP connection and SMS gateway of a batch."""

    def __init__(self):
        self.mailer = Mailer()
        self.gateway = None

    def deliver(self, row) -> str:
        """Send one outbox row (a row of `outbox_messages`); returns the provider's message id."""
        if not row.address:
            raise ValueError("no address")
        if row.channel == Channel.email:
            return self.mailer.send(build_message(to=row.address, subject=row.subject, body=row.body, key=row.key,
                                                  user_id=row.user_id, kind=row.kind, locale=row.locale))
        if row.channel == Channel.sms:
            if self.gateway is None:
                self.gateway = get_gateway(current_app)
            return self.gateway.send(row.address, f"{row.subject} {row.body}")
        return ""

    def digest(self, rows) -> str:
        """Send a person's held e-mails as one."""
        return self.mailer.send(build_digest(rows))

    def close(self) -> None:
        self.mailer.close()


def run_once(*, limit: int | None = None) -> int:
    """Claim one batch and deliver it; returns how many rows were claimed."""
    config = current_app.config
    ids = claim(limit or config["NOTIFY_BATCH_SIZE"])
    if not ids:
        return 0
    deliverer = Deliverer()
    try:
        rows = db.session.execute(select(_outbox).where(_outbox.c.id.in_(ids)).order_by(_outbox.c.id)).all()
        # End the reading transaction: on SQLite each result below is then written by a transaction
        # whose first statement writes, which waits for the lock instead of failing on a stale snapshot.
        db.session.commit()
        for group in _groups(rows):
            _deliver(deliverer, group)
    finally:
        deliverer.close()
    return len(ids)


def _groups(rows) -> list[list]:
    """One delivery per row, except a person's held digest e-mails of this batch, which go as one."""
    groups: list[list] = []
    digests: dict[int, list] = {}
    for row in rows:
        if row.channel == Channel.email and row.digest:
            if row.user_id not in digests:
                digests[row.user_id] = []
                groups.append(digests[row.user_id])
            digests[row.user_id].append(row)
        else:
            groups.append([row])
    return groups


def _deliver(deliverer: Deliverer, group: list) -> None:
    config = current_app.config
    row = group[0]
    claimed = or_(*(  # still this worker's claim (not retaken after a lease)
        (_outbox.c.id == each.id) & (_outbox.c.status == DeliveryStatus.pending.value)
        & (_outbox.c.attempts == each.attempts) for each in group))
    try:
        provider_id = deliverer.deliver(row) if len(group) == 1 and not row.digest else deliverer.digest(group)
    except (smtplib.SMTPException, OSError, SmsError, ValueError) as error:
        message = f"{type(error).__name__}: {error}"[:500]
        if row.attempts >= config["NOTIFY_MAX_ATTEMPTS"] or isinstance(error, ValueError):
            values = {"status": DeliveryStatus.failed.value, "last_error": message}
        else:
            delay = config["NOTIFY_BACKOFF_SECONDS"] * 2 ** (row.attempts - 1)
            values = {"next_attempt_at": utcnow() + timedelta(seconds=delay), "last_error": message}
        db.session.execute(update(_outbox).where(claimed).values(**values))
        log.warning("delivery %s (%s, %s rows) attempt %s failed: %s", row.id, row.channel, len(group), row.attempts,
                    message)
    else:
        db.session.execute(update(_outbox).where(claimed).values(
            status=DeliveryStatus.sent.value, delivered_at=utcnow(), provider_id=(provider_id or "")[:100]))
    db.session.commit()


def run_forever(*, interval: float = 5.0, should_stop=lambda: False, clock=time.monotonic) -> None:
    """Deliver until `should_stop()`: whole batches back to back, then a pause of `interval` seconds; the
    periodic jobs (`periodic.JOBS`) at the start and then at most once every `periodic.INTERVAL_SECONDS`."""
    from deliberation.notifications import periodic

    last_jobs = None
    while not should_stop():
        if last_jobs is None or clock() - last_jobs >= periodic.INTERVAL_SECONDS:
            last_jobs = clock()
            try:
                periodic.run_jobs()  # each job commits or rolls back on its own
            except Exception:  # a lost database connection must not end the worker
                log.exception("periodic jobs failed")
                db.session.rollback()
        try:
            claimed = run_once()
        except Exception:  # a lost database connection must not end the worker
            log.exception("notification worker batch failed")
            db.session.rollback()
            claimed = 0
        if not claimed:
            deadline = time.monotonic() + interval
            while time.monotonic() < deadline and not should_stop():
                time.sleep(0.2)
