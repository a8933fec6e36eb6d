"""Live meetings without re-rendering on every tick: every change moves the session's version on, a
poll with the ETag it holds gets a bodiless 304 after reading only that version, the ETag changes with
every change and with the viewer, and the event stream says when the version moved (also to a page
that reconnects with Last-Event-ID)."""

from __future__ import annotations

import html
import re
from contextlib import contextmanager

import pytest
from flask import template_rendered
from sqlalchemy import event, select

from deliberation.consultations import live as consultation_live
from deliberation.consultations import services
from deliberation.consultations.models import ConsultationSession, CountMethod, SessionStatus, VoteChoice
from deliberation.councils import services as councils
from deliberation.councils.models import SeatType
from deliberation.extensions import db
from tests.conftest import login_as
from tests.councils.factories import make_session, members, start
from tests.factories import make_resident

HX = {"HX-Request": "true"}


def url(session, path=""):
    return f"/c/taoyuan/sessions/{session.id}{path}"


def version(session) -> int:
    return db.session.scalar(select(ConsultationSession.live_version).where(ConsultationSession.id == session.id))


@pytest.fixture
def running(world, council):
    session = make_session(world.community, world.secretary, council, items=3)
    start(session, world.secretary)
    return session


@contextmanager
def statements():
    """The SQL statements the block runs, without the test harness's savepoints."""
    seen = []

    def record(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            seen.append(statement)

    db.session.commit()  # what the test set up is written first (the client would do it inside the block)
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


@contextmanager
def templates_rendered(app):
    rendered = []

    def record(sender, template, context, **extra):
        rendered.append(template.name)

    template_rendered.connect(record, app)
    try:
        yield rendered
    finally:
        template_rendered.disconnect(record, app)


def test_every_change_the_room_shows_moves_the_version_on(world, council, running):
    secretary, people = world.secretary, members(council)
    seen = [version(running)]

    def changed(what):
        now = version(running)
        assert now > seen[-1], f"{what} did not move the version on"
        seen.append(now)

    services.sign_in(running, people[0])
    changed("signing in")
    services.sign_in(running, people[1], recorded_by=secretary)
    changed("ticking present")
    services.sign_in(running, people[1], recorded_by=secretary, without_phone=True)
    changed("saying a member has no phone")
    services.sign_in(running, people[2])
    services.sign_out(running, people[2], actor=secretary)
    changed("unticking")
    first = services.request_to_speak(running, people[0])
    changed("asking to speak")
    second = services.request_to_speak(running, people[1])
    services.move_speaker(second, offset=-1, actor=secretary)
    changed("ordering the queue")
    services.start_speaker(first, actor=secretary)
    changed("starting the timer")
    services.end_speaker(first, actor=secretary)
    changed("ending a turn")
    services.remove_speaker(second, actor=secretary)
    changed("removing a request")
    third = services.request_to_speak(running, people[1])
    services.withdraw_request(third, people[1])
    changed("withdrawing a request")
    services.set_current_item(running, running.items[1], actor=secretary)
    changed("the current item")
    item = services.add_item(running, fields=services.ItemFields(title="临时议题"), actor=secretary)
    changed("adding an item")
    services.update_item(item, fields=services.ItemFields(title="临时议题（改）"), actor=secretary)
    changed("renaming an item")
    services.move_item(item, offset=-1, actor=secretary)
    changed("moving an item")
    services.remove_item(item, actor=secretary)
    changed("removing an item")
    motion = services.open_motion(running.items[0], text="同意", actor=secretary)
    changed("opening a motion")
    services.cast_vote(motion, people[0], VoteChoice.yes)
    changed("a vote on a phone")
    services.cast_vote(motion, people[1], VoteChoice.no, recorded_by=secretary)
    changed("a vote entered by the secretary")
    services.close_motion(motion, actor=secretary)
    changed("closing a motion")
    roll = services.open_motion(running.items[0], text="再议", actor=secretary, method=CountMethod.roll_call)
    services.cast_vote(roll, people[0], VoteChoice.abstain, recorded_by=secretary)
    changed("a roll-call answer")
    services.close_motion(roll, actor=secretary)
    councils.add_member(council, make_resident(world.community)[0], seat=SeatType.elected_resident,
                        actor=world.admin)
    changed("a new council member (the quorum)")
    councils.remove_member(council.members[-1], actor=world.admin)
    changed("a council member leaving (the quorum)")
    services.adjourn_session(running, actor=secretary)
    changed("adjourning")
    services.publish_minutes(running, summary="纪要", actor=secretary)
    changed("publishing the minutes")


def test_starting_a_session_moves_its_version_on(world, council):
    session = make_session(world.community, world.secretary, council)
    before = version(session)
    services.notice_session(session, actor=world.secretary)
    services.start_session(session, urgent_reason="紧急", actor=world.secretary)
    assert version(session) >= before + 2


def test_an_unchanged_room_answers_304_reading_only_the_version(app, client, world, council, running):
    member = members(council)[0]
    services.sign_in(running, member)
    login_as(client, member)
    first = client.get(url(running, "/live"), headers=HX)
    assert first.status_code == 200 and first.headers["ETag"]
    assert "private" in first.headers["Cache-Control"] and "no-cache" in first.headers["Cache-Control"]
    address = url(running, "/live")
    with statements() as sql, templates_rendered(app) as rendered:
        again = client.get(address, headers={**HX, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    assert rendered == []
    # The version alone: the viewer comes from the session cookie, nothing of the room is read.
    assert len(sql) == 1 and "live_version" in sql[0]
    assert again.headers["ETag"] == first.headers["ETag"]


def test_after_a_change_the_etag_differs_and_the_room_shows_the_change(client, world, council, running):
    people = members(council)
    services.sign_in(running, people[0])
    login_as(client, people[0])
    first = client.get(url(running, "/live"), headers=HX)
    assert "签到" in first.get_data(as_text=True)
    services.sign_in(running, people[1])  # someone else arrives: the quorum count moves
    services.open_motion(running.items[0], text="同意加装坡道", actor=world.secretary)
    after = client.get(url(running, "/live"), headers={**HX, "If-None-Match": first.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != first.headers["ETag"]
    body = after.get_data(as_text=True)
    assert "同意加装坡道" in body and 'class="vote-buttons"' in body
    assert "<strong>2</strong>" in body  # present: 2


def test_the_etag_is_the_viewers_own(client, world, council, running):
    """Members see their own vote buttons and queue place: one member's ETag is no good to another."""
    people = members(council)
    for person in people[:2]:
        services.sign_in(running, person)
    motion = services.open_motion(running.items[0], text="同意", actor=world.secretary)
    services.cast_vote(motion, people[0], VoteChoice.yes)
    login_as(client, people[0])
    voted = client.get(url(running, "/live"), headers=HX)
    assert 'data-testid="my-vote-recorded"' in voted.get_data(as_text=True)
    login_as(client, people[1])
    other = client.get(url(running, "/live"), headers={**HX, "If-None-Match": voted.headers["ETag"]})
    assert other.status_code == 200 and 'class="vote-buttons"' in other.get_data(as_text=True)
    assert other.headers["ETag"] != voted.headers["ETag"]


def test_the_console_answers_304_until_a_member_votes(client, world, council, running):
    people = members(council)
    for person in people[:2]:
        services.sign_in(running, person)
    motion = services.open_motion(running.items[0], text="同意", actor=world.secretary)
    login_as(client, world.secretary)
    first = client.get(url(running, "/console"), headers=HX)
    assert first.status_code == 200
    address = url(running, "/console")
    with statements() as sql:
        same = client.get(address, headers={**HX, "If-None-Match": first.headers["ETag"]})
    assert same.status_code == 304 and len(sql) == 2  # the secretary's login (login_required), the version
    login_as(client, people[0])
    assert client.post(url(running, f"/motions/{motion.id}/vote"), data={"choice": "yes"}).status_code == 303
    login_as(client, world.secretary)
    after = client.get(url(running, "/console"), headers={**HX, "If-None-Match": first.headers["ETag"]})
    assert after.status_code == 200 and "2 人中已有 1 人表决" in after.get_data(as_text=True)


def test_full_pages_and_drafts_are_never_answered_304(client, world, council, running):
    login_as(client, world.secretary)
    page = client.get(url(running))
    assert "ETag" not in page.headers
    draft = make_session(world.community, world.secretary, council)
    partial = client.get(url(draft, "/live"), headers=HX)
    assert partial.status_code == 200 and "ETag" not in partial.headers


def shown_etag(page) -> str:
    """The ETag the loaded page sends with its first refresh (static/js/live.js reads data-live-etag)."""
    found = re.search(r'data-live-etag="([^"]+)"', page.get_data(as_text=True))
    assert found, "the live part names the ETag of the copy it shows"
    return html.unescape(found.group(1))


@pytest.mark.parametrize("part", ["", "/console"])
def test_the_first_refresh_after_a_page_loads_answers_304(app, client, world, council, running, part):
    """The full page carries the partial's ETag, so its first conditional refresh renders nothing; once the
    meeting changes, the same tag gets the new copy."""
    services.sign_in(running, members(council)[0])
    login_as(client, world.secretary)
    page = client.get(url(running, part))
    assert page.status_code == 200
    tag = shown_etag(page)
    with templates_rendered(app) as rendered:
        first = client.get(url(running, part or "/live"), headers={**HX, "If-None-Match": tag})
    assert first.status_code == 304 and rendered == []
    services.sign_in(running, members(council)[1])
    db.session.commit()
    after = client.get(url(running, part or "/live"), headers={**HX, "If-None-Match": tag})
    assert after.status_code == 200 and "<strong>2</strong>" in after.get_data(as_text=True)
    # The refreshed copy names its own tag, the one its response header carries.
    assert shown_etag(after) == after.headers["ETag"]


def test_a_wrong_community_in_the_address_is_still_not_found(client, world, council, running):
    login_as(client, world.secretary)
    tag = client.get(url(running, "/live"), headers=HX).headers["ETag"]
    wrong = client.get(f"/c/other/sessions/{running.id}/live", headers={**HX, "If-None-Match": tag})
    assert wrong.status_code == 404


def test_a_pending_message_is_shown_not_swallowed_by_a_304(client, world, council, running):
    login_as(client, world.secretary)
    tag = client.get(url(running, "/live"), headers=HX).headers["ETag"]
    with client.session_transaction() as cookie:
        cookie["_flashes"] = [("info", "已保存")]
    answer = client.get(url(running, "/live"), headers={**HX, "If-None-Match": tag})
    assert answer.status_code == 200 and "已保存" in answer.get_data(as_text=True)


# --- version polls (pages without an event stream) -----------------------------------------------

def shown_version(page) -> tuple[str, str]:
    """Where the live part asks for the session's version, and the version tag of the copy it shows."""
    text = page.get_data(as_text=True)
    address = re.search(r'data-live-version="([^"]+)"', text)
    tag = re.search(r'data-live-version-etag="([^"]+)"', text)
    assert address and tag, "the live part names its version address and the version it shows"
    return html.unescape(address.group(1)), html.unescape(tag.group(1))


@pytest.mark.parametrize("part", ["", "/console"])
def test_a_page_without_a_stream_polls_the_version_alone_and_gets_304(app, client, world, council, running,
                                                                     part):
    """Every 2 s a page asks the version with the one it shows: a bodiless 304 from one read, nothing
    rendered and no cookie touched; once the meeting changed, the new version (the page then fetches its
    partial once, and that copy names the new version)."""
    login_as(client, world.secretary)
    address, tag = shown_version(client.get(url(running, part)))
    assert address == url(running, "/version")
    anonymous = app.test_client()
    with statements() as sql, templates_rendered(app) as rendered:
        same = anonymous.get(address, headers={"If-None-Match": tag})
    assert same.status_code == 304 and same.get_data() == b"" and rendered == []
    assert len(sql) == 1 and "live_version" in sql[0]
    assert "Set-Cookie" not in same.headers and same.headers["ETag"] == tag
    assert client.get(address, headers={"If-None-Match": tag}).status_code == 304  # a member: the same answer
    services.sign_in(running, members(council)[0])
    db.session.commit()
    moved = anonymous.get(address, headers={"If-None-Match": tag})
    assert moved.status_code == 200 and moved.headers["ETag"] != tag
    assert moved.get_data(as_text=True) == str(version(running)) and moved.mimetype == "text/plain"
    assert moved.headers["X-Content-Type-Options"] == "nosniff" and "no-cache" in moved.headers["Cache-Control"]
    refreshed = client.get(url(running, part or "/live"), headers=HX)
    assert shown_version(refreshed)[1] == moved.headers["ETag"]


def test_the_version_of_a_draft_or_of_another_community_is_not_found(client, world, council, running):
    draft = make_session(world.community, world.secretary, council)
    login_as(client, world.secretary)
    assert client.get(url(draft, "/version")).status_code == 404  # not public yet, not live either
    assert client.get(f"/c/other/sessions/{running.id}/version").status_code == 404
    assert client.get("/c/taoyuan/sessions/999999/version").status_code == 404
    assert client.get("/c/taoyuan/sessions/99999999999/version").status_code == 404
    assert client.post(url(running, "/version")).status_code in (400, 405)  # a GET only


def test_a_session_that_is_not_running_names_no_version_to_poll(client, world, council):
    session = make_session(world.community, world.secretary, council)
    services.notice_session(session, actor=world.secretary)
    page = client.get(url(session)).get_data(as_text=True)
    assert "data-live-version" not in page


# --- Server-Sent Events -------------------------------------------------------------------------

def events(client, session, **headers) -> str:
    response = client.get(url(session, "/events"), headers=headers)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache"
    return response.get_data(as_text=True)


def test_the_stream_sends_the_current_version(client, world, council, running):
    login_as(client, members(council)[0])
    body = events(client, running)
    assert body.startswith("retry: ")
    assert f"id: {version(running)}\nevent: version\ndata: {version(running)}\n\n" in body


def test_a_reconnecting_page_catches_up_with_what_it_missed(client, world, council, running):
    member = members(council)[0]
    login_as(client, member)
    seen = version(running)
    assert "event: version" not in events(client, running, **{"Last-Event-ID": str(seen)})  # nothing new
    services.sign_in(running, member)  # while the phone slept
    body = events(client, running, **{"Last-Event-ID": str(seen)})
    assert f"id: {version(running)}\nevent: version" in body and version(running) > seen


def test_the_stream_says_when_the_meeting_has_ended(client, world, council, running):
    services.adjourn_session(running, actor=world.secretary)
    body = events(client, running)
    assert "event: end" in body and "event: version" not in body


def test_servers_that_cannot_hold_streams_get_none_and_pages_poll(app, client, world, council, running, monkeypatch):
    monkeypatch.setitem(app.config, "LIVE_EVENTS", "auto")  # the test client is not multithreaded
    login_as(client, members(council)[0])
    assert client.get(url(running, "/events")).status_code == 204  # an EventSource gives up on 204
    page = client.get(url(running)).get_data(as_text=True)
    assert "data-live-events" not in page and 'data-live-poll="2000"' in page and "data-live-version=" in page
    threaded = client.get(url(running), environ_overrides={"wsgi.multithread": True}).get_data(as_text=True)
    assert "data-live-events" in threaded
    monkeypatch.setitem(app.config, "LIVE_EVENTS", "0")
    assert client.get(url(running, "/events"), environ_overrides={"wsgi.multithread": True}).status_code == 204


def test_the_stream_keeps_a_page_alive_and_gives_up_at_its_limit(app, client, world, council, running,
                                                                 monkeypatch):
    import deliberation.core.live as live

    clock = [1000.0]
    monkeypatch.setattr(live.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(live.time, "sleep", lambda seconds: clock.__setitem__(0, clock[0] + seconds))
    monkeypatch.setitem(app.config, "LIVE_STREAM_SECONDS", 40)
    login_as(client, members(council)[0])
    body = events(client, running)
    assert body.count("event: version") == 1 and body.count("event: ping") == 2


def test_a_commit_publishes_the_change_to_redis(app, world, council, running, monkeypatch):
    """With REDIS_URL the streams on every host wake at once (the database stays the truth)."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url("redis://127.0.0.1:56379/4", socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:56379")
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:56379/4")
    listener = client.pubsub(ignore_subscribe_messages=True)
    listener.subscribe(f"live:session:{running.id}")
    db.session.commit()  # what the fixture did
    for _ in range(3):  # the subscription's confirmation (read as None), then the fixture's change
        listener.get_message(timeout=0.3)
    services.sign_in(running, members(council)[0])
    assert listener.get_message(timeout=0.3) is None  # not before the commit
    db.session.commit()
    message = listener.get_message(timeout=2)
    assert message is not None and message["channel"] == f"live:session:{running.id}".encode()
    listener.close()


def test_status_of_the_version_read(world, council, running):
    found = consultation_live.live_version(running.id)
    assert found == (version(running), SessionStatus.in_session, "taoyuan")
    assert consultation_live.live_version(999_999) is None

