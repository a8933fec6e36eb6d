"""What a cast costs the server beyond the vote itself (issue 14, "Casting cost"; bench/ballot_load.py)."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event, select
from sqlalchemy.engine.default import CACHE_MISS, NO_CACHE_KEY

from deliberation.extensions import db
from deliberation.votes.models import BallotParticipation
from tests.votes.test_views import cast_via_pages


@contextmanager
def statements():
    """The SQL statements run meanwhile, with whether SQLAlchemy had to compile each afresh."""
    seen: list[tuple[str, bool]] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        if context is not None and context.compiled is not None and "SAVEPOINT" not in statement:  # tests' own
            seen.append((statement, context.cache_hit in (CACHE_MISS, NO_CACHE_KEY)))

    event.listen(db.engine, "after_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(db.engine, "after_cursor_execute", listener)


def test_a_cast_compiles_no_sql_afresh_and_reads_the_voters_residency_alone(client, world, as_user, voting,
                                                                            voters, monkeypatch):
    round_, (ramp, _bench, lamp) = voting
    # As in production (extensions.SESSION_OPTIONS): a commit does not expire what was loaded, so
    # no reload of the user (with its residencies, community and building) follows it.
    monkeypatch.setattr(db.session(), "expire_on_commit", False)
    as_user(voters[0])
    cast_via_pages(client, round_, [ramp.id])  # the first cast of the process may compile its statements
    as_user(voters[1])
    url, choice = f"/c/taoyuan/rounds/{round_.id}/vote/cast", str(lamp.id)
    db.session.expunge(voters[1])  # the request loads its user afresh, as a new request's session does
    with statements() as seen:
        receipt = client.post(url, data={"choices": [choice]})
    assert receipt.status_code == 303
    compiled_again = [sql for sql, fresh in seen if fresh]
    assert compiled_again == []  # the ON CONFLICT inserts (participation, sealed ballot) were compiled every time
    # The ballot checks read the voter's residencies, not their community and building with them.
    residency_reads = [sql for sql, _ in seen if "FROM residencies" in sql]
    assert residency_reads and not any("JOIN buildings" in sql for sql in residency_reads)
    user_ids = db.session.scalars(select(BallotParticipation.user_id).where(
        BallotParticipation.round_id == round_.id)).all()
    assert sorted(user_ids) == sorted([voters[0].id, voters[1].id])


def test_a_pending_resident_is_still_told_to_wait_and_a_stranger_refused(client, world, as_user, voting):
    """The residencies loaded the cheaper way still decide who may vote."""
    from tests.factories import make_resident, make_user

    round_, (ramp, _bench, _lamp) = voting
    pending, _ = make_resident(world.community, login="pending-voter", verified=False)
    as_user(pending)
    refused = client.post(f"/c/taoyuan/rounds/{round_.id}/vote/cast", data={"choices": [str(ramp.id)]})
    assert refused.status_code == 403
    as_user(make_user(login="stranger"))
    refused = client.post(f"/c/taoyuan/rounds/{round_.id}/vote/cast", data={"choices": [str(ramp.id)]})
    assert refused.status_code == 403
    assert db.session.scalar(select(BallotParticipation.id).where(BallotParticipation.round_id == round_.id)) is None


def test_a_cast_without_its_csrf_token_or_with_a_wrong_ballot_is_refused(client, world, as_user, voting, voters):
    """The cast no longer builds its form to succeed: the CSRF check before every POST still refuses it."""
    round_, (ramp, bench, _lamp) = voting
    as_user(voters[0])
    url = f"/c/taoyuan/rounds/{round_.id}/vote/cast"
    assert client.post(url, data={"choices": [str(ramp.id)]}, csrf=False).status_code == 400
    forged = client.post(url, data={"choices": [str(ramp.id)], "csrf_token": "forged"}, csrf=False)
    assert forged.status_code == 400
    over = client.post(url, data={"choices": [str(ramp.id), str(bench.id)]})  # over the budget
    assert over.status_code == 422 and "超过预算" in over.get_data(as_text=True)
    assert db.session.scalar(select(BallotParticipation.id).where(BallotParticipation.round_id == round_.id)) is None
    assert client.post(url, data={"choices": [str(ramp.id)]}).status_code == 303


def test_receipt_codes_use_the_whole_alphabet_with_60_random_bits():
    from deliberation.votes import services

    codes = {services.new_receipt_code() for _ in range(2000)}
    assert len(codes) == 2000 and all(len(c) == services.RECEIPT_LENGTH for c in codes)
    assert set("".join(codes)) == set(services.RECEIPT_ALPHABET)
