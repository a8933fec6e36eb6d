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


def test_two_workers_ticking_at_once_send_the_closing_reminder_once(committing_app):
    from datetime import timedelta

    from deliberation.core.audit import AuditEvent
    from deliberation.core.models import utcnow
    from deliberation.notifications import periodic
    from deliberation.notifications.models import InboxItem
    from deliberation.proposals.models import RoundPhase
    from deliberation.votes import services as votes
    from tests.factories import build_world
    from tests.proposals.factories import make_proposal, make_round, move_to

    app = committing_app
    with app.app_context():
        world = build_world()
        round_ = make_round(world.community, world.secretary)
        make_proposal(round_, world.resident)
        move_to(round_, RoundPhase.voting, world.secretary, party=world.party)
        votes.set_voting_close(round_, closes_at=utcnow() + timedelta(hours=10), actor=world.secretary)
        db.session.commit()
        db.session.remove()

    start = threading.Barrier(2)
    now = utcnow()
    results = []

    def tick():
        start.wait(timeout=30)
        with app.app_context():
            try:
                results.append(periodic.run_jobs(now))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == 2
    with app.app_context():
        reminders = db.session.execute(select(InboxItem.user_id, func.count()).where(
            InboxItem.kind == "voting_closing").group_by(InboxItem.user_id)).all()
        events = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "round.closing_reminder"))
        db.session.remove()
    assert reminders and all(count == 1 for _user, count in reminders)
    assert events == 1
