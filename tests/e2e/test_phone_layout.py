"""Every main page, as every role, on a 360×740 phone: no sideways scrolling, the page's main
action on the first screen, tap targets of at least 44 px; a screenshot of each in test-artifacts/."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from .conftest import ADMIN_PASSWORD, EVAL_PASSWORD, FIRM_NAME, PASSWORD, PHONE, confirm_click
from .test_resident_journey import log_in, log_out

LOGINS = {
    "anonymous": None,
    "resident": ("res-b", PASSWORD),
    "secretary": ("sec", PASSWORD),
    "branch": ("branch1", EVAL_PASSWORD),
    "office": ("office", ADMIN_PASSWORD),
    "org-rep": ("firm-rep", EVAL_PASSWORD),
    "member": ("council-m2", PASSWORD),
}


@pytest.fixture(scope="module")
def phone_world(live_app):
    """Pages in a known state whatever the journeys did before: a round collecting proposals, a round
    open for voting that nobody has voted in, a meeting in session with a motion open."""
    from deliberation.auth.models import User
    from deliberation.communities.models import Community
    from deliberation.consultations import services as sessions
    from deliberation.consultations.models import SessionKind
    from deliberation.core.models import utcnow
    from deliberation.councils.models import Council
    from deliberation.evaluations.models import Organisation
    from deliberation.extensions import db
    from deliberation.proposals.models import RoundPhase
    from tests.factories import make_resident
    from tests.proposals.factories import make_proposal, make_round, move_to

    with live_app.app_context():
        community = db.session.scalar(select(Community).where(Community.slug == "taoyuan"))
        secretary = db.session.scalar(User.by_login("sec"))
        party = db.session.scalar(User.by_login("branch"))
        collecting = make_round(community, secretary, title="2028年度手机检查批次")
        make_proposal(collecting, secretary, title="加装楼道声控灯", cost=20_000)
        voting = make_round(community, secretary, title="2028年度手机投票批次", budget=100_000, project_cap=100_000)
        for title, cost in [("小区长椅", 30_000), ("雨棚", 40_000), ("快递柜", 20_000)]:
            make_proposal(voting, secretary, title=title, cost=cost)
        move_to(voting, RoundPhase.voting, secretary, party=party)
        make_resident(community, login="phone-voter", phone="13611119999", password=PASSWORD, display_name="手机居民")
        council = db.session.scalar(select(Council).where(Council.community_id == community.id))
        meeting = sessions.create_session(community, fields=sessions.SessionFields(
            kind=SessionKind.council_meeting, title="第一届议事会临时会议", starts_at=utcnow() + timedelta(days=4),
            place="社区党群服务中心"), council=council, actor=secretary)
        item = sessions.add_item(meeting, fields=sessions.ItemFields(title="雨棚选址"), actor=secretary)
        sessions.notice_session(meeting, actor=secretary)
        sessions.start_session(meeting, urgent_reason="台风预警，需尽快决定。", actor=secretary)
        sessions.set_current_item(meeting, item, actor=secretary)
        member = db.session.scalar(User.by_login("council-m2"))
        sessions.sign_in(meeting, member)
        sessions.open_motion(item, text="同意在3栋门口加装雨棚", actor=secretary)
        firm = db.session.scalar(select(Organisation).where(Organisation.name == FIRM_NAME))
        db.session.commit()
        return {"collecting": f"/c/taoyuan/rounds/{collecting.id}", "voting": f"/c/taoyuan/rounds/{voting.id}",
                "meeting": f"/c/taoyuan/sessions/{meeting.id}", "firm": f"/c/taoyuan/organisations/{firm.id}"}


# (role, name, path or key of phone_world, CSS selector of the main action)
PAGES = [
    ("anonymous", "communities", "/", "main a[href='/c/taoyuan']"),
    ("anonymous", "community", "/c/taoyuan", "main [role=button], main button"),
    ("anonymous", "login", "/login", "main button[type=submit]"),
    ("anonymous", "round-voting", "voting", "main a[role=button][href*='/login']"),
    ("resident", "account", "/account", "main a, main button"),
    ("resident", "round-collecting", "collecting", "main a[role=button][href$='/propose']"),
    ("resident", "round-voting", "voting", "[data-testid=vote-link]"),
    ("resident", "ballot", "voting/vote", "[data-testid=ballot-item] input[type=checkbox]"),
    ("resident", "rounds", "/c/taoyuan/rounds", "main a[href*='/rounds/']"),
    ("secretary", "round-collecting", "collecting", "main form[action$='/advance'] button"),
    ("secretary", "sessions", "/c/taoyuan/sessions", "main a[role=button], main a[href*='/sessions/']"),
    ("secretary", "meeting", "meeting", "main a[role=button][href$='/console']"),
    ("member", "meeting", "meeting", "main .vote-buttons button[value=yes]"),
    ("branch", "branch-dashboard", "/c/taoyuan/branch", "main button, main a[role=button]"),
    ("branch", "organisation", "firm", "main a[role=button], main button"),
    ("office", "admin", "/c/taoyuan/admin", "main a"),
    ("office", "residents", "/c/taoyuan/admin/residents", "main a, main button"),
    ("office", "roles", "/c/taoyuan/admin/roles", "main button, main input"),
    ("org-rep", "organisation", "firm", "main a"),
    ("org-rep", "account", "/account", "main a, main button"),
]


def _url(path: str, world: dict) -> str:
    key, _sep, rest = path.partition("/")
    if key in world:
        return world[key] + (f"/{rest}" if rest else "")
    return path


@pytest.mark.parametrize("role", list(LOGINS))
def test_main_pages_fit_a_phone_for_every_role(page, phone_world, artifacts, role):
    assert page.viewport_size == PHONE
    if LOGINS[role]:
        log_in(page, *LOGINS[role])
    problems = []
    for page_role, name, path, action in PAGES:
        if page_role != role:
            continue
        response = page.goto(_url(path, phone_world))
        page.screenshot(path=str(artifacts / f"phone-{role}-{name}.png"), full_page=True)
        if response.status != 200:
            problems.append(f"{name}: status {response.status}")
            continue
        if page.evaluate("document.documentElement.scrollWidth > window.innerWidth"):
            problems.append(f"{name}: scrolls sideways ({page.evaluate('document.documentElement.scrollWidth')} px)")
        first = page.locator(action).filter(visible=True).first
        if first.count() == 0:
            problems.append(f"{name}: no main action ({action})")
        else:
            box = first.bounding_box()
            if box is None or box["y"] + min(box["height"], 44) > PHONE["height"]:
                problems.append(f"{name}: main action below the first screen ({box})")
        small = page.evaluate("""() => [...document.querySelectorAll(
                'main button, main [role=button], main select, main summary, main input:not([type=hidden]):not([type=checkbox]):not([type=radio])')]
            .filter(e => e.offsetParent !== null)
            .map(e => [e.textContent.trim().slice(0, 20) || e.name, e.getBoundingClientRect().height])
            .filter(([label, h]) => h < 43.5)""")
        if small:
            problems.append(f"{name}: tap targets under 44 px: {small[:5]}")
    assert not problems, "\n".join(problems)


def test_the_header_leaves_three_quarters_of_the_first_screen_to_the_page(browser, base_url, live_app):
    """On a phone (mobile emulation, as Chrome on Android lays out), signed in with unread messages, the
    header's three rows (brand; to-do, inbox with its count, log out; language and text size) took 215 of the
    740 px: each row is now its 44 px targets, not Pico's extra padding."""
    from deliberation.auth.models import User
    from deliberation.extensions import db
    from deliberation.notifications import services as notifications

    with live_app.app_context():
        notifications.notify([db.session.scalar(User.by_login("res-b"))], "verification_approved", key="phone-header",
                             link="/todo", context={"community": "桃源社区"}, community_id=None)
        db.session.commit()
    context = browser.new_context(base_url=base_url, viewport=PHONE, is_mobile=True, has_touch=True,
                                  device_scale_factor=2, locale="zh-CN")
    try:
        page = context.new_page()
        log_in(page, "res-b", PASSWORD)
        page.goto("/c/taoyuan")
        expect(page.get_by_test_id("inbox-link")).to_contain_text(re.compile(r"\d"))  # the unread count loaded
        top = page.evaluate("document.querySelector('main').getBoundingClientRect().top")
        assert top <= PHONE["height"] / 4, top
        heights = page.evaluate("""[...document.querySelectorAll('.site-header a, .site-header button')]
            .map(e => e.getBoundingClientRect().height)""")
        assert min(heights) >= 43.5, heights
    finally:
        context.close()


def test_a_ballot_in_larger_text_shows_a_whole_project_on_the_first_screen(page, phone_world, artifacts):
    log_in(page, "phone-voter", PASSWORD)
    page.goto(phone_world["voting"] + "/vote")
    page.get_by_test_id("text-size").click()
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.classList.contains('large-text')")
    page.screenshot(path=str(artifacts / "phone-resident-ballot-large-text.png"), full_page=False)
    item = page.get_by_test_id("ballot-item").first
    box = item.bounding_box()
    meter = page.get_by_test_id("ballot-meter").bounding_box()
    assert box["y"] + box["height"] <= meter["y"] + 1, (box, meter)  # a whole project above the sticky meter
    assert meter["height"] <= 0.2 * PHONE["height"], meter
    title = item.locator("strong").first.bounding_box()
    assert title["width"] >= 0.5 * PHONE["width"], title  # titles keep the width, not five characters a line
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


def test_a_phone_set_to_english_gets_english_and_a_lang_link_switches(browser, base_url, artifacts):
    context = browser.new_context(base_url=base_url, viewport=PHONE, locale="en-US")
    try:
        page = context.new_page()
        page.goto("/c/taoyuan")
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.get_by_role("heading", name="Notice board").is_visible()
        page.screenshot(path=str(artifacts / "phone-anonymous-community-en.png"), full_page=True)
        page.goto("/c/taoyuan?lang=zh")
        assert page.locator("html").get_attribute("lang") == "zh-Hans"
        page.goto("/login")  # the link's choice lasts for the visit
        assert page.locator("html").get_attribute("lang") == "zh-Hans"
    finally:
        context.close()


LONG_REQUEST = "楼上卫生间漏水，已经渗到我家客厅天花板，墙皮一片片往下掉，晚上还滴水到地板上，" * 5 + "请尽快处理。"


def test_a_grid_worker_on_a_phone_reaches_the_answer_and_reads_rates_and_cards_without_sideways_scrolling(
        page, live_app, artifacts):
    """A long request with photos: the answer step is on the first screen (a jump to its form) and the jump
    brings the send button into view; the trend's table is cards inside the screen; a queue card opens its
    request wherever the thumb lands on it."""
    from deliberation.auth.models import User
    from deliberation.communities.models import Community
    from deliberation.extensions import db
    from deliberation.grids import requests as handling
    from deliberation.grids.models import Channel, RequestCategory, RequestType
    from tests.factories import building
    from tests.proposals.factories import jpeg_bytes

    from .test_requests_journey import WORKER_PASSWORD, _seed_grids

    _seed_grids(live_app)
    with live_app.app_context():
        community = db.session.scalar(select(Community).where(Community.slug == "taoyuan"))
        worker = db.session.scalar(User.by_login("grid-worker"))
        resident = db.session.scalar(User.by_login("resident-a"))
        fields = handling.RequestFields(type=RequestType.help, category=RequestCategory.repairs, text=LONG_REQUEST,
                                        building=building(community, "1栋"))
        req = handling.file_request(community, fields=fields, channel=Channel.app, requester=resident,
                                    photos=[jpeg_bytes(), jpeg_bytes(), jpeg_bytes()])
        handling.sign(req, actor=worker)
        grid_id = req.grid_id
        request_url = f"/c/taoyuan/requests/{req.id}"
        db.session.commit()

    log_in(page, "grid-worker", WORKER_PASSWORD)
    page.goto(request_url)
    page.screenshot(path=str(artifacts / "phone-worker-long-request.png"), full_page=True)
    jump = page.get_by_test_id("jump-to-answer")
    box = jump.bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"] and box["height"] >= 43.5, box
    jump.click()
    page.wait_for_function("location.hash === '#answer'")
    send = page.get_by_test_id("answer-request").bounding_box()
    assert send["y"] >= 0 and send["y"] + send["height"] <= PHONE["height"], send  # in view after the jump

    page.goto(f"/c/taoyuan/requests/ranking/grids/{grid_id}")
    page.screenshot(path=str(artifacts / "phone-grid-trend.png"), full_page=True)
    table = page.get_by_test_id("trend-table").bounding_box()
    assert table["x"] + table["width"] <= PHONE["width"], table  # no column hidden beyond the edge
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")

    page.goto("/c/taoyuan/requests/queue")
    card = page.get_by_test_id("request-row").first
    box = card.bounding_box()
    target = page.evaluate("([x, y]) => document.elementFromPoint(x, y).closest('a')?.getAttribute('href')",
                           [box["x"] + box["width"] / 2, box["y"] + box["height"] - 10])
    assert target and target.startswith("/c/taoyuan/requests/"), target

    # The worker answers; the resident finds the rating from the top, its choices thumb-sized.
    page.goto(request_url)
    page.locator("textarea[name=answer]").fill("已联系楼上住户，明天上午维修。")
    confirm_click(page.get_by_test_id("answer-request"))
    expect(page.get_by_test_id("answer-request")).to_have_count(0)
    log_out(page)
    log_in(page, "resident-a", EVAL_PASSWORD)
    page.goto(request_url)
    page.screenshot(path=str(artifacts / "phone-resident-rates-a-request.png"), full_page=True)
    jump = page.get_by_test_id("jump-to-outcome").bounding_box()
    assert jump["y"] + jump["height"] <= PHONE["height"], jump
    heights = page.evaluate("""[...document.querySelectorAll('#outcome input[type=radio]')]
        .map(i => document.querySelector(`label[for="${i.id}"]`).getBoundingClientRect().height)""")
    assert len(heights) == 7 and min(heights) >= 43.5, heights


def test_the_office_has_one_navigation_row_and_its_queue_opens_on_filters(page, live_app, phone_world, artifacts):
    """grids/manage stacked two navigations, five rows of links before the title; the request queue opened on
    a long list with nothing to act on. Now one row with 更多 (no JavaScript needed), and filter chips first."""
    from .test_requests_journey import _seed_grids

    _seed_grids(live_app)
    log_in(page, "office", ADMIN_PASSWORD)
    page.goto("/c/taoyuan/grids/manage")
    page.screenshot(path=str(artifacts / "phone-office-grids-manage.png"), full_page=False)
    assert page.locator("main nav.section-nav").count() == 1
    title = page.locator("main h1").bounding_box()
    assert title["y"] <= 0.45 * PHONE["height"], title
    page.get_by_test_id("nav-more").locator("summary").click()
    page.screenshot(path=str(artifacts / "phone-office-more-open.png"), full_page=False)
    for link in page.get_by_test_id("nav-more").locator("a").all():
        box = link.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] and box["height"] >= 43.5, box
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    page.get_by_test_id("request-queue").click()
    page.wait_for_url("**/requests/queue")
    page.screenshot(path=str(artifacts / "phone-office-queue.png"), full_page=False)
    chip = page.get_by_test_id("queue-overdue")
    box = chip.bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"] and box["height"] >= 43.5, box
    chip.click()
    page.wait_for_url("**show=overdue")
    expect(page.get_by_test_id("queue-overdue")).to_have_attribute("aria-current", "page")

    page.goto("/c/taoyuan/admin")  # the overview's cards open their link wherever tapped, not only on 处理审核
    card = page.get_by_test_id("pending-count").bounding_box()
    target = page.evaluate("([x, y]) => document.elementFromPoint(x, y).closest('a')?.getAttribute('href')",
                           [card["x"] + card["width"] / 2, card["y"] + card["height"] / 2])
    assert target and "/admin/residents" in target, target


def test_a_proposal_card_opens_wherever_the_thumb_lands(page, phone_world):
    log_in(page, "res-b", PASSWORD)
    page.goto(phone_world["collecting"])
    card = page.get_by_test_id("proposal-card").first
    card.scroll_into_view_if_needed()
    card = card.bounding_box()
    target = page.evaluate("([x, y]) => document.elementFromPoint(x, y).closest('a')?.getAttribute('href')",
                           [card["x"] + card["width"] - 12, card["y"] + card["height"] - 8])
    assert target and "/proposals/" in target, target
