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


def test_on_sqlite_a_cast_holds_the_write_lock_only_for_its_own_reads_and_writes(app, voting_round):
    """Two workers casting queue on SQLite's one write lock: a cast holds it for one read of what it needs
    and its writes, and a refused ballot lets go of it before its page is rendered."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's database-wide write lock; PostgreSQL locks rows")
        engine = db.engine
    slug, round_id, proposal_id, _secretary, voters = voting_round
    url = f"/c/{slug}/rounds/{round_id}/vote/cast"
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(" ".join(statement.split()[:4]))

    def committed(conn):
        statements.append("COMMIT")

    def rolled_back(conn):
        statements.append("ROLLBACK")

    listeners = (("before_cursor_execute", record), ("commit", committed), ("rollback", rolled_back))

    def cast(voter, choices):
        client, token = _http_client(app, voter)
        statements.clear()
        for name, listener in listeners:
            event.listen(engine, name, listener)
        try:
            return client.post(url, data={"csrf_token": token, "choices": choices})
        finally:
            for name, listener in listeners:
                event.remove(engine, name, listener)

    assert cast(voters[0], [str(proposal_id)]).status_code == 303  # the round's first ballot makes its salt
    assert cast(voters[1], [str(proposal_id)]).status_code == 303
    assert statements[0] == "BEGIN IMMEDIATE" and statements[-1] == "COMMIT"
    reads = [s for s in statements if s.startswith("SELECT")]
    writes = [s for s in statements if s.startswith("INSERT")]
    # the user, then all the cast needs (one statement); participation, sealed ballot, audit event:
    # nothing else under the lock
    assert len(reads) == 2 and len(writes) == 3 and len(statements) == 7, statements

    refused = cast(voters[2], [str(proposal_id), "999999"])
    assert refused.status_code == 422 and "不在投票清单上" in refused.get_data(as_text=True)
    let_go = statements.index("ROLLBACK")
    assert statements[0] == "BEGIN IMMEDIATE" and len(statements[:let_go]) == 3, statements  # user, ballot
    assert "BEGIN IMMEDIATE" not in statements[let_go:] and "INSERT" not in " ".join(statements)


def test_a_casts_round_trips_and_its_locks_in_order(app, voting_round):
    """The hot path's round trips: the user; the round, residency, options and salt, read and locked in one
    statement (PostgreSQL: the round's row FOR SHARE inside, the audit writers' lock outside it, so the row
    comes first, as every writer takes them); the participation, returning the audit head, and the sealed
    ballot (one statement on PostgreSQL, two on SQLite, where a statement costs no round trip); the
    audit event. No separate lock, salt or head read; the salt made by the round's first ballot is
    read, not made again."""
    with app.app_context():
        engine = db.engine
    slug, round_id, proposal_id, _secretary, voters = voting_round
    url = f"/c/{slug}/rounds/{round_id}/vote/cast"
    first, first_token = _http_client(app, voters[0])
    assert first.post(url, data={"csrf_token": first_token, "choices": [str(proposal_id)]}).status_code == 303
    client, token = _http_client(app, voters[1])
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        if not statement.startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.post(url, data={"csrf_token": token, "choices": [str(proposal_id)]})
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 303
    postgres = engine.dialect.name == "postgresql"
    assert len(statements) == (4 if postgres else 5), statements
    user, ballot, *writes, event_ = statements
    assert user.startswith("SELECT users.") and ballot.startswith("SELECT")
    assert "FROM rounds" in ballot and "seal_keys" in ballot and "proposals" in ballot and "residencies" in ballot
    assert sum("seal_keys" in statement for statement in statements) == 1
    if postgres:
        lock_at, row_lock_at = ballot.index("pg_advisory_xact_lock"), ballot.index("FOR SHARE OF rounds")
        assert lock_at < ballot.index("FROM (") < row_lock_at  # the audit lock is the outer query's
        [both] = writes
        assert both.startswith("WITH participation AS (INSERT INTO ballot_participations")
        assert "INSERT INTO sealed_rows" in both and "FROM participation" in both and "audit_events" in both
    else:
        participation, sealed = writes
        assert participation.startswith("INSERT INTO ballot_participations") and "audit_events" in participation
        assert sealed.startswith("INSERT INTO sealed_rows")
    assert event_.startswith("INSERT INTO audit_events")


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
