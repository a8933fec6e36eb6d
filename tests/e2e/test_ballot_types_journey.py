"""Cumulative and ranked ballots cast on a 360×740 phone: live meter, 44 px targets, review, receipt."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import CUMULATIVE_ROUND, PASSWORD, RANKED_ROUND, snap
from .test_resident_journey import log_in, log_out


def open_ballot(page, title: str) -> None:
    page.goto("/c/taoyuan/rounds")
    page.get_by_role("link", name=title).click()
    page.get_by_test_id("vote-link").click()
    expect(page.get_by_test_id("ballot-meter")).to_be_visible()


def assert_fits_the_phone(page, control) -> None:
    """The control is a thumb-sized target and the page does not scroll sideways."""
    box = control.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44, box
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_cumulative_and_ranked_ballots_on_a_phone(page, artifacts):
    log_in(page, "voter-e", PASSWORD)

    # Cumulative: the meter counts the points left as they are typed.
    open_ballot(page, CUMULATIVE_ROUND)
    meter = page.get_by_test_id("ballot-meter")
    expect(meter).to_contain_text("剩余积分：10 / 10")
    pavilion = page.get_by_label("凉亭修缮 的积分")
    assert_fits_the_phone(page, pavilion)
    pavilion.fill("6")
    page.get_by_label("快递柜 的积分").fill("5")
    expect(meter).to_contain_text("共给出 11 分")           # htmx: refused before submitting
    page.get_by_label("快递柜 的积分").fill("4")
    expect(meter).to_contain_text("剩余积分：0 / 10")
    expect(meter).not_to_contain_text("共给出")
    snap(page, artifacts, "ballot-cumulative-zh")
    page.get_by_role("button", name="核对我的选择").click()
    expect(page.get_by_test_id("confirm-list")).to_contain_text("凉亭修缮 · 6 分")
    page.get_by_role("button", name="投出我的选票").click()
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", page.get_by_test_id("receipt-code").inner_text())

    # Ranked: a rank per project, the meter shows the ranking so far.
    open_ballot(page, RANKED_ROUND)
    meter = page.get_by_test_id("ballot-meter")
    expect(meter).to_contain_text("已用名次：0 / 2")
    lamp = page.get_by_label("路灯更换 的名次")
    assert_fits_the_phone(page, lamp)
    lamp.select_option("1")
    page.get_by_label("快递柜 的名次").select_option("1")
    expect(meter).to_contain_text("名次相同")
    page.get_by_label("快递柜 的名次").select_option("2")
    expect(meter).to_contain_text("已用名次：2 / 2")
    expect(meter.locator("ol li").first).to_have_text("1. 路灯更换")
    snap(page, artifacts, "ballot-ranked-zh")
    page.get_by_role("button", name="核对我的选择").click()
    expect(page.get_by_test_id("confirm-list").locator("li").first).to_contain_text("路灯更换")
    page.get_by_role("button", name="投出我的选票").click()
    expect(page.get_by_test_id("receipt-code")).to_be_visible()
    assert [e for e in page.console_errors if "Content Security Policy" in e] == []
    log_out(page)
