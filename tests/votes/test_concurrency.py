"""Real commits from several threads: 50 concurrent casts by one voter leave exactly one ballot;
casts racing the close of voting are either counted or refused."""

from __future__ import annotations

import secrets

import pytest
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import event, func, select

from deliberation.auth.models import User
from deliberation.core.models import dialect_name
from deliberation.extensions import db
from deliberation.proposals.models import Round, RoundPhase
from deliberation.votes import services
from deliberation.votes.models import Ballot, BallotParticipation, RoundResult
from tests.concurrency import race
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

    def cast():
        services.cast_ballot(db.session.get(Round, round_id), db.session.get(User, voter_id), choices=[proposal_id])

    outcomes = race(app, [cast] * ATTEMPTS)

    with app.app_context():
        ballots = services.ballot_count(db.session.get(Round, round_id))  # sealed while voting is open
        participations = db.session.scalar(select(func.count(BallotParticipation.id)))
        db.session.remove()
    assert len(outcomes) == ATTEMPTS
    assert outcomes.count("done") == 1, sorted(set(outcomes))
    assert ballots == 1 and participations == 1


CASTERS = 12


def _http_client(app, session_id: str) -> tuple[FlaskClient, str]:
    """A plain test client logged in as the user, with a CSRF token for its session (thread-safe: no shared session)."""
    client = FlaskClient(app, app.response_class, use_cookies=True)
    raw = secrets.token_hex(20)
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
        session["csrf_token"] = raw
    return client, URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)


@pytest.fixture
def voting_round(committing_app):
    app = committing_app
    with app.app_context():
        world = build_world()
        voters = [make_resident(world.community, login=f"caster{i}", room=str(2001 + i))[0] for i in range(CASTERS)]
        round_ = make_round(world.community, world.secretary)
        proposal = make_proposal(round_, world.resident)
        move_to(round_, RoundPhase.voting, world.secretary, party=world.party)
        db.session.commit()
        ids = (world.community.slug, round_.id, proposal.id, world.secretary.get_id(), [v.get_id() for v in voters])
        db.session.remove()
    return ids


def test_closing_while_residents_cast_counts_every_ballot_it_accepted(app, voting_round):
    """Casts racing the secretary's close: each is either counted or refused, never stored uncounted."""
    slug, round_id, proposal_id, secretary, voters = voting_round
    path = f"/c/{slug}/rounds/{round_id}"
    clients = [_http_client(app, voter) for voter in voters]
    secretary = _http_client(app, secretary)
    statuses: dict[str, int] = {}

    def post(name, client, token, url, data):
        statuses[name] = client.post(url, data={"csrf_token": token, **data}).status_code

    casts = [lambda i=i, c=c, t=t: post(f"voter{i}", c, t, f"{path}/vote/cast", {"choices": [str(proposal_id)]})
             for i, (c, t) in enumerate(clients)]
    race(app, [*casts, lambda: post("close", *secretary, f"{path}/advance", {"confirmed": "1"})])

    with app.app_context():
        result = db.session.scalar(select(RoundResult).where(RoundResult.round_id == round_id))
        ballots = db.session.scalar(select(func.count(Ballot.id)).where(Ballot.round_id == round_id))
        participations = db.session.scalar(select(func.count(BallotParticipation.id))
                                           .where(BallotParticipation.round_id == round_id))
        db.session.remove()
    cast_ok = sum(1 for name, status in statuses.items() if name != "close" and status == 303)
    assert statuses["close"] in (302, 303), statuses
    assert set(statuses.values()) <= {302, 303, 409}, statuses  # a cast that succeeds redirects to its receipt
    assert result is not None
    assert result.ballots_counted == ballots == participations == cast_ok


def test_on_sqlite_a_cast_reads_without_the_write_lock_and_takes_it_only_to_write(app, voting_round):
    """Two workers casting must not queue behind each other's page work: only the writes hold the lock."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's database-wide write lock; PostgreSQL locks rows")
        engine = db.engine
    slug, round_id, proposal_id, _secretary, voters = voting_round
    client, token = _http_client(app, voters[0])
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement.split()[0] + (" IMMEDIATE" if "IMMEDIATE" in statement else ""))

    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.post(f"/c/{slug}/rounds/{round_id}/vote/cast",
                               data={"csrf_token": token, "choices": [str(proposal_id)]})
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 303
    locked = statements.index("BEGIN IMMEDIATE")
    assert statements[0] == "BEGIN" and "SELECT" in statements[1:locked]  # the checks read first
    # participation, the round's seal key (made by its first ballot), the sealed ballot, the audit event
    assert statements[locked + 1:].count("INSERT") == 4
    assert "INSERT" not in statements[:locked]


def test_a_cast_reads_the_rounds_sealing_salt_with_the_rounds_lock_not_apart(app, voting_round):
    """The hot path's statements: after the round's first ballot, a cast reads the sealing salt in the
    statement that locks the round (one round trip fewer), never in a statement of its own."""
    with app.app_context():
        engine = db.engine
    slug, round_id, proposal_id, _secretary, voters = voting_round
    url = f"/c/{slug}/rounds/{round_id}/vote/cast"
    first, first_token = _http_client(app, voters[0])
    assert first.post(url, data={"csrf_token": first_token, "choices": [str(proposal_id)]}).status_code == 303
    client, token = _http_client(app, voters[1])
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.post(url, data={"csrf_token": token, "choices": [str(proposal_id)]})
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 303
    salt_reads = [s for s in statements if "seal_keys" in s]
    assert len(salt_reads) == 1 and "FROM rounds" in salt_reads[0], salt_reads
    assert not any(s.startswith("INSERT INTO seal_keys") for s in statements)


def test_operators_keying_new_sheets_at_once_never_outnumber_paper_voters(app, committing_app):
    """Two recorded paper voters, eight operators each keying a different new sheet at the same moment:
    at most two sheet numbers are stored (PostgreSQL: an advisory lock per round; SQLite: one writer)."""
    from deliberation.votes.models import PaperEntry

    with app.app_context():
        world = build_world()
        round_ = make_round(world.community, world.secretary)
        proposal = make_proposal(round_, world.resident)
        move_to(round_, RoundPhase.voting, world.secretary, party=world.party)
        for i in range(2):
            services.mark_paper_voter(round_, make_resident(world.community, login=f"paper{i}")[0],
                                      actor=world.secretary)
        operators = [make_resident(world.community, login=f"operator{i}")[0] for i in range(8)]
        db.session.commit()
        round_id, proposal_id, operator_ids = round_.id, proposal.id, [o.id for o in operators]
        db.session.remove()

    def key(number: int, operator_id: int):
        return lambda: services.key_paper_sheet(db.session.get(Round, round_id), sheet=f"P-{number}",
                                                choices=[proposal_id], operator=db.session.get(User, operator_id))

    outcomes = race(app, [key(n, operator_id) for n, operator_id in enumerate(operator_ids)])
    with app.app_context():
        sheets = db.session.scalar(select(func.count(func.distinct(PaperEntry.sheet)))
                                   .where(PaperEntry.round_id == round_id))
        postgres = dialect_name() == "postgresql"
        db.session.remove()
    # Never more sheet numbers than paper voters. On PostgreSQL both fitting sheets get in and the rest are
    # refused; on SQLite outside a request (no BEGIN IMMEDIATE here) a writer may also lose with "locked".
    assert sheets <= 2 and outcomes.count("done") == sheets, sorted(outcomes)
    if postgres:
        assert sheets == 2 and outcomes.count("refused") == 6, sorted(outcomes)
