"""Concurrent double co-signing cannot create two supports (real commits, two sessions)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from deliberation.auth.models import User
from deliberation.core.errors import DomainError
from deliberation.extensions import db
from deliberation.proposals import services
from deliberation.proposals.models import Proposal, Support
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
    barrier = threading.Barrier(attempts)
    outcomes: list[str] = []

    def co_sign():
        with app.app_context():
            session: Session = db.session
            proposal, user = session.get(Proposal, proposal_id), session.get(User, user_id)
            barrier.wait(timeout=30)
            try:
                services.add_support(proposal, user)
                session.commit()
                outcomes.append("ok")
            except DomainError:
                session.rollback()
                outcomes.append("refused")
            except Exception as error:  # a lost race surfacing at commit is still a refusal
                session.rollback()
                outcomes.append(type(error).__name__)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=co_sign) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    with app.app_context():
        supports = db.session.scalar(select(func.count(Support.id)).where(Support.proposal_id == proposal_id))
        count = db.session.get(Proposal, proposal_id).support_count
        db.session.remove()
    assert outcomes.count("ok") == 1, outcomes
    assert supports == 1 and count == 1
