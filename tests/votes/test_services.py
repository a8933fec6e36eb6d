"""Casting, secrecy, paper ballots, counting and overriding at the service level."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import func, select

from deliberation.core.audit import AuditEvent
from deliberation.core.errors import DomainError
from deliberation.core.secrecy import SealedRow
from deliberation.extensions import db
from deliberation.proposals import services as round_services
from deliberation.proposals.models import CountingRule, RoundPhase
from deliberation.tally import read_pb
from deliberation.votes import exports, services
from deliberation.votes.models import Ballot, BallotParticipation, Channel
from tests.factories import make_resident
from tests.proposals.factories import make_proposal, make_round, move_to


def ballots_count() -> int:
    """Plain ballots and those still sealed while voting is open."""
    return db.session.scalar(select(func.count(Ballot.id))) + db.session.scalar(select(func.count(SealedRow.id)))


def test_cast_records_participation_and_ballot_separately(world, voting, voters):
    round_, (ramp, bench, lamp) = voting
    code = services.cast_ballot(round_, voters[0], choices=[ramp.id, lamp.id])
    assert len(code) == 12
    # While voting is open the ballot is sealed: neither its receipt nor its choices can be read.
    sealed = db.session.scalar(select(SealedRow))
    assert db.session.scalar(select(Ballot)) is None and sealed.scope == services.ballot_scope(round_)
    assert services.receipt_hash(round_.id, code) not in repr(sealed.box) + str(sealed.tag)
    round_services.advance_round(round_, actor=world.secretary)
    ballot = db.session.scalar(select(Ballot))
    participation = db.session.scalar(select(BallotParticipation))
    assert ballot.choices == [ramp.id, lamp.id]
    assert ballot.receipt_hash == services.receipt_hash(round_.id, code)
    assert len(ballot.id) == 32 and not ballot.id.isdigit()
    assert participation.user_id == voters[0].id and participation.channel == Channel.web
    # Nothing ties one to the other: no shared column beyond the round.
    shared = (set(Ballot.__table__.columns.keys()) & set(BallotParticipation.__table__.columns.keys())) - {"round_id", "id", "channel"}
    assert shared == set()
    assert not any(isinstance(c.type, db.DateTime) for c in Ballot.__table__.columns)


def test_a_second_ballot_is_refused(world, voting, voters):
    round_, (ramp, *_rest) = voting
    services.cast_ballot(round_, voters[0], choices=[ramp.id])
    with pytest.raises(DomainError):
        services.cast_ballot(round_, voters[0], choices=[])
    assert ballots_count() == 1


# The husband's room as typed: the same, or with a zero-width space ('808​' looks like '808' in the office's
# queue), which does not make another household.
@pytest.mark.parametrize("room", ["808", "808\u200b"])
def test_one_ballot_per_household_when_the_round_says_so(world, room):
    round_ = make_round(world.community, world.secretary)
    make_proposal(round_, world.resident)
    services.set_ballot_rules(round_, per_household=True, max_approvals=None, must_fit_budget=True,
                              counting_rule=CountingRule.greedy, actor=world.secretary)
    move_to(round_, RoundPhase.voting, world.secretary, party=world.party)
    wife, _ = make_resident(world.community, room="808", login="wife")
    husband, _ = make_resident(world.community, room=room, login="husband")
    services.cast_ballot(round_, wife, choices=[])
    with pytest.raises(DomainError):
        services.cast_ballot(round_, husband, choices=[])


@pytest.mark.parametrize("setup,problem", [
    ({"must_fit_budget": True}, "超过预算"),
    ({"max_approvals": 1, "must_fit_budget": False}, "最多可选 1 个项目"),
])
def test_ballot_rules_are_enforced(world, setup, problem):
    round_ = make_round(world.community, world.secretary, budget=100_000, project_cap=100_000)
    proposer, _ = make_resident(world.community)
    a = make_proposal(round_, proposer, cost=60_000)
    b = make_proposal(round_, proposer, cost=50_000, title="b")
    rules = {"per_household": False, "max_approvals": None, "must_fit_budget": True,
             "counting_rule": CountingRule.greedy, **setup}
    services.set_ballot_rules(round_, actor=world.secretary, **rules)
    move_to(round_, RoundPhase.voting, world.secretary, party=world.party)
    check = services.check_choices(round_, [a.id, b.id])
    assert not check.ok and problem in str(check.problems[0])
    with pytest.raises(DomainError):
        services.cast_ballot(round_, world.resident, choices=[a.id, b.id])
    assert ballots_count() == 0


def test_unknown_project_is_refused(world, voting, voters):
    round_, _items = voting
    with pytest.raises(DomainError):
        services.cast_ballot(round_, voters[0], choices=[999_999])


def test_rules_lock_when_voting_opens(world, voting):
    round_, _items = voting
    with pytest.raises(DomainError):
        services.set_ballot_rules(round_, per_household=False, max_approvals=1, must_fit_budget=True,
                                  counting_rule=CountingRule.greedy, actor=world.secretary)


def test_only_verified_residents_vote(world, voting):
    round_, _items = voting
    for user in (world.unverified, world.admin, world.party):
        with pytest.raises(DomainError):
            services.cast_ballot(round_, user, choices=[])


def test_paper_and_web_block_each_other(world, voting, voters):
    round_, (ramp, *_rest) = voting
    services.mark_paper_voter(round_, voters[0], actor=world.secretary)
    with pytest.raises(DomainError):
        services.cast_ballot(round_, voters[0], choices=[ramp.id])
    services.cast_ballot(round_, voters[1], choices=[ramp.id])
    with pytest.raises(DomainError):
        services.mark_paper_voter(round_, voters[1], actor=world.secretary)


def record_paper_voters(world, round_, count: int) -> None:
    for i in range(count):
        services.mark_paper_voter(round_, make_resident(world.community, login=f"paper{i}")[0], actor=world.secretary)


def test_paper_sheet_counts_only_when_two_operators_agree(world, voting):
    round_, (ramp, bench, lamp) = voting
    record_paper_voters(world, round_, 3)
    status = services.key_paper_sheet(round_, sheet="p-001", choices=[ramp.id], operator=world.secretary)
    assert status.state == "waiting" and ballots_count() == 0
    with pytest.raises(DomainError):  # the same operator cannot confirm their own keying
        services.key_paper_sheet(round_, sheet="P-001", choices=[ramp.id], operator=world.secretary)
    status = services.key_paper_sheet(round_, sheet="P-001", choices=[ramp.id], operator=world.admin)
    assert status.state == "counted" and ballots_count() == 1
    # A mismatch is listed with its reason, never counted, never dropped.
    services.key_paper_sheet(round_, sheet="P-002", choices=[ramp.id], operator=world.secretary)
    services.key_paper_sheet(round_, sheet="P-002", choices=[lamp.id], operator=world.admin)
    # An invalid sheet (over budget) is listed too.
    services.key_paper_sheet(round_, sheet="P-003", choices=[ramp.id, bench.id], operator=world.secretary)
    services.key_paper_sheet(round_, sheet="P-003", choices=[ramp.id, bench.id], operator=world.admin)
    states = {s.sheet: s for s in services.paper_sheets(round_)}
    assert states["P-002"].state == "mismatch" and states["P-002"].reasons
    assert states["P-003"].state == "invalid" and "超过预算" in str(states["P-003"].reasons[0])
    assert ballots_count() == 1
    # Resolving the mismatch: delete the wrong keying, key again correctly.
    wrong = next(e for e in states["P-002"].entries if e.choices == [lamp.id])
    services.delete_paper_entry(wrong, actor=world.secretary)
    services.key_paper_sheet(round_, sheet="P-002", choices=[ramp.id], operator=world.party)
    assert ballots_count() == 2


def test_close_counts_with_greedy_and_publishes_the_result(world, voting, voters):
    round_, (ramp, bench, lamp) = voting
    for voter, choices in zip(voters, [[ramp.id, lamp.id], [ramp.id], [bench.id, lamp.id], [bench.id],
                                       [bench.id], [lamp.id]], strict=True):
        services.cast_ballot(round_, voter, choices=choices)
    round_services.advance_round(round_, actor=world.secretary)
    assert round_.phase == RoundPhase.council_resolution and round_.voting_closed_at is not None
    result = services.result_of(round_)
    # bench 3 votes (50k), lamp 3 votes (30k, cheaper so first), ramp 2 votes (60k) does not fit after both.
    assert result.approvals == {str(ramp.id): 2, str(bench.id): 3, str(lamp.id): 3}
    assert result.winners == [lamp.id, bench.id]
    kinds = [s["kind"] for s in result.steps]
    assert kinds == ["funded", "funded", "skipped_does_not_fit"]
    with pytest.raises(DomainError):
        services.cast_ballot(round_, world.resident, choices=[])


def test_equal_shares_rule_is_used_when_chosen(world):
    round_ = make_round(world.community, world.secretary, budget=100_000, project_cap=100_000)
    proposer, _ = make_resident(world.community)
    a = make_proposal(round_, proposer, cost=60_000)
    b = make_proposal(round_, proposer, cost=40_000, title="b")
    services.set_ballot_rules(round_, per_household=False, max_approvals=None, must_fit_budget=False,
                              counting_rule=CountingRule.equal_shares, actor=world.secretary)
    move_to(round_, RoundPhase.voting, world.secretary, party=world.party)
    for _i in range(3):
        services.cast_ballot(round_, make_resident(world.community)[0], choices=[a.id])
    services.cast_ballot(round_, make_resident(world.community)[0], choices=[b.id])
    round_services.advance_round(round_, actor=world.secretary)
    result = services.result_of(round_)
    assert result.rule == CountingRule.equal_shares and set(result.winners) == {a.id, b.id}


def test_override_needs_a_reason_and_fits_the_budget(world, voting, voters):
    round_, (ramp, bench, lamp) = voting
    services.cast_ballot(round_, voters[0], choices=[lamp.id])
    round_services.advance_round(round_, actor=world.secretary)
    with pytest.raises(DomainError):
        services.override_result(round_, winners=[ramp.id], reason="太短", actor=world.secretary)
    with pytest.raises(DomainError):
        services.override_result(round_, winners=[ramp.id, bench.id], reason="议事会认为坡道更紧迫，需要优先实施",
                                 actor=world.secretary)
    result = services.override_result(round_, winners=[ramp.id, lamp.id], reason="议事会认为坡道更紧迫，需要优先实施",
                                      actor=world.secretary)
    assert result.final_winners == [ramp.id, lamp.id] and result.winners != result.final_winners
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "round.result_overridden")) is not None


def test_export_pb_recounts_to_the_same_result(world, voting, voters, tmp_path):
    from deliberation.tally import winners_from_pb

    round_, (ramp, bench, lamp) = voting
    for voter, choices in zip(voters[:4], [[ramp.id], [bench.id, lamp.id], [bench.id], [lamp.id]], strict=True):
        services.cast_ballot(round_, voter, choices=choices)
    round_services.advance_round(round_, actor=world.secretary)
    path = tmp_path / "round.pb"
    path.write_text(exports.export_pb(round_), encoding="utf-8")
    election = read_pb(path)
    assert len(election.voters) == 4 and all(len(v.id) == 64 for v in election.voters)
    assert election.selected_ids == {str(w) for w in services.result_of(round_).winners}
    assert winners_from_pb(path, "greedy") == [str(w) for w in services.result_of(round_).winners]


def test_no_choice_reaches_the_audit_log_or_the_logs(world, voting, voters, caplog):
    round_, (ramp, bench, lamp) = voting
    marker = lamp.id
    with caplog.at_level(logging.DEBUG):
        services.cast_ballot(round_, voters[0], choices=[marker])
    summaries = " ".join(e.summary + e.object_type for e in db.session.scalars(select(AuditEvent)
                         .where(AuditEvent.action.like("ballot.%"))))
    assert "Ballot" not in summaries.replace("BallotParticipation", "")
    assert f"[{marker}]" not in summaries and "choices" not in summaries
    messages = [record.getMessage() for record in caplog.records]
    assert any("ballot cast in round" in m for m in messages)
    assert not any(f"[{marker}]" in m or "choices" in m for m in messages)


def test_ballots_are_stored_in_hash_order_after_closing(world, voting, voters):
    round_, (ramp, *_rest) = voting
    for voter in voters:
        services.cast_ballot(round_, voter, choices=[ramp.id])
    round_services.advance_round(round_, actor=world.secretary)
    hashes = [b.receipt_hash for b in services.round_ballots(round_)]
    assert hashes == sorted(hashes) and len(hashes) == 6
    assert db.session.scalar(select(func.count(Ballot.id))) == 6


def test_turnout_counts_channels_not_choices(world, voting, voters):
    round_, (ramp, *_rest) = voting
    services.cast_ballot(round_, voters[0], choices=[ramp.id])
    services.mark_paper_voter(round_, voters[1], actor=world.secretary)
    turnout = services.turnout(round_)
    assert (turnout.web, turnout.paper, turnout.total) == (1, 1, 2)
    assert turnout.by_building and turnout.eligible >= 8


def test_resolution_is_prefilled_from_the_result(client, world, as_user, voting, voters):
    round_, (ramp, bench, lamp) = voting
    services.cast_ballot(round_, voters[0], choices=[lamp.id])
    round_services.advance_round(round_, actor=world.secretary)
    as_user(world.secretary)
    page = client.get(f"/c/taoyuan/rounds/{round_.id}/resolution").get_data(as_text=True)
    assert re.search(rf'<input checked[^>]*value="{lamp.id}"', page)
    assert not re.search(rf'<input checked[^>]*value="{ramp.id}"', page)


def test_paper_sheets_never_outnumber_recorded_paper_voters(world, voting):
    """Issue 10: a count took 75 paper ballots from 71 paper voters and said nothing."""
    round_, (ramp, *_rest) = voting
    record_paper_voters(world, round_, 1)
    services.key_paper_sheet(round_, sheet="P-1", choices=[ramp.id], operator=world.secretary)
    with pytest.raises(DomainError) as refused:  # a second sheet for one recorded voter
        services.key_paper_sheet(round_, sheet="P-2", choices=[ramp.id], operator=world.admin)
    assert "1 人登记为纸质投票" in str(refused.value.message)
    services.key_paper_sheet(round_, sheet="P-1", choices=[ramp.id], operator=world.admin)  # the same sheet: fine
    with pytest.raises(DomainError):
        services.key_paper_sheet(round_, sheet="P-3", choices=[ramp.id], operator=world.secretary)
    assert ballots_count() == 1
    assert db.session.scalar(select(func.count(Ballot.id)).where(Ballot.channel == Channel.paper)) \
        <= services.paper_voter_count(round_)


@pytest.mark.parametrize("scene, todo", [
    ("keyed_once", "只录入了一次"),
    ("mismatch", "两次录入不一致"),
    ("missing", "只录入了 0 张"),
])
def test_closing_is_refused_until_the_paper_ballots_reconcile(world, voting, voters, scene, todo):
    round_, (ramp, bench, lamp) = voting
    services.cast_ballot(round_, voters[0], choices=[ramp.id])
    record_paper_voters(world, round_, 1)
    if scene != "missing":
        services.key_paper_sheet(round_, sheet="P-1", choices=[ramp.id], operator=world.secretary)
    if scene == "mismatch":
        services.key_paper_sheet(round_, sheet="P-1", choices=[lamp.id], operator=world.admin)
    with pytest.raises(DomainError) as refused:
        round_services.advance_round(round_, actor=world.secretary)
    assert todo in str(refused.value.message) and "暂时不能进入“议事会决议”" in str(refused.value.message)
    assert round_.phase == RoundPhase.voting and services.result_of(round_) is None
    report = services.paper_reconciliation(round_)
    assert not report.ok and report.voters == 1
    assert (report.keyed_once, report.mismatched) == ((1, 0) if scene == "keyed_once" else
                                                      (0, 1) if scene == "mismatch" else (0, 0))


def test_a_reconciled_count_takes_every_paper_sheet_once(world, voting, voters):
    round_, (ramp, bench, lamp) = voting
    record_paper_voters(world, round_, 3)
    for sheet, choices in [("P-1", [ramp.id]), ("P-2", [lamp.id]), ("P-3", [ramp.id, bench.id])]:  # P-3 invalid
        services.key_paper_sheet(round_, sheet=sheet, choices=choices, operator=world.secretary)
        services.key_paper_sheet(round_, sheet=sheet, choices=choices, operator=world.admin)
    report = services.paper_reconciliation(round_)
    assert (report.voters, report.keyed_once, report.matching, report.mismatched, report.invalid) == (3, 0, 2, 0, 1)
    assert report.ok
    round_services.advance_round(round_, actor=world.secretary)
    assert services.result_of(round_).ballots_counted == 2


def test_operators_are_told_about_the_resident_not_addressed_as_the_voter(world, voting, voters):
    round_, (ramp, bench, lamp) = voting
    services.cast_ballot(round_, voters[0], choices=[ramp.id])
    with pytest.raises(DomainError) as refused:
        services.mark_paper_voter(round_, voters[0], actor=world.secretary)
    message = str(refused.value.message)
    assert voters[0].display_name in message and "您" not in message
    unverified, _ = make_resident(world.community, verified=False, login="waiting")
    with pytest.raises(DomainError) as refused:
        services.mark_paper_voter(round_, unverified, actor=world.secretary)
    assert unverified.display_name in str(refused.value.message)
    round_.max_approvals = 1
    record_paper_voters(world, round_, 1)
    services.key_paper_sheet(round_, sheet="P-1", choices=[ramp.id, lamp.id], operator=world.secretary)
    services.key_paper_sheet(round_, sheet="P-1", choices=[ramp.id, lamp.id], operator=world.admin)
    (sheet,) = services.paper_sheets(round_)
    assert sheet.state == "invalid" and "您" not in " ".join(str(r) for r in sheet.reasons)


def test_a_lost_sheet_stops_blocking_closing_once_its_paper_record_is_withdrawn(world, voting, voters):
    """A recorded paper voter whose sheet is lost used to keep voting from ever closing."""
    from deliberation.core.audit import AuditEvent

    round_, (ramp, bench, lamp) = voting
    services.mark_paper_voter(round_, voters[0], actor=world.secretary)
    services.mark_paper_voter(round_, voters[1], actor=world.secretary)
    for operator in (world.secretary, world.admin):
        services.key_paper_sheet(round_, sheet="P-1", choices=[ramp.id], operator=operator)
    assert not services.paper_reconciliation(round_).ok  # two paper voters, one sheet: the other is lost
    record = next(p for p in services.paper_voters(round_) if p.user_id == voters[1].id)
    with pytest.raises(DomainError):  # a reason is required
        services.withdraw_paper_voter(round_, record, reason=" ", actor=world.secretary)
    services.withdraw_paper_voter(round_, record, reason="选票遗失", actor=world.secretary)
    assert services.paper_reconciliation(round_).ok
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "ballot.paper_voter_withdrawn"))
    assert "选票遗失" in event.summary and voters[1].login in event.summary
    services.cast_ballot(round_, voters[1], choices=[lamp.id])  # the resident may vote again
    with pytest.raises(DomainError):  # a web participation is not a paper record
        services.withdraw_paper_voter(round_, services.participation_of(round_, voters[1]), reason="有误",
                                      actor=world.secretary)
    round_services.advance_round(round_, actor=world.secretary)
    assert services.result_of(round_).ballots_counted == 2
    with pytest.raises(DomainError):  # nothing changes after closing
        services.withdraw_paper_voter(round_, services.paper_voters(round_)[0], reason="太迟了", actor=world.secretary)
