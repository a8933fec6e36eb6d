"""Notice proof: a council meeting starts without an urgent reason only when every member was notified
(e-mail or SMS delivered, or the inbox item read) at least the notice period before; the minutes list
when each member was notified, per channel."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from docx import Document
from sqlalchemy import select, update

from deliberation.consultations import services as sessions
from deliberation.consultations.models import SessionStatus
from deliberation.core.audit import AuditEvent
from deliberation.core.errors import DomainError
from deliberation.core.models import utcnow
from deliberation.extensions import db
from deliberation.notifications import events, services, worker
from deliberation.notifications.models import Channel, OutboxMessage
from tests.councils.factories import make_council, make_session

from .conftest import with_email

LATER = timedelta(days=3, minutes=5)  # the council's notice period (3 days) and a little


@pytest.fixture
def meeting(world, smtp):
    """A noticed meeting of a 3-member council; members 0 and 1 have e-mail addresses and phones (delivered
    by one worker run), member 2 has neither and has not opened the inbox."""
    council = make_council(world.community, world.admin, members=3)
    people = [m.user for m in council.members]
    people[2].phone = None
    with_email(people[0])
    with_email(people[1])
    session = make_session(world.community, world.secretary, council)
    sessions.notice_session(session, actor=world.secretary)
    db.session.commit()
    worker.run_once()
    return session, people


def test_a_member_not_notified_stops_the_start_and_is_named(world, meeting):
    session, people = meeting
    with pytest.raises(DomainError) as error:
        sessions.start_session(session, actor=world.secretary, now=utcnow() + LATER)
    assert error.value.field == "urgent_reason"
    message = str(error.value.message)
    assert people[2].display_name in message
    assert people[0].display_name not in message and people[1].display_name not in message
    assert session.status == SessionStatus.noticed


def test_reading_the_notice_in_the_inbox_counts_as_notified(world, meeting):
    session, people = meeting
    services.mark_read(people[2])
    sessions.start_session(session, actor=world.secretary, now=utcnow() + LATER)
    assert session.status == SessionStatus.in_session and session.urgent_reason is None


def test_an_unread_inbox_item_alone_does_not_count(world, meeting):
    session, people = meeting
    notices = {n.user.id: n for n in events.member_notices(session)}
    assert notices[people[2].id].inbox_at is not None and notices[people[2].id].notified_at is None
    assert notices[people[0].id].notified_at == notices[people[0].id].email_at is not None


def test_an_e_mail_delivered_late_counts_from_its_delivery(world, meeting):
    session, people = meeting
    services.mark_read(people[2])
    # Member 0's e-mail and SMS went out one day after the notice (quiet hours, a mail server down ...).
    db.session.execute(update(OutboxMessage).where(OutboxMessage.user_id == people[0].id,
                                                   OutboxMessage.channel != Channel.inbox)
                       .values(delivered_at=utcnow() + timedelta(days=1)))
    with pytest.raises(DomainError) as error:
        sessions.start_session(session, actor=world.secretary, now=utcnow() + LATER)
    assert people[0].display_name in str(error.value.message)
    sessions.start_session(session, actor=world.secretary, now=utcnow() + LATER + timedelta(days=1))
    assert session.status == SessionStatus.in_session


def test_a_failed_delivery_does_not_count(world, meeting):
    session, people = meeting
    services.mark_read(people[2])
    db.session.execute(update(OutboxMessage).where(OutboxMessage.user_id == people[1].id,
                                                   OutboxMessage.channel != Channel.inbox)
                       .values(status="failed"))
    with pytest.raises(DomainError) as error:
        sessions.start_session(session, actor=world.secretary, now=utcnow() + LATER)
    assert people[1].display_name in str(error.value.message)


def test_the_urgent_reason_starts_it_at_once_and_the_audit_names_who_was_not_notified(world, meeting):
    session, people = meeting
    sessions.start_session(session, urgent_reason="暴雨后紧急抢修", actor=world.secretary)
    assert session.status == SessionStatus.in_session and session.urgent_reason == "暴雨后紧急抢修"
    summary = db.session.scalar(select(AuditEvent.summary).where(AuditEvent.action == "session.started")
                                .order_by(AuditEvent.id.desc()))
    assert "暴雨后紧急抢修" in summary and people[2].login in summary


def test_the_start_page_refuses_with_the_names(as_user, world, meeting):
    session, people = meeting
    client = as_user(world.secretary)
    response = client.post(f"/c/taoyuan/sessions/{session.id}/start", data={"urgent_reason": ""})
    assert response.status_code == 422 and "通知期尚未届满" in response.get_data(as_text=True)
    # Four days later (the notice and its deliveries moved back): the period has run, member 2 still
    # has not been notified.
    back = timedelta(days=4)
    session.noticed_at -= back
    for row in db.session.scalars(select(OutboxMessage).where(OutboxMessage.delivered_at.is_not(None))):
        row.delivered_at -= back
    db.session.commit()
    response = client.post(f"/c/taoyuan/sessions/{session.id}/start", data={"urgent_reason": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert people[2].display_name in page and people[0].display_name not in page
    response = client.post(f"/c/taoyuan/sessions/{session.id}/start", data={"urgent_reason": "台风过后需紧急决定"})
    assert response.status_code == 303 and session.status == SessionStatus.in_session


def _minutes(world, session):
    sessions.start_session(session, urgent_reason="紧急", actor=world.secretary)
    sessions.adjourn_session(session, actor=world.secretary)
    sessions.publish_minutes(session, actor=world.secretary)
    db.session.commit()


def test_the_minutes_list_when_each_member_was_notified_per_channel(client, world, meeting):
    session, people = meeting
    services.mark_read(people[2])
    _minutes(world, session)
    page = client.get(f"/c/taoyuan/sessions/{session.id}/minutes").get_data(as_text=True)
    assert "通知送达" in page
    notices = {n.user.id: n for n in events.member_notices(session)}
    for person in people:
        assert f'data-testid="notice-{person.id}"' in page
    row = page.split(f'data-testid="notice-{people[0].id}"')[1].split("</li>")[0]
    assert people[0].display_name in row
    from flask_babel import format_datetime
    with client.application.test_request_context():
        when = format_datetime(notices[people[0].id].email_at, "yyyy-MM-dd HH:mm")
    assert when in row
    missing = page.split(f'data-testid="notice-{people[2].id}"')[1].split("</li>")[0]
    assert "—" in missing  # no e-mail, no SMS


def test_the_word_minutes_list_the_notice_times_too(client, world, meeting):
    session, people = meeting
    _minutes(world, session)
    response = client.get(f"/c/taoyuan/sessions/{session.id}/minutes.docx")
    document = Document(io.BytesIO(response.data))
    text = "\n".join(p.text for p in document.paragraphs)
    text += "\n".join(cell.text for table in document.tables for row in table.rows for cell in row.cells)
    assert "通知送达" in text
    for person in people:
        assert person.display_name in text
    assert "未证明已通知" in text  # member 2: neither delivered nor read
