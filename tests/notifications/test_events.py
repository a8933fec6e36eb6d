"""Each event notifies its people end to end: through the request that makes the change, to the inbox,
the outbox and (for e-mail) the local SMTP server."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from deliberation.extensions import db
from deliberation.notifications import events, services, worker
from deliberation.notifications.models import Channel, InboxItem
from deliberation.proposals.models import RoundPhase
from tests.councils.factories import make_council, make_session
from tests.proposals.factories import make_proposal, make_round, move_to

from .conftest import with_email


def inbox_titles(user) -> list[str]:
    return list(db.session.scalars(select(InboxItem.title).where(InboxItem.user_id == user.id)
                                   .order_by(InboxItem.id)))


def test_noticing_a_council_meeting_notifies_every_member_and_records_delivery_times(as_user, world, smtp):
    council = make_council(world.community, world.admin, members=5, seat_users=[world.resident])
    session = make_session(world.community, world.secretary, council)
    address = with_email(world.resident)
    response = as_user(world.secretary).post(f"/c/taoyuan/sessions/{session.id}/notice", data={"confirmed": "1"})
    assert response.status_code == 303
    members = [m.user for m in council.members]
    for member in members:
        assert inbox_titles(member)[-1] == "议事会会议通知：第三届议事会第5次会议"
    assert world.secretary not in members and not any("议事会会议通知" in t for t in inbox_titles(world.secretary))
    worker.run_once()
    [message] = smtp.to(address)
    assert "社区党群服务中心" in message.get_content()
    assert f"/c/taoyuan/sessions/{session.id}" in message.get_content()
    proof = events.notice_deliveries(session)
    by_member = {(row.user_id, row.channel): row.delivered_at for row in proof}
    assert {user_id for user_id, _ in by_member} == {m.id for m in members}
    assert all(by_member[m.id, Channel.inbox] for m in members)  # in-app: when the notice was committed
    assert by_member[world.resident.id, Channel.email] is not None


def test_a_failing_notice_request_sends_nothing(as_user, world, monkeypatch):
    council = make_council(world.community, world.admin, members=3)
    session = make_session(world.community, world.secretary, council)
    db.session.commit()

    def fails_after_writing(*args, **kwargs):
        raise RuntimeError("the request fails after the outbox was written")

    monkeypatch.setattr(services.log, "info", fails_after_writing)
    with pytest.raises(RuntimeError):
        as_user(world.secretary).post(f"/c/taoyuan/sessions/{session.id}/notice", data={"confirmed": "1"})
    assert events.notice_deliveries(session) == []
    assert db.session.scalar(select(InboxItem).where(InboxItem.key.startswith(events.meeting_key(session)))) is None


def test_opening_the_vote_notifies_verified_residents_only(as_user, world, smtp):
    round_ = make_round(world.community, world.secretary)
    make_proposal(round_, world.resident)
    move_to(round_, RoundPhase.branch_review, world.secretary)
    address = with_email(world.resident)
    response = as_user(world.party).post(f"/c/taoyuan/rounds/{round_.id}/advance", data={"confirmed": "1"})
    assert response.status_code == 303
    assert inbox_titles(world.resident)[-1] == "投票开始：2027年度民生微实事"
    assert inbox_titles(world.secretary)[-1] == "投票开始：2027年度民生微实事"
    assert not any(t.startswith("投票开始") for t in inbox_titles(world.unverified))
    assert not any(t.startswith("投票开始") for t in inbox_titles(world.admin))  # no residency
    worker.run_once()
    [message] = [m for m in smtp.to(address) if m["Subject"].startswith("投票开始")]
    assert f"/c/taoyuan/rounds/{round_.id}/vote" in message.get_content()


def test_verification_approved_and_rejected_tell_the_resident(as_user, world):
    pending = world.pending
    response = as_user(world.admin).post(f"/c/taoyuan/admin/residents/{pending.id}/verify")
    assert response.status_code in (200, 303)
    assert inbox_titles(world.unverified)[-1] == "您在桃源社区的居住信息已核实"

    from tests.factories import make_resident

    other, residency = make_resident(world.community, verified=False)
    as_user(world.admin).post(f"/c/taoyuan/admin/residents/{residency.id}/reject", data={"reason": "名册中无此房号"})
    [title] = inbox_titles(other)
    assert title == "您在桃源社区的居住信息未通过核实"
    item = db.session.scalar(select(InboxItem).where(InboxItem.user_id == other.id))
    assert item.body == "原因：名册中无此房号"
