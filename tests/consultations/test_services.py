"""Sessions from notice to minutes: lifecycle, attendance, speakers, motions, resolutions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from deliberation.consultations import services
from deliberation.consultations.models import CountMethod, SessionKind, SessionStatus, VoteChoice
from deliberation.core.audit import AuditEvent
from deliberation.core.errors import DomainError
from deliberation.core.models import utcnow
from deliberation.councils.rules import Outcome
from deliberation.extensions import db
from deliberation.notifications.services import mark_read
from deliberation.proposals.models import ProposalStatus, RoundPhase
from deliberation.votes import services as votes
from tests.councils.factories import make_session, members, start
from tests.factories import make_resident
from tests.proposals.factories import make_proposal, make_round, move_to


def sign_in_all(session, users):
    for user in users:
        services.sign_in(session, user)


def test_council_meeting_cannot_start_before_the_notice_period_without_an_urgent_reason(world, council):
    session = make_session(world.community, world.secretary, council)
    services.notice_session(session, actor=world.secretary)
    with pytest.raises(DomainError) as error:
        services.start_session(session, actor=world.secretary)
    assert error.value.field == "urgent_reason"
    assert session.status == SessionStatus.noticed
    later = utcnow() + timedelta(days=3, minutes=1)
    with pytest.raises(DomainError):  # the period has run, but no member was proven notified
        services.start_session(session, actor=world.secretary, now=later)
    for member in council.members:  # every member read the notice in the inbox
        mark_read(member.user)
    services.start_session(session, actor=world.secretary, now=later)
    assert session.status == SessionStatus.in_session and session.urgent_reason is None


def test_urgent_reason_lets_the_meeting_start_at_once_and_is_kept(world, council):
    session = make_session(world.community, world.secretary, council)
    services.notice_session(session, actor=world.secretary)
    services.start_session(session, urgent_reason="暴雨后紧急抢修", actor=world.secretary)
    assert session.status == SessionStatus.in_session and session.urgent_reason == "暴雨后紧急抢修"
    assert session.current_item_id == session.items[0].id


def test_notice_needs_an_agenda_and_status_order_is_enforced(world, council):
    session = make_session(world.community, world.secretary, council, items=0)
    with pytest.raises(DomainError):
        services.notice_session(session, actor=world.secretary)
    with pytest.raises(DomainError):
        services.adjourn_session(session, actor=world.secretary)
    with pytest.raises(DomainError):
        services.publish_minutes(session, summary="", actor=world.secretary)


def test_agenda_items_reorder_and_renumber(world, council):
    session = make_session(world.community, world.secretary, council, items=3)
    first, second, third = session.items
    services.move_item(third, offset=-1, actor=world.secretary)
    assert [i.title for i in session.items] == ["议题1", "议题3", "议题2"]
    services.move_item(first, offset=-1, actor=world.secretary)  # already first: stays
    assert session.items[0].title == "议题1"
    services.remove_item(session.items[1], actor=world.secretary)
    assert [(i.position, i.title) for i in session.items] == [(1, "议题1"), (2, "议题2")]


def test_only_members_sign_in_to_a_council_meeting_and_quorum_follows(world, council):
    session = make_session(world.community, world.secretary, council)
    start(session, world.secretary)
    with pytest.raises(DomainError):
        services.sign_in(session, world.secretary)  # a resident, not a member
    people = members(council)
    sign_in_all(session, people[:10])
    q = services.quorum(session)
    assert (q.present, q.required, q.members, q.met) == (10, 11, 15, False)
    services.sign_in(session, people[10], recorded_by=world.secretary)
    services.sign_in(session, people[10])  # a second sign-in changes nothing
    assert services.quorum(session).met and services.quorum(session).present == 11


def test_member_votes_once_absent_members_and_late_votes_are_refused(world, council):
    session = make_session(world.community, world.secretary, council)
    start(session, world.secretary)
    people = members(council)
    sign_in_all(session, people[:11])
    motion = services.open_motion(session.items[0], text="同意修缮3栋坡道", actor=world.secretary)
    services.cast_vote(motion, people[0], VoteChoice.yes)
    with pytest.raises(DomainError):
        services.cast_vote(motion, people[0], VoteChoice.no)
    with pytest.raises(DomainError) as error:
        services.cast_vote(motion, people[14], VoteChoice.yes)  # not present
    assert error.value.status_code == 403
    assert services.votes_cast(motion) == 1
    services.close_motion(motion, actor=world.secretary)
    with pytest.raises(DomainError):
        services.cast_vote(motion, people[1], VoteChoice.yes)


def test_outcome_with_the_arithmetic_shown(world, council):
    session = make_session(world.community, world.secretary, council)
    start(session, world.secretary)
    people = members(council)
    sign_in_all(session, people[:12])
    motion = services.open_motion(session.items[0], text="同意", actor=world.secretary)
    for person, choice in zip(people[:12], [VoteChoice.yes] * 9 + [VoteChoice.no, VoteChoice.abstain,
                                                                    VoteChoice.no], strict=True):
        services.cast_vote(motion, person, choice)
    decision = services.close_motion(motion, actor=world.secretary)
    assert decision.outcome == Outcome.passed and motion.outcome == Outcome.passed
    with force_locale("en"):
        text = services.explain(motion)
    assert "9 of 15 members voted yes" in text and "(8) was required" in text


def test_late_arrival_can_vote_and_restores_the_quorum(world, council):
    session = make_session(world.community, world.secretary, council)
    start(session, world.secretary)
    people = members(council)
    sign_in_all(session, people[:10])
    motion = services.open_motion(session.items[0], text="同意", actor=world.secretary)
    services.sign_in(session, people[10])
    for person in people[:11]:
        services.cast_vote(motion, person, VoteChoice.yes)
    assert services.close_motion(motion, actor=world.secretary).outcome == Outcome.passed


def test_no_quorum_outcome(world, council):
    session = make_session(world.community, world.secretary, council)
    start(session, world.secretary)
    people = members(council)
    sign_in_all(session, people[:9])
    motion = services.open_motion(session.items[0], text="同意", actor=world.secretary)
    for person in people[:9]:
        services.cast_vote(motion, person, VoteChoice.yes)
    services.close_motion(motion, actor=world.secretary)
    assert motion.outcome == Outcome.no_quorum
    with force_locale("en"):
        assert "9 of 15 members were present; 11 are needed" in services.explain(motion)
    assert "15 名成员中到会 9 人" in services.explain(motion)


def test_roll_call_and_show_of_hands(world, council):
    session = make_session(world.community, world.secretary, council)
    start(session, world.secretary)
    people = members(council)
    sign_in_all(session, people[:12])
    motion = services.open_motion(session.items[0], text="举手表决", actor=world.secretary,
                                  method=CountMethod.show_of_hands)
    with pytest.raises(DomainError):
        services.cast_vote(motion, people[0], VoteChoice.yes)
    with pytest.raises(DomainError):
        services.close_motion(motion, actor=world.secretary, hands=(10, 2, 1))  # 13 hands, 12 present
    services.close_motion(motion, actor=world.secretary, hands=(7, 4, 1))
    assert motion.outcome == Outcome.failed  # 7 < 8 of all members
    roll = services.open_motion(session.items[0], text="点名表决", actor=world.secretary, method=CountMethod.roll_call)
    vote = services.cast_vote(roll, people[3], VoteChoice.no, recorded_by=world.secretary)
    assert vote.recorded_by_id == world.secretary.id


def test_passed_resolution_motion_funds_the_ballot_winners_and_moves_the_round(world, council):
    round_ = make_round(world.community, world.secretary, budget=100_000, project_cap=100_000)
    proposer, _ = make_resident(world.community, login="proposer")
    ramp, bench, lamp = [make_proposal(round_, proposer, title=t, cost=c)
                         for t, c in [("坡道", 60_000), ("座椅", 50_000), ("路灯", 30_000)]]
    move_to(round_, RoundPhase.voting, world.secretary, party=world.party)
    votes.cast_ballot(round_, proposer, choices=[bench.id, lamp.id])
    move_to(round_, RoundPhase.council_resolution, world.secretary)
    session = make_session(world.community, world.secretary, council, items=0)
    from deliberation.consultations.services import ItemFields, add_item

    item = add_item(session, fields=ItemFields(title="审议项目清单", round_id=round_.id), actor=world.secretary)
    start(session, world.secretary)
    people = members(council)
    sign_in_all(session, people[:12])
    motion = services.open_motion(item, text="同意资助投票结果中的项目", actor=world.secretary)
    assert sorted(motion.funded_ids) == sorted([bench.id, lamp.id])
    for person in people[:8]:
        services.cast_vote(motion, person, VoteChoice.yes)
    services.close_motion(motion, actor=world.secretary)
    assert round_.phase == RoundPhase.publicity
    assert (bench.status, lamp.status, ramp.status) == (ProposalStatus.funded, ProposalStatus.funded,
                                                        ProposalStatus.not_funded)


def test_failed_resolution_motion_leaves_the_round_waiting(world, council):
    round_ = make_round(world.community, world.secretary)
    proposer, _ = make_resident(world.community, login="proposer")
    make_proposal(round_, proposer)
    move_to(round_, RoundPhase.council_resolution, world.secretary, party=world.party)
    session = make_session(world.community, world.secretary, council, items=0)
    item = services.add_item(session, fields=services.ItemFields(title="项目清单", round_id=round_.id),
                             actor=world.secretary)
    start(session, world.secretary)
    sign_in_all(session, members(council)[:12])
    motion = services.open_motion(item, text="同意", actor=world.secretary)
    services.close_motion(motion, actor=world.secretary)
    assert motion.outcome == Outcome.failed and round_.phase == RoundPhase.council_resolution


def test_open_consultation_any_verified_resident_joins_and_motions_are_advisory(world, council):
    round_ = make_round(world.community, world.secretary)
    proposer, _ = make_resident(world.community, login="proposer")
    make_proposal(round_, proposer)
    move_to(round_, RoundPhase.council_resolution, world.secretary, party=world.party)
    session = make_session(world.community, world.secretary, council, kind=SessionKind.consultation, items=0)
    item = services.add_item(session, fields=services.ItemFields(title="听取意见", round_id=round_.id),
                             actor=world.secretary)
    start(session, world.secretary)
    with pytest.raises(DomainError):
        services.sign_in(session, world.unverified)
    services.sign_in(session, world.resident)
    services.sign_in(session, proposer)
    slot = services.request_to_speak(session, world.resident)
    assert slot.waiting
    motion = services.open_motion(item, text="建议优先坡道", actor=world.secretary)
    assert motion.advisory and motion.round_id is None
    services.cast_vote(motion, world.resident, VoteChoice.yes)
    services.cast_vote(motion, proposer, VoteChoice.yes)
    services.close_motion(motion, actor=world.secretary)
    assert motion.outcome == Outcome.passed and round_.phase == RoundPhase.council_resolution


def test_speaker_queue_order_and_server_side_countdown(world, council):
    session = make_session(world.community, world.secretary, council)
    start(session, world.secretary)
    a, b, c = members(council)[:3]
    sign_in_all(session, [a, b, c])
    slots = [services.request_to_speak(session, u) for u in (a, b, c)]
    with pytest.raises(DomainError):
        services.request_to_speak(session, a)
    services.move_speaker(slots[2], offset=-2, actor=world.secretary)
    assert [s.user_id for s in services.speaker_queue(session)] == [c.id, a.id, b.id]
    started = utcnow() - timedelta(seconds=70)
    services.start_speaker(slots[2], actor=world.secretary, now=started)
    assert slots[2].remaining_seconds() in (109, 110)
    assert slots[2].remaining_seconds(now=started + timedelta(minutes=5)) == 0
    services.start_speaker(slots[0], actor=world.secretary)  # ends c's turn
    assert slots[2].ended_at is not None and slots[0].speaking


def test_minutes_are_read_only_after_publication_except_a_correction(world, council):
    session = make_session(world.community, world.secretary, council)
    start(session, world.secretary)
    item = session.items[0]
    services.save_item_minutes(item, text="会议同意", actor=world.secretary)
    services.adjourn_session(session, actor=world.secretary)
    services.publish_minutes(session, summary="会议顺利召开", actor=world.secretary)
    with pytest.raises(DomainError):
        services.save_item_minutes(item, text="改动", actor=world.secretary)
    with pytest.raises(DomainError):
        services.correct_minutes(session, item=item, text="改动", reason="", actor=world.secretary)
    services.correct_minutes(session, item=item, text="会议一致同意", reason="记录有误", actor=world.secretary)
    assert item.minutes_text == "会议一致同意"
    assert [c.old_text for c in services.corrections_of(session)] == ["会议同意"]


def test_adjourning_requires_closing_the_open_motion(world, council):
    session = make_session(world.community, world.secretary, council)
    start(session, world.secretary)
    services.open_motion(session.items[0], text="同意", actor=world.secretary)
    with pytest.raises(DomainError):
        services.adjourn_session(session, actor=world.secretary)


def test_secretary_enters_votes_only_by_roll_call_or_for_members_without_a_phone(world, council):
    """Issue 10: a secretary recorded a named vote for a member on a phone motion; the member's own vote
    was then refused, and nothing audited or showed it."""
    session = make_session(world.community, world.secretary, council)
    start(session, world.secretary)
    people = members(council)
    sign_in_all(session, people[:11])
    services.sign_in(session, people[11], recorded_by=world.secretary, without_phone=True)
    motion = services.open_motion(session.items[0], text="同意加装坡道", actor=world.secretary)
    with pytest.raises(DomainError) as refused:  # a member with a phone votes on it themselves
        services.cast_vote(motion, people[0], VoteChoice.no, recorded_by=world.secretary)
    assert people[0].display_name in str(refused.value.message) and "自己的手机" in str(refused.value.message)
    services.cast_vote(motion, people[0], VoteChoice.yes)  # ... and can still do so
    with pytest.raises(DomainError) as refused:  # never overwritten
        services.cast_vote(motion, people[0], VoteChoice.no, recorded_by=world.secretary)
    assert "不能更改" in str(refused.value.message)
    assert motion.votes[0].choice == VoteChoice.yes and motion.votes[0].recorded_by_id is None
    entered = services.cast_vote(motion, people[11], VoteChoice.no, recorded_by=world.secretary)
    assert entered.entered_by_secretary
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "motion.vote")
                                .order_by(AuditEvent.id)).all()
    assert [e.actor_id for e in events] == [people[0].id, world.secretary.id]
    assert people[11].login in events[1].summary and "entered by" in events[1].summary
    # A roll-call motion: the secretary enters every answer; members do not vote on their phones.
    services.close_motion(motion, actor=world.secretary)
    roll = services.open_motion(session.items[0], text="点名表决", actor=world.secretary, method=CountMethod.roll_call)
    with pytest.raises(DomainError):
        services.cast_vote(roll, people[1], VoteChoice.yes)
    services.cast_vote(roll, people[1], VoteChoice.yes, recorded_by=world.secretary)


def test_ticking_a_member_without_a_phone_is_audited_and_can_be_undone(world, council):
    session = make_session(world.community, world.secretary, council)
    start(session, world.secretary)
    member = members(council)[0]
    attendance = services.sign_in(session, member, recorded_by=world.secretary, without_phone=True)
    assert attendance.without_phone and attendance.recorded_by_id == world.secretary.id
    services.sign_in(session, member, recorded_by=world.secretary, without_phone=False)
    assert not attendance.without_phone
    assert services.sign_in(session, member).without_phone is False  # a member's own sign-in never sets it
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("attendance.%"))
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["attendance.ticked", "attendance.updated"]


def test_saving_the_minutes_draft_is_a_service_and_is_audited(world, council):
    from sqlalchemy import select

    from deliberation.core.audit import AuditEvent
    from deliberation.extensions import db

    session = make_session(world.community, world.secretary, council)
    start(session, world.secretary)
    item = session.items[0]
    services.save_minutes(session, item_texts={item.id: "同意加装坡道。"}, summary="会议有效。", actor=world.secretary)
    assert item.minutes_text == "同意加装坡道。" and session.minutes_summary == "会议有效。"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "minutes.saved")) is not None
    services.adjourn_session(session, actor=world.secretary)
    services.publish_minutes(session, actor=world.secretary)
    assert session.minutes_summary == "会议有效。"  # publishing keeps what was saved
    with pytest.raises(DomainError):
        services.save_minutes(session, item_texts={}, summary="改动", actor=world.secretary)


def test_the_councils_rules_and_members_hold_while_a_motion_is_open(world, council):
    """The office may not lower the pass mark, or unseat members, while a motion is being voted: the motion is
    decided by the rules and members it was opened under (as a round's ballot rules lock when voting opens)."""
    from dataclasses import replace

    from deliberation.councils import services as councils
    from deliberation.councils.models import SeatType

    session = make_session(world.community, world.secretary, council)
    start(session, world.secretary)
    people = members(council)
    sign_in_all(session, people[:12])
    motion = services.open_motion(session.items[0], text="同意", actor=world.secretary)
    for person, choice in zip(people[:12], [VoteChoice.yes] * 6 + [VoteChoice.no] * 6, strict=True):
        services.cast_vote(motion, person, choice)
    settings = councils.CouncilSettings(**{f: getattr(council, f) for f in councils.CouncilSettings.__dataclass_fields__})
    newcomer, _ = make_resident(world.community)
    with pytest.raises(DomainError) as refused:  # more than a third of all members would let 6 of 15 pass
        councils.update_council(council, settings=replace(settings, pass_num=1, pass_den=3), actor=world.admin)
    assert "正在表决" in str(refused.value.message)
    with pytest.raises(DomainError):  # nor can the 'no' voters be unseated to shrink the basis
        councils.remove_member(council.members[-1], actor=world.admin)
    with pytest.raises(DomainError):
        councils.add_member(council, newcomer, seat=SeatType.elected_resident, actor=world.admin)
    assert services.close_motion(motion, actor=world.secretary).outcome == Outcome.failed  # 6 of 15: not > half
    councils.update_council(council, settings=replace(settings, notice_days=5), actor=world.admin)  # closed: free


def test_unseating_a_member_during_a_vote_is_refused_on_the_members_page(client, world, council):
    session = make_session(world.community, world.secretary, council)
    start(session, world.secretary)
    services.open_motion(session.items[0], text="同意", actor=world.secretary)
    member = council.members[-1]
    from tests.conftest import login_as

    login_as(client, world.admin)
    url = f"/c/taoyuan/council/{council.id}/members"
    response = client.post(f"{url}/{member.id}/remove")
    assert response.status_code == 303 and response.headers["Location"] == url
    page = client.get(url).get_data(as_text=True)
    assert "正在表决" in page and page.count('data-testid="council-member"') == 15
