"""Concurrent votes by one member on one motion leave exactly one vote (real commits, separate sessions)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from deliberation.auth.models import User
from deliberation.consultations import services
from deliberation.consultations.models import Motion, MotionVote, VoteChoice
from deliberation.core.errors import DomainError
from deliberation.extensions import db
from tests.councils.factories import make_council, make_session, members, start
from tests.factories import build_world

ATTEMPTS = 30


@pytest.fixture
def committed(committing_app):
    app = committing_app
    with app.app_context():
        world = build_world()
        council = make_council(world.community, world.admin, members=5)
        session = make_session(world.community, world.secretary, council)
        start(session, world.secretary)
        voter = members(council)[0]
        services.sign_in(session, voter)
        motion = services.open_motion(session.items[0], text="同意", actor=world.secretary)
        db.session.commit()
        ids = (motion.id, voter.id)
        db.session.remove()
    return ids


def test_concurrent_votes_by_one_member_make_one_vote(app, committed):
    motion_id, voter_id = committed
    start_line = threading.Barrier(ATTEMPTS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def vote(choice: VoteChoice):
        start_line.wait(timeout=60)
        with app.app_context():
            try:
                motion, voter = db.session.get(Motion, motion_id), db.session.get(User, voter_id)
                services.cast_vote(motion, voter, choice)
                db.session.commit()
                outcome = "cast"
            except DomainError:
                db.session.rollback()
                outcome = "refused"
            except Exception as error:  # e.g. a lock timeout: still no second vote
                db.session.rollback()
                outcome = type(error).__name__
            finally:
                db.session.remove()
        with lock:
            outcomes.append(outcome)

    choices = [VoteChoice.yes, VoteChoice.no, VoteChoice.abstain]
    threads = [threading.Thread(target=vote, args=(choices[n % 3],)) for n in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    with app.app_context():
        votes = db.session.scalar(select(func.count(MotionVote.id)).where(MotionVote.motion_id == motion_id))
        db.session.remove()
    assert len(outcomes) == ATTEMPTS
    assert outcomes.count("cast") == 1, sorted(set(outcomes))
    assert votes == 1
