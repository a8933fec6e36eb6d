"""Live updates in Chromium at 360×740: the secretary's change shows on a member's phone within 2 seconds,
through the event stream; a phone without the stream polls the session's version (304 while nothing
changed, the room itself not asked for) and still catches up; a phone that lost the network catches up
when it is back."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from deliberation.auth.models import User
from deliberation.consultations import services as sessions
from deliberation.consultations.models import SessionKind
from deliberation.core.models import utcnow
from deliberation.councils.models import Council
from deliberation.extensions import db
from tests.e2e.conftest import COUNCIL_MEMBERS, PASSWORD, PHONE, snap
from tests.e2e.test_resident_journey import log_in

TITLE = "第一届议事会临时会议（直播测试）"


@pytest.fixture
def meeting(live_app, monkeypatch):
    """A council meeting in session, with nobody signed in yet; streams last 30 s here (as in production,
    where they last 5 minutes, the browser then reconnects)."""
    monkeypatch.setitem(live_app.config, "LIVE_STREAM_SECONDS", 30)
    with live_app.app_context():
        council = db.session.scalar(db.select(Council).where(Council.term_label == "第一届"))
        secretary = db.session.scalar(User.by_login("sec"))
        session = sessions.create_session(council.community, fields=sessions.SessionFields(
            kind=SessionKind.council_meeting, title=TITLE, starts_at=utcnow(), place="社区党群服务中心"),
            council=council, actor=secretary)
        sessions.add_item(session, fields=sessions.ItemFields(title="议题"), actor=secretary)
        sessions.notice_session(session, actor=secretary)
        sessions.start_session(session, urgent_reason="直播测试", actor=secretary)
        db.session.commit()
        yield f"/c/taoyuan/sessions/{session.id}"
        session = db.session.merge(session)
        for attendance in sessions.attendances(session):
            sessions.sign_out(session, attendance.user, actor=secretary)
        db.session.commit()


def phone(browser, base_url, login):
    context = browser.new_context(base_url=base_url, viewport=PHONE, locale="zh-CN")
    context.route("https://cdn.jsdelivr.net/**", lambda route: route.abort())
    context.set_default_timeout(10_000)
    page = context.new_page()
    log_in(page, login, PASSWORD)
    return context, page


def is_room(url: str) -> bool:
    """A request for the room's live partial (not, say, static/js/live.js)."""
    return url.split("?")[0].endswith("/live")


def is_version(url: str) -> bool:
    """A poll of the session's version (a page without an event stream)."""
    return url.split("?")[0].endswith("/version")


def tick(secretary, name: str) -> float:
    """The secretary ticks a member present on the console; returns when (monotonic)."""
    secretary.get_by_role("button", name=name, exact=True).click()
    expect(secretary.get_by_role("button", name=f"✓ {name}")).to_be_visible()
    return time.monotonic()


def test_a_change_reaches_phones_within_two_seconds_and_a_lost_phone_catches_up(browser, base_url, page,
                                                                                 meeting, artifacts):
    logins = list(COUNCIL_MEMBERS)
    names = list(COUNCIL_MEMBERS.values())
    secretary = page
    log_in(secretary, "sec", PASSWORD)
    secretary.goto(f"{meeting}/console")
    expect(secretary.get_by_test_id("quorum")).to_contain_text("0")

    streamed_context, streamed = phone(browser, base_url, logins[0])
    polls = []
    streamed.on("response", lambda r: is_room(r.url) and polls.append(r.status))
    streamed.goto(meeting)
    quorum = streamed.get_by_test_id("quorum")
    expect(quorum).to_contain_text("到会：0")

    # A phone whose network or proxy breaks event streams: it polls the version, with the one it shows.
    polling_context, polling = phone(browser, base_url, logins[1])
    polling_context.route("**/events", lambda route: route.abort())
    polled, rooms = [], []
    polling.on("response", lambda r: is_version(r.url) and polled.append(r.status))
    polling.on("response", lambda r: is_room(r.url) and rooms.append(r.status))
    polling.goto(meeting)
    expect(polling.get_by_test_id("quorum")).to_contain_text("到会：0")

    # With the stream open, an idle phone asks for nothing (or gets 304s): no re-render every 2 s.
    streamed.wait_for_timeout(2500)
    # The page names the ETag of what it shows: even the first refresh after it loaded renders nothing.
    assert polls and polls[0] == 304, polls
    polls.clear()
    streamed.wait_for_timeout(4000)
    assert all(status == 304 for status in polls), polls
    # The polling phone asks the version every 2 s, is answered 304 while nothing changed, and asks for
    # the room itself no more than once (the first refresh after the page loaded, also a 304).
    rooms.clear()
    polling.wait_for_timeout(4500)
    assert len(polled) >= 2 and set(polled) == {304}, polled
    assert set(rooms) <= {304} and len(rooms) <= 1, rooms

    # The secretary ticks a member present: both phones show the new quorum within 2 s.
    changed = tick(secretary, names[2])
    expect(quorum).to_contain_text("到会：1", timeout=2000)
    assert time.monotonic() - changed <= 2.0
    expect(polling.get_by_test_id("quorum")).to_contain_text("到会：1", timeout=2500)
    snap(streamed, artifacts, "live-member-quorum-updated")

    # The streamed phone loses the network; two changes happen meanwhile; back online, it catches up.
    streamed_context.set_offline(True)
    tick(secretary, names[3])
    secretary.get_by_role("textbox", name="动议").fill("同意临时动议。")
    secretary.get_by_role("button", name="开始表决").click()
    streamed.wait_for_timeout(1500)
    expect(quorum).to_contain_text("到会：1")  # still the old screen while offline
    streamed_context.set_offline(False)
    expect(quorum).to_contain_text("到会：2", timeout=4000)
    expect(streamed.get_by_test_id("open-motion")).to_contain_text("同意临时动议。")
    assert secretary.get_by_test_id("quorum").is_visible()
    streamed_context.close()
    polling_context.close()
