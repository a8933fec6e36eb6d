"""Changed and cancelled sessions: council members hear of a council meeting's changes and cancellation;
the community's verified residents hear of open consultations and hearings noticed, changed, cancelled."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from deliberation.consultations import services as sessions
from deliberation.consultations.models import SessionKind, SessionStatus
from deliberation.core.audit import AuditEvent
from deliberation.extensions import db
from deliberation.notifications import worker
from deliberation.notifications.models import InboxItem, OutboxMessage
from tests.councils.factories import make_council, make_session
from tests.factories import make_resident

from .conftest import with_email


def titles(user) -> list[str]:
    return list(db.session.scalars(select(InboxItem.title).where(InboxItem.user_id == user.id)
                                   .order_by(InboxItem.id)))


def _fields(session, **changes):
    values = {"kind": session.kind, "title": session.title, "starts_at": session.starts_at, "place": session.place}
    values.update(changes)
    return sessions.SessionFields(**values)


def test_cancelling_a_noticed_meeting_tells_every_member_with_the_reason(as_user, world, smtp):
    council = make_council(world.community, world.admin, members=3, seat_users=[world.resident])
    session = make_session(world.community, world.secretary, council)
    sessions.notice_session(session, actor=world.secretary)
    address = with_email(world.resident)
    client = as_user(world.secretary)
    url = f"/c/taoyuan/sessions/{session.id}/cancel"
    assert client.get(url).status_code == 200
    # Without the confirmation the page asks first and nothing changes.
    response = client.post(url, data={"reason": "台风红色预警，暂停集会"})
    assert response.status_code == 200 and session.status == SessionStatus.noticed
    assert client.post(url, data={"reason": "", "confirmed": "1"}).status_code == 422
    response = client.post(url, data={"reason": "台风红色预警，暂停集会", "confirmed": "1"})
    assert response.status_code == 303
    assert session.status == SessionStatus.cancelled and session.cancel_reason == "台风红色预警，暂停集会"
    for member in council.members:
        assert titles(member.user)[-1] == "议事会会议取消：第三届议事会第5次会议"
    worker.run_once()
    [message] = [m for m in smtp.to(address) if "取消" in m["Subject"]]
    assert "台风红色预警，暂停集会" in message.get_content()
    page = as_user(world.resident).get(f"/c/taoyuan/sessions/{session.id}").get_data(as_text=True)
    assert 'data-testid="cancelled"' in page and "台风红色预警，暂停集会" in page
    assert db.session.scalar(select(AuditEvent.summary).where(AuditEvent.action == "session.cancelled")) \
        == "台风红色预警，暂停集会"


def test_a_started_session_cannot_be_cancelled_and_others_may_not(as_user, world):
    council = make_council(world.community, world.admin, members=3)
    session = make_session(world.community, world.secretary, council)
    sessions.notice_session(session, actor=world.secretary)
    url = f"/c/taoyuan/sessions/{session.id}/cancel"
    assert as_user(world.resident).post(url, data={"reason": "x", "confirmed": "1"}).status_code == 403
    sessions.start_session(session, urgent_reason="紧急", actor=world.secretary)
    db.session.commit()
    assert as_user(world.secretary).post(url, data={"reason": "x", "confirmed": "1"}).status_code == 403
    assert session.status == SessionStatus.in_session


def test_cancelling_a_draft_tells_no_one_and_it_stays_private(client, world):
    council = make_council(world.community, world.admin, members=3)
    session = make_session(world.community, world.secretary, council)
    sessions.cancel_session(session, reason="议题已合并到下次会议", actor=world.secretary)
    db.session.commit()
    assert db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "meeting_cancelled")) is None
    assert client.get(f"/c/taoyuan/sessions/{session.id}").status_code != 200  # to the sign-in page


def test_a_changed_time_tells_the_members_but_a_save_without_changes_does_not(world):
    council = make_council(world.community, world.admin, members=3)
    session = make_session(world.community, world.secretary, council)
    sessions.notice_session(session, actor=world.secretary)
    sessions.update_session(session, fields=_fields(session), actor=world.secretary)
    assert db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "meeting_changed")) is None
    sessions.update_session(session, fields=_fields(session, starts_at=session.starts_at + timedelta(hours=2)),
                            actor=world.secretary)
    for member in council.members:
        assert titles(member.user)[-1] == "议事会会议变更：第三届议事会第5次会议"


def test_residents_hear_of_an_open_consultation_noticed_changed_and_cancelled(world):
    council = make_council(world.community, world.admin, members=3)
    unverified, _ = make_resident(world.community, verified=False, login="not-yet-verified")
    elsewhere, _ = make_resident(world.other, login="other-community")
    session = make_session(world.community, world.secretary, None, kind=SessionKind.consultation,
                           title="龙辉花园停车协商会")
    sessions.notice_session(session, actor=world.secretary)
    assert titles(world.resident)[-1] == "协商会通知：龙辉花园停车协商会"
    assert not any("协商会" in t for t in titles(unverified) + titles(elsewhere))
    sessions.update_session(session, fields=_fields(session, place="龙辉花园会所"), actor=world.secretary)
    assert titles(world.resident)[-1] == "协商会变更：龙辉花园停车协商会"
    sessions.cancel_session(session, reason="改为线上征求意见", actor=world.secretary)
    assert titles(world.resident)[-1] == "协商会取消：龙辉花园停车协商会"
    body = db.session.scalar(select(InboxItem.body).where(InboxItem.user_id == world.resident.id)
                             .order_by(InboxItem.id.desc()))
    assert "改为线上征求意见" in body
    # Not a council meeting: council members who are not residents of it hear nothing of it.
    assert titles(council.members[0].user)[-1] == "协商会取消：龙辉花园停车协商会"  # a verified resident too


def test_a_hearing_says_hearing(world):
    session = make_session(world.community, world.secretary, None, kind=SessionKind.hearing,
                           title="加装电梯听证会")
    sessions.notice_session(session, actor=world.secretary)
    assert titles(world.resident)[-1] == "听证会通知：加装电梯听证会"
