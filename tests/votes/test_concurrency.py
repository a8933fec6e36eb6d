"""50 concurrent casts by one voter leave exactly one ballot (real commits, separate sessions)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from deliberation.auth.models import User
from deliberation.core.errors import DomainError
from deliberation.extensions import db
from deliberation.proposals.models import Round, RoundPhase
from deliberation.votes import services
from deliberation.votes.models import Ballot, BallotParticipation
from tests.factories import build_world, make_resident
from tests.proposals.factories import make_proposal, make_round, move_to

ATTEMPTS = 50


@pytest.fixture
def committed(committing_app):
    app = committing_app
    with app.app_context():
        world = build_world()
        voter, _ = make_resident(world.community, login="eager")
        round_ = make_round(world.community, world.secretary)
        proposal = make_proposal(round_, world.resident)
        move_to(round_, RoundPhase.voting, world.secretary, party=world.party)
        db.session.commit()
        ids = (round_.id, voter.id, proposal.id)
        db.session.remove()
    return ids


def test_fifty_concurrent_casts_for_one_voter_make_one_ballot(app, committed):
    round_id, voter_id, proposal_id = committed
    start = threading.Barrier(ATTEMPTS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def cast():
        start.wait(timeout=60)  # before touching the database, so no thread holds a pooled connection
        with app.app_context():
            try:
                round_, voter = db.session.get(Round, round_id), db.session.get(User, voter_id)
                services.cast_ballot(round_, voter, choices=[proposal_id])
                db.session.commit()
                outcome = "cast"
            except DomainError:
                db.session.rollback()
                outcome = "refused"
            except Exception as error:  # e.g. a lock timeout: still no second ballot
                db.session.rollback()
                outcome = type(error).__name__
            finally:
                db.session.remove()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=cast) for _ in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    with app.app_context():
        ballots = db.session.scalar(select(func.count(Ballot.id)).where(Ballot.round_id == round_id))
        participations = db.session.scalar(select(func.count(BallotParticipation.id)))
        db.session.remove()
    assert len(outcomes) == ATTEMPTS
    assert outcomes.count("cast") == 1, sorted(set(outcomes))
    assert ballots == 1 and participations == 1
