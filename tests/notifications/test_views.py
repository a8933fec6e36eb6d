"""Inbox, unread count, preferences, one-click unsubscribe and the office's failed deliveries."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update

from deliberation.extensions import db
from deliberation.notifications import mail, services
from deliberation.notifications.models import (
    Channel,
    DeliveryStatus,
    InboxItem,
    NotificationPreference,
    NotificationSettings,
    OutboxMessage,
)
from tests.access import assert_access

from .conftest import with_email


@pytest.fixture(autouse=True)
def empty_inboxes(world):
    """The world's verifications notified its residents: start these tests from empty inboxes."""
    db.session.execute(delete(InboxItem))
    db.session.execute(delete(OutboxMessage))


ROLES = ["anonymous", "resident", "unverified", "secretary", "party", "admin", "other_admin"]


def approve(user, key="v1", community=None):
    services.notify([user], "verification_approved", key=key, link="/todo", context={"community": "桃源社区"},
                    community_id=community.id if community else None)


def test_inbox_lists_my_notifications_and_the_header_loads_the_unread_count(as_user, world):
    approve(world.resident)
    approve(world.secretary, key="other")
    page = as_user(world.resident).get("/inbox")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('data-testid="inbox-item"') == 1 and "您在桃源社区的居住信息已核实" in html
    assert 'hx-get="/inbox/unread"' in as_user(world.resident).get("/todo").get_data(as_text=True)
    badge = as_user(world.resident).get("/inbox/unread", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'data-testid="unread-count"' in badge and ">1</span>" in badge and "<html" not in badge


def test_opening_an_item_marks_it_read_and_follows_its_link(as_user, world):
    approve(world.resident)
    item = db.session.scalar(select(InboxItem))
    response = as_user(world.resident).post(f"/inbox/{item.id}/read")
    assert response.status_code == 303 and response.headers["Location"] == "/todo"
    assert services.unread_count(world.resident) == 0
    badge = as_user(world.resident).get("/inbox/unread").get_data(as_text=True)
    assert "unread-count" not in badge


def test_nobody_reads_anothers_item(as_user, world):
    approve(world.resident)
    item = db.session.scalar(select(InboxItem))
    assert as_user(world.secretary).post(f"/inbox/{item.id}/read").status_code == 404
    assert services.unread_count(world.resident) == 1


def test_mark_all_read(as_user, world):
    approve(world.resident, key="a")
    approve(world.resident, key="b")
    assert as_user(world.resident).post("/inbox/read-all").status_code == 303
    assert services.unread_count(world.resident) == 0


def test_inbox_needs_login(client, world):
    assert client.get("/inbox").status_code == 302
    assert client.get("/notifications/preferences").status_code == 302


def test_preferences_are_saved_and_used(as_user, world):
    client = as_user(world.resident)
    assert 'name="email_voting_opened" aria-label' in client.get("/notifications/preferences").get_data(as_text=True)
    response = client.post("/notifications/preferences", data={
        "email": "wang@example.org", "quiet_from": "21", "quiet_until": "8", "sms_voting_opened": "y"})
    assert response.status_code == 303
    settings = db.session.get(NotificationSettings, world.resident.id)
    assert (settings.email, settings.quiet_from, settings.quiet_until) == ("wang@example.org", 21, 8)
    voting = db.session.get(NotificationPreference, (world.resident.id, "voting_opened"))
    assert (voting.email, voting.sms) == (False, True)


def test_on_a_phone_each_preference_box_is_a_thumb_sized_target(as_user, world):
    """A bare checkbox in a table cell is a 20 px target: its label (44 px square in app.css) wraps it."""
    html = as_user(world.resident).get("/notifications/preferences").get_data(as_text=True)
    for name in ("email_voting_opened", "sms_voting_opened"):
        assert f'<label class="cell-check"><input type="checkbox" name="{name}"' in html
    assert 'aria-label="电子邮件：' in html  # full-width colon in the box's spoken name


def test_preferences_refuse_a_bad_address_and_hour(as_user, world):
    response = as_user(world.resident).post("/notifications/preferences", data={
        "email": "not-an-address", "quiet_from": "25", "quiet_until": "7"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "请输入有效的电子邮箱地址。" in html and "请填写0到23之间的整点。" in html
    assert db.session.get(NotificationSettings, world.resident.id) is None


def test_one_click_unsubscribe_turns_off_that_kind_of_email(client, world):
    with_email(world.resident)
    token = mail.unsubscribe_token(world.resident.id, "voting_opened")
    page = client.get(f"/notifications/unsubscribe/{token}")
    assert page.status_code == 200 and "data-testid=\"unsubscribe\"" in page.get_data(as_text=True)
    assert db.session.get(NotificationPreference, (world.resident.id, "voting_opened")) is None  # GET changes nothing
    done = client.post(f"/notifications/unsubscribe/{token}", data="List-Unsubscribe=One-Click", csrf=False,
                       content_type="application/x-www-form-urlencoded")
    assert done.status_code == 200
    assert db.session.get(NotificationPreference, (world.resident.id, "voting_opened")).email is False
    services.notify([world.resident], "voting_opened", key="after", context={"round": "2026"})
    channels = set(db.session.scalars(select(OutboxMessage.channel).where(OutboxMessage.user_id == world.resident.id)))
    assert channels == {Channel.inbox}


def test_a_forged_unsubscribe_token_is_refused(client, world):
    assert client.post("/notifications/unsubscribe/forged.token", csrf=False).status_code == 404
    assert client.get("/notifications/unsubscribe/forged").status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_failed_deliveries_page_is_for_the_office(as_user, world, role):
    assert_access(as_user(world.user(role)).get("/c/taoyuan/admin/deliveries"), role, {"admin"})


def test_the_office_sees_a_failed_delivery_and_tries_it_again(as_user, world):
    with_email(world.resident)
    approve(world.resident, community=world.community)
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.channel == Channel.email))
    row.status, row.attempts, row.last_error = DeliveryStatus.failed, 6, "SMTPRecipientsRefused"
    client = as_user(world.admin)
    html = client.get("/c/taoyuan/admin/deliveries").get_data(as_text=True)
    assert html.count('data-testid="failed-delivery"') == 1 and "SMTPRecipientsRefused" in html
    assert as_user(world.other_admin).post(f"/c/other/admin/deliveries/{row.id}/retry").status_code == 404
    assert as_user(world.admin).post(f"/c/taoyuan/admin/deliveries/{row.id}/retry").status_code == 303
    db.session.refresh(row)
    assert row.status == DeliveryStatus.pending and row.attempts == 0


def test_a_digests_unsubscribe_link_stops_every_kind_of_email(client, world):
    with_email(world.resident, daily_digest=True)
    token = mail.unsubscribe_token(world.resident.id, "*")
    assert "全部通知" in client.get(f"/notifications/unsubscribe/{token}").get_data(as_text=True)
    assert client.post(f"/notifications/unsubscribe/{token}", csrf=False).status_code == 200
    for kind in ("voting_opened", "meeting_noticed", "verification_approved"):
        assert db.session.get(NotificationPreference, (world.resident.id, kind)).email is False


def test_the_digest_choice_is_saved(as_user, world):
    as_user(world.resident).post("/notifications/preferences", data={
        "email": "wang@example.org", "quiet_from": "22", "quiet_until": "7", "daily_digest": "y"})
    assert db.session.get(NotificationSettings, world.resident.id).daily_digest is True


def test_inbox_and_failed_deliveries_use_a_fixed_number_of_queries(as_user, world, count_queries):
    def queries(url, user):
        client = as_user(user)
        client.get(url)  # warm up
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        return counter.count

    with_email(world.resident)
    approve(world.resident, key="q0", community=world.community)
    db.session.execute(update(OutboxMessage).where(OutboxMessage.channel == Channel.email)
                       .values(status=DeliveryStatus.failed))
    few = queries("/inbox", world.resident), queries("/c/taoyuan/admin/deliveries", world.admin)
    for n in range(1, 20):
        approve(world.resident, key=f"q{n}", community=world.community)
    db.session.execute(update(OutboxMessage).where(OutboxMessage.channel == Channel.email)
                       .values(status=DeliveryStatus.failed))
    many = queries("/inbox", world.resident), queries("/c/taoyuan/admin/deliveries", world.admin)
    assert many == few


def test_the_unread_badge_answers_304_until_a_notification_arrives(as_user, world):
    """The header polls the count: an unchanged count is a bodiless 304; a new notification changes it."""
    client = as_user(world.resident)
    first = client.get("/inbox/unread", headers={"HX-Request": "true"})
    assert first.status_code == 200 and first.headers["ETag"]
    same = client.get("/inbox/unread", headers={"HX-Request": "true", "If-None-Match": first.headers["ETag"]})
    assert same.status_code == 304 and same.get_data() == b""
    approve(world.resident)
    after = client.get("/inbox/unread", headers={"HX-Request": "true", "If-None-Match": first.headers["ETag"]})
    assert after.status_code == 200 and ">1</span>" in after.get_data(as_text=True)
    other = as_user(world.secretary).get("/inbox/unread", headers={"If-None-Match": after.headers["ETag"]})
    assert other.status_code == 200  # the ETag is the reader's own
