"""notify(): inbox and outbox rows in the caller's transaction, languages, preferences, quiet hours."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from deliberation.extensions import db
from deliberation.notifications import services
from deliberation.notifications.models import (
    Channel,
    DeliveryStatus,
    InboxItem,
    NotificationPreference,
    OutboxMessage,
)
from tests.factories import make_user

from .conftest import with_email

CONTEXT = {"community": "桃源社区"}


def outbox(user=None):
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if user is not None:
        query = query.where(OutboxMessage.user_id == user.id)
    return list(db.session.scalars(query))


def test_notify_writes_an_inbox_item_and_one_outbox_row_per_channel(db_session):
    user = make_user()
    with_email(user)
    services.notify([user], "verification_approved", key="t1", link="/c/taoyuan", context=CONTEXT)
    item = db.session.scalar(select(InboxItem).where(InboxItem.user_id == user.id))
    assert item.title == "您在桃源社区的居住信息已核实"
    assert item.link == "/c/taoyuan" and item.read_at is None
    rows = {row.channel: row for row in outbox(user)}
    assert set(rows) == {Channel.inbox, Channel.email}  # no SMS for this kind unless asked for
    assert rows[Channel.inbox].status == DeliveryStatus.sent and rows[Channel.inbox].delivered_at
    assert rows[Channel.email].status == DeliveryStatus.pending
    assert rows[Channel.email].address == f"{user.login}@example.org"
    assert "/c/taoyuan" in rows[Channel.email].body


def test_messages_are_in_each_recipients_language(db_session):
    chinese, english = make_user(), make_user()
    english.locale = "en"
    services.notify([chinese, english], "verification_approved", key="t2", context=CONTEXT)
    titles = {row.user_id: row.title for row in db.session.scalars(select(InboxItem))}
    assert titles[chinese.id] == "您在桃源社区的居住信息已核实"
    assert titles[english.id] == "Your residency in 桃源社区 is verified"


def test_the_same_event_written_twice_is_kept_once(db_session):
    user = make_user()
    with_email(user)
    services.notify([user], "verification_approved", key="same", context=CONTEXT)
    services.notify([user], "verification_approved", key="same", context=CONTEXT)
    assert db.session.scalar(select(func.count()).select_from(InboxItem)) == 1
    assert len(outbox(user)) == 2


def test_a_rolled_back_change_leaves_nothing_to_send(db_session):
    user = make_user()
    with_email(user)
    with pytest.raises(RuntimeError), db.session.begin_nested():
        services.notify([user], "verification_approved", key="rolled", context=CONTEXT)
        raise RuntimeError("the change failed after notifying")
    assert outbox(user) == []
    assert db.session.scalar(select(func.count()).select_from(InboxItem)) == 0


def test_preferences_choose_the_channels(db_session):
    user = make_user()
    with_email(user)
    db.session.add(NotificationPreference(user_id=user.id, kind="verification_approved", email=False, sms=True))
    services.notify([user], "verification_approved", key="prefs", context=CONTEXT)
    assert {row.channel for row in outbox(user)} == {Channel.inbox, Channel.sms}


def test_quiet_hours_delay_email_and_sms_but_not_emergencies(db_session, monkeypatch):
    user = make_user()
    with_email(user, quiet_from=22, quiet_until=7)
    late = datetime(2026, 11, 30, 15, 30)  # 23:30 in Beijing
    monkeypatch.setattr(services, "utcnow", lambda: late)
    services.notify([user], "meeting_noticed", key="quiet",
                    context={"title": "议事会", "starts_at": datetime(2026, 12, 3, 11, 0), "place": "会议室"})
    services.notify([user], "meeting_noticed", key="urgent", emergency=True,
                    context={"title": "紧急议事会", "starts_at": datetime(2026, 12, 1, 0, 0), "place": "会议室"})
    due = {(row.key.split(":")[0], row.channel): row.next_attempt_at for row in outbox(user)}
    assert due["quiet", Channel.email] == datetime(2026, 11, 30, 23, 0)  # 07:00 Beijing
    assert due["quiet", Channel.sms] == datetime(2026, 11, 30, 23, 0)
    assert due["urgent", Channel.email] == late and due["urgent", Channel.sms] == late


@pytest.mark.parametrize(("utc", "expected"), [
    (datetime(2026, 6, 1, 13, 59), datetime(2026, 6, 1, 13, 59)),  # 21:59 Beijing: not quiet
    (datetime(2026, 6, 1, 14, 0), datetime(2026, 6, 1, 23, 0)),  # 22:00: until 07:00
    (datetime(2026, 6, 1, 18, 0), datetime(2026, 6, 1, 23, 0)),  # 02:00
    (datetime(2026, 6, 1, 23, 0), datetime(2026, 6, 1, 23, 0)),  # 07:00: awake
])
def test_after_quiet_hours(utc, expected):
    assert services.after_quiet_hours(utc, 22, 7) == expected


def test_context_refuses_objects_so_no_ballot_can_reach_a_message(db_session):
    user = make_user()
    with pytest.raises(TypeError):
        services.notify([user], "voting_opened", key="secret", context={"round": object()})


def test_unread_count_and_mark_read(db_session):
    user = make_user()
    services.notify([user], "verification_approved", key="r1", context=CONTEXT)
    services.notify([user], "verification_rejected", key="r2", context={**CONTEXT, "reason": "地址不符"})
    assert services.unread_count(user) == 2
    first = services.inbox_of(user)[0]
    assert services.mark_read(user, item_id=first.id) == 1
    assert services.unread_count(user) == 1
    assert services.mark_read(make_user()) == 0
    assert services.mark_read(user) == 1 and services.unread_count(user) == 0


def test_quiet_hours_default_to_22_to_7_beijing_time(db_session, monkeypatch):
    user = make_user()  # no settings saved: the defaults
    monkeypatch.setattr(services, "utcnow", lambda: datetime(2026, 11, 30, 15, 30))  # 23:30 in Beijing
    services.notify([user], "meeting_noticed", key="default-quiet",
                    context={"title": "议事会", "starts_at": datetime(2026, 12, 3, 11, 0), "place": "会议室"})
    [sms] = [row for row in outbox(user) if row.channel == Channel.sms]
    assert sms.next_attempt_at == datetime(2026, 11, 30, 23, 0)
