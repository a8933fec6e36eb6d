"""Concurrent votes by one member on one motion leave exactly one vote (real commits, separate sessions)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from deliberation.auth.models import User
from deliberation.consultations import services
from deliberation.consultations.models import Motion, MotionVote, VoteChoice
from deliberation.extensions import db
from tests.concurrency import race
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

    def vote(choice: VoteChoice):
        services.cast_vote(db.session.get(Motion, motion_id), db.session.get(User, voter_id), choice)

    choices = [VoteChoice.yes, VoteChoice.no, VoteChoice.abstain]
    outcomes = race(app, [lambda c=choices[n % 3]: vote(c) for n in range(ATTEMPTS)])

    with app.app_context():
        votes = db.session.scalar(select(func.count(MotionVote.id)).where(MotionVote.motion_id == motion_id))
        db.session.remove()
    assert len(outcomes) == ATTEMPTS
    assert outcomes.count("done") == 1, sorted(set(outcomes))
    assert votes == 1


@pytest.fixture
def meeting_with_voters(committing_app):
    app = committing_app
    with app.app_context():
        world = build_world()
        council = make_council(world.community, world.admin, members=8)
        session = make_session(world.community, world.secretary, council)
        start(session, world.secretary)
        voters = members(council)
        for voter in voters:
            services.sign_in(session, voter)
        motion = services.open_motion(session.items[0], text="同意", actor=world.secretary)
        db.session.commit()
        ids = (session.id, motion.id, [v.id for v in voters], session.live_version)
        db.session.remove()
    return ids


def test_concurrent_votes_each_move_the_live_version_on(app, meeting_with_voters):
    """Eight members vote at once: the version moves on once per recorded vote (no increment lost), so no
    phone can keep an ETag that predates a vote."""
    from deliberation.consultations.models import ConsultationSession

    session_id, motion_id, voter_ids, before = meeting_with_voters

    def vote(voter_id: int):
        services.cast_vote(db.session.get(Motion, motion_id), db.session.get(User, voter_id), VoteChoice.yes)

    outcomes = race(app, [lambda v=voter_id: vote(v) for voter_id in voter_ids])
    with app.app_context():
        after = db.session.scalar(select(ConsultationSession.live_version).where(ConsultationSession.id == session_id))
        votes = db.session.scalar(select(func.count(MotionVote.id)).where(MotionVote.motion_id == motion_id))
        dialect = db.engine.dialect.name
        db.session.remove()
    assert outcomes.count("done") == votes
    assert after - before == votes, (outcomes, before, after)
    if dialect == "postgresql":  # SQLite may refuse a concurrent writer (database locked)
        assert votes == len(voter_ids), outcomes
