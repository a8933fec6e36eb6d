"""Two workers at once (threads with their own connections) deliver each message exactly once."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from deliberation.extensions import db
from deliberation.notifications import services, worker
from deliberation.notifications.models import Channel, DeliveryStatus, OutboxMessage
from tests.factories import make_user

from .conftest import with_email


def test_two_workers_deliver_each_message_exactly_once(committing_app, smtp):
    app = committing_app
    with app.app_context():
        users = [make_user() for _ in range(60)]
        for user in users:
            with_email(user)
        services.notify(users, "verification_approved", key="race", context={"community": "桃源社区"})
        db.session.commit()
        db.session.remove()

    start = threading.Barrier(2)
    claimed = []

    def work():
        start.wait(timeout=30)
        with app.app_context():
            try:
                while batch := worker.run_once(limit=7):
                    claimed.append(batch)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sum(claimed) == 60
    assert sorted(m["To"] for m in smtp.messages) == sorted(f"{u.login}@example.org" for u in users)
    with app.app_context():
        statuses = db.session.execute(select(OutboxMessage.status, func.count()).where(
            OutboxMessage.channel == Channel.email).group_by(OutboxMessage.status)).all()
        db.session.remove()
    assert statuses == [(DeliveryStatus.sent, 60)]
