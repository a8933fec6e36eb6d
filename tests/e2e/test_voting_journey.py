"""Voting in Chromium: budget meter, receipt, closing, finding the ballot; paper keyed twice counts once."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import ADMIN_PASSWORD, PASSWORD, confirm_click, snap
from .test_resident_journey import log_in, log_out


def open_round(page, title: str) -> None:
    page.goto("/c/taoyuan/rounds")
    page.get_by_role("link", name=title).click()


def test_resident_votes_gets_a_receipt_and_finds_the_ballot(page, artifacts):
    log_in(page, "voter-c", PASSWORD)
    open_round(page, "2026年度第二批")
    page.get_by_test_id("vote-link").click()
    meter = page.get_by_test_id("ballot-meter")
    page.get_by_label(re.compile("健身步道")).check()
    page.get_by_label(re.compile("儿童滑梯")).check()
    expect(meter).to_contain_text("110,000 元")            # htmx updated the meter
    expect(meter).to_contain_text("超过预算")               # refusal explained before submitting
    page.get_by_label(re.compile("儿童滑梯")).uncheck()
    page.get_by_label(re.compile("楼道扶手")).check()
    expect(meter).to_contain_text("90,000 元")
    expect(meter).not_to_contain_text("超过预算")
    page.screenshot(path=str(artifacts / "ballot-zh.png"), full_page=True)
    page.get_by_role("button", name="核对我的选择").click()
    expect(page.get_by_test_id("confirm-list")).to_contain_text("健身步道")
    page.get_by_role("button", name="投出我的选票").click()
    code = page.get_by_test_id("receipt-code").inner_text()
    snap(page, artifacts, "journey-resident-3-receipt")
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code)
    # Larger text and a reload keep the receipt (they used to answer 405 and lose it).
    page.get_by_test_id("text-size").click()
    expect(page.get_by_test_id("receipt-code")).to_have_text(code)
    page.reload()
    expect(page.get_by_test_id("receipt-code")).to_have_text(code)
    # Back on the round: it says the vote is cast, with no second vote button.
    page.goto(page.url.replace("/vote/receipt", "/vote"))
    expect(page.get_by_test_id("voted")).to_contain_text("您已投票")
    expect(page.get_by_test_id("vote-link")).to_have_count(0)
    log_out(page)

    # A resident without a phone votes on paper: two operators key the sheet, it counts once.
    log_in(page, "sec", PASSWORD)
    open_round(page, "2026年度第二批")
    page.get_by_role("button", name="纸质选票").click()
    page.get_by_label("居民（登录名或手机号）").fill("voter-d")
    page.get_by_role("button", name="登记", exact=True).click()
    expect(page.get_by_test_id("turnout")).to_contain_text("纸质 1")
    page.get_by_label("选票编号").fill("P-0001")
    page.get_by_label(re.compile("儿童滑梯")).check()
    page.get_by_role("button", name="录入", exact=True).click()
    expect(page.get_by_test_id("sheet-row")).to_contain_text("等待第二次录入")
    snap(page, artifacts, "journey-secretary-2-paper-ballots")
    log_out(page)
    log_in(page, "office", ADMIN_PASSWORD)
    open_round(page, "2026年度第二批")
    page.get_by_role("button", name="纸质选票").click()
    page.get_by_label("选票编号").fill("P-0001")
    page.get_by_label(re.compile("儿童滑梯")).check()
    page.get_by_role("button", name="录入", exact=True).click()
    expect(page.get_by_test_id("sheet-row")).to_contain_text("已计入")
    expect(page.get_by_test_id("sheet-row")).to_have_count(1)
    # One paper voter, one sheet keyed twice alike: the reconciliation lets voting close.
    expect(page.get_by_test_id("paper-reconciliation")).to_be_visible()

    # The admin closes voting; results are published.
    open_round(page, "2026年度第二批")
    confirm_click(page.get_by_role("button", name="结束投票并计票"))
    # The browser asked once, saying what would happen.
    assert page.dialogs == ["结束投票并计票？\n之后不能再投票；选票随即计票，结果公布。"]
    snap(page, artifacts, "journey-secretary-3-voting-closed")
    page.get_by_role("button", name="投票结果").click()
    expect(page.get_by_text("共计入 2 张选票")).to_be_visible()
    snap(page, artifacts, "journey-secretary-4-results")
    page.screenshot(path=str(artifacts / "results-zh.png"), full_page=True)
    log_out(page)

    # The resident finds the ballot in the public list with the receipt code.
    open_round(page, "2026年度第二批")
    page.get_by_role("button", name="公开选票清单").click()
    page.get_by_label("您的回执码").fill(code.lower())
    page.get_by_role("button", name="查找我的选票").click()
    mine = page.get_by_test_id("my-ballot")
    expect(mine).to_contain_text("健身步道")
    expect(mine).to_contain_text("楼道扶手")
    expect(page.locator(".ballot-list > li")).to_have_count(2)
    expect(mine).to_be_in_viewport()  # the found ballot's choices are on the first screen
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    snap(page, artifacts, "journey-resident-4-ballot-found")
