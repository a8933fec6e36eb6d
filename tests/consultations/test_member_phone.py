"""A member's phone in a meeting: it says when the meeting has ended, why a second request to
speak is refused, and puts the vote buttons first when a motion opens."""

from __future__ import annotations

from deliberation.consultations import services
from tests.conftest import login_as
from tests.councils.factories import make_session, members, start

HX = {"HX-Request": "true"}


def url(session, path=""):
    return f"/c/taoyuan/sessions/{session.id}{path}"


def test_after_adjournment_the_page_and_the_polled_panel_say_the_meeting_has_ended(client, world, council):
    session = make_session(world.community, world.secretary, council)
    start(session, world.secretary)
    member = members(council)[0]
    services.sign_in(session, member)
    services.adjourn_session(session, actor=world.secretary)
    login_as(client, member)
    page = client.get(url(session)).get_data(as_text=True)
    assert 'data-testid="meeting-ended"' in page and "会议已结束" in page
    live = client.get(url(session, "/live"), headers=HX).get_data(as_text=True)  # the last poll of a phone
    assert "会议已结束" in live and "hx-trigger" not in live
    assert "申请发言" not in live and "签到" not in live


def test_a_member_in_the_queue_is_told_so_instead_of_asking_again(client, world, council):
    session = make_session(world.community, world.secretary, council)
    start(session, world.secretary)
    member = members(council)[0]
    services.sign_in(session, member)
    login_as(client, member)
    live = client.post(url(session, "/speak"), headers=HX).get_data(as_text=True)
    assert 'data-testid="my-queue-place"' in live and "您已在发言队列中" in live and "第 1 位" in live
    assert "申请发言</button>" not in live
    # A second request (another tab, a stale page) says why it is refused, with htmx and without.
    again = client.post(url(session, "/speak"), headers=HX)
    assert again.status_code == 409 and "您已在发言队列中" in again.get_data(as_text=True)
    assert again.headers["HX-Retarget"] == "#flashes"
    plain = client.post(url(session, "/speak"), headers={"Referer": f"http://localhost{url(session)}"})
    assert plain.status_code == 409 and "您已在发言队列中" in plain.get_data(as_text=True)
    assert f'<a href="{url(session)}"' in plain.get_data(as_text=True)


def test_when_a_motion_opens_the_vote_buttons_come_first(client, world, council):
    session = make_session(world.community, world.secretary, council)
    start(session, world.secretary)
    member = members(council)[0]
    services.sign_in(session, member)
    services.request_to_speak(session, member)
    login_as(client, world.secretary)
    client.post(url(session, "/current"), data={"item_id": session.items[0].id})
    assert client.post(url(session, "/motions"), data={"text": "同意加装坡道", "method": "phones"}).status_code == 303
    login_as(client, member)
    page = client.get(url(session)).get_data(as_text=True)
    buttons = page.index('class="vote-buttons"')
    for later in ('data-testid="quorum"', 'id="agenda-heading"', 'data-testid="my-queue-place"'):
        assert buttons < page.index(later), later
