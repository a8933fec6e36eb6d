"""Concurrent double co-signing cannot create two supports (real commits, two sessions)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from deliberation.auth.models import User
from deliberation.extensions import db
from deliberation.proposals import services
from deliberation.proposals.models import Proposal, Support
from tests.concurrency import race
from tests.factories import build_world, make_resident

from .factories import make_proposal, make_round


@pytest.fixture
def committed(committing_app):
    app = committing_app
    with app.app_context():
        world = build_world()
        neighbour, _ = make_resident(world.community, login="neighbour")
        round_ = make_round(world.community, world.secretary)
        proposal = make_proposal(round_, world.resident)
        db.session.commit()
        ids = (proposal.id, neighbour.id)
        db.session.remove()
    return ids


def test_concurrent_co_signatures_by_one_resident_count_once(app, committed):
    proposal_id, user_id = committed
    attempts = 10  # within the connection pool (5 + 10 overflow), so all can hold a connection at once

    def co_sign():
        services.add_support(db.session.get(Proposal, proposal_id), db.session.get(User, user_id))

    outcomes = race(app, [co_sign] * attempts)

    with app.app_context():
        supports = db.session.scalar(select(func.count(Support.id)).where(Support.proposal_id == proposal_id))
        count = db.session.get(Proposal, proposal_id).support_count
        db.session.remove()
    assert outcomes.count("done") == 1, outcomes
    assert supports == 1 and count == 1
