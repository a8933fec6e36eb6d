"""A council meeting in Chromium: the secretary notices and starts it, members sign in on their phones,
the quorum turns green, a motion is voted on phones, the outcome shows, the minutes are published and printed."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import COUNCIL_MEMBERS, MEETING_TITLE, PASSWORD, PHONE, confirm_click, snap
from tests.e2e.test_resident_journey import log_in


def phone(browser, base_url):
    context = browser.new_context(base_url=base_url, viewport=PHONE, locale="zh-CN")
    context.route("https://cdn.jsdelivr.net/**", lambda route: route.abort())
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    return context, page


def test_secretary_runs_a_meeting_from_notice_to_printable_minutes(browser, base_url, page, artifacts):
    secretary = page
    log_in(secretary, "sec", PASSWORD)
    secretary.goto("/c/taoyuan/sessions")
    secretary.get_by_role("link", name=MEETING_TITLE).click()
    confirm_click(secretary.get_by_role("button", name="发布会议通知"))
    expect(secretary.get_by_test_id("session-status")).to_have_text("已发通知")
    meeting_url = secretary.url

    # The notice is on the community notice board.
    secretary.goto("/c/taoyuan")
    expect(secretary.get_by_test_id("notice-meetings")).to_contain_text(MEETING_TITLE)

    # The notice period (3 days) has not passed: starting needs an urgent-meeting reason.
    secretary.goto(meeting_url)
    secretary.get_by_role("button", name="开始会议").click()
    secretary.get_by_role("button", name="开始会议").click()
    expect(secretary.locator(".field-error, .form-errors")).to_contain_text("通知期尚未届满")
    secretary.get_by_label("紧急会议理由").fill("扶手松动，存在安全隐患，需尽快决定。")
    secretary.get_by_role("button", name="开始会议").click()
    expect(secretary.get_by_test_id("quorum")).to_contain_text("尚未达到法定人数")

    # Three of the four members sign in on their phones; the console's quorum turns green.
    phones = []
    for login in list(COUNCIL_MEMBERS)[:3]:
        context, member = phone(browser, base_url)
        log_in(member, login, PASSWORD)
        member.goto(meeting_url)
        member.get_by_role("button", name="会议签到").click()
        expect(member.get_by_test_id("signed-in")).to_be_visible()
        phones.append((context, member))
    expect(secretary.get_by_test_id("quorum")).to_have_class(re.compile("quorum-met"))
    expect(secretary.get_by_test_id("quorum")).to_contain_text("已达法定人数")
    snap(secretary, artifacts, "journey-secretary-5-meeting-console")

    # A member asks to speak: the phone shows the place in the queue instead of a second request.
    first_phone = phones[0][1]
    first_phone.get_by_role("button", name="申请发言").click()
    expect(first_phone.get_by_test_id("my-queue-place")).to_contain_text("第 1 位")
    expect(first_phone.get_by_role("button", name="申请发言")).to_have_count(0)

    # The secretary opens a motion; the members vote on their phones.
    secretary.get_by_role("textbox", name="动议").fill("同意为3栋加装楼道扶手。")
    secretary.get_by_role("button", name="开始表决").click()
    # The phones poll: the motion arrives with its vote buttons on the first screen.
    for _context, member in phones:
        yes = member.get_by_role("button", name="赞成", exact=True)
        expect(yes).to_be_visible()
        box = yes.bounding_box()
        assert box["y"] + box["height"] <= PHONE["height"], box
    snap(phones[1][1], artifacts, "journey-member-1-motion-on-phone")
    for (_context, member), choice in zip(phones, ["赞成", "赞成", "赞成"], strict=True):
        member.get_by_role("button", name=choice, exact=True).click()
        expect(member.get_by_test_id("my-vote-recorded")).to_be_visible()
    expect(secretary.get_by_test_id("votes-cast")).to_contain_text("3 人中已有 3 人表决")

    # Closing shows the outcome with its arithmetic, on the console and on the phones.
    confirm_click(secretary.get_by_role("button", name="结束表决并公布结果"))
    expect(secretary.get_by_test_id("outcome")).to_have_text("通过")
    expect(secretary.get_by_test_id("explanation")).to_contain_text("4 名成员中 3 人赞成")
    expect(phones[0][1].get_by_test_id("outcome")).to_have_text("通过")

    # Adjourn, write and publish the minutes; anyone can read and print them.
    confirm_click(secretary.get_by_role("button", name="宣布休会"))
    # The members' phones say that the meeting has ended (their last poll).
    expect(phones[2][1].get_by_test_id("meeting-ended")).to_contain_text("会议已结束")
    snap(phones[2][1], artifacts, "journey-member-2-meeting-ended")
    secretary.get_by_label("1. 加装楼道扶手").fill("与会委员同意加装扶手，由社区工作站组织实施。")
    confirm_click(secretary.get_by_role("button", name="公布会议纪要"))
    expect(secretary.get_by_test_id("minutes")).to_contain_text("与会委员同意加装扶手")
    snap(secretary, artifacts, "journey-secretary-6-minutes")
    for context, _member in phones:
        context.close()
    minutes_url = secretary.url
    reader = browser.new_context(base_url=base_url, viewport={"width": 794, "height": 1123}, locale="zh-CN")
    reader.route("https://cdn.jsdelivr.net/**", lambda route: route.abort())
    printable = reader.new_page()
    printable.goto(minutes_url)
    expect(printable.get_by_test_id("minutes")).to_contain_text("扶手松动")  # the urgent reason
    expect(printable.get_by_test_id("minutes")).to_contain_text("委员 周")  # named votes and attendance
    printable.emulate_media(media="print")
    expect(printable.locator(".site-header")).to_be_hidden()
    printable.screenshot(path=str(artifacts / "meeting-minutes-print.png"), full_page=True)
    printable.pdf(path=str(artifacts / "meeting-minutes.pdf"), format="A4")
    reader.close()
    csp_errors = [e for e in page.console_errors if "Content Security Policy" in e]
    assert not csp_errors, csp_errors  # no inline script or style slipped into the console or the countdown
