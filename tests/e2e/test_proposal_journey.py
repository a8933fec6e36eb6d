"""A proposal from a resident's idea to the ballot: submit with a photo, co-sign, comment, accept, pass."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.proposals.factories import jpeg_bytes

from .conftest import PASSWORD, confirm_click, snap
from .test_resident_journey import log_in, log_out


def open_round(page) -> None:
    page.goto("/c/taoyuan")
    page.get_by_role("button", name="民生微实事批次").click()
    page.get_by_role("link", name="2027年度民生微实事").click()


def test_proposal_goes_from_idea_to_the_ballot(page, artifacts):
    # A resident proposes a project with a photo.
    log_in(page, "res-a", PASSWORD)
    open_round(page)
    page.get_by_role("button", name="提出项目").click()
    page.get_by_label("标题").fill("楼下加装休闲座椅")
    page.get_by_label("要做什么？为什么？").fill("广场没有座椅，老人散步累了没地方坐。")
    page.get_by_label("类别").select_option(label="货物类")
    page.get_by_label("预估费用（元）").fill("36,000")
    page.get_by_label("地点", exact=True).select_option(label="1栋")
    page.get_by_label(re.compile("照片")).set_input_files(
        files=[{"name": "广场.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes(size=(320, 240))}])
    page.get_by_role("button", name="发布项目").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("楼下加装休闲座椅")
    expect(page.get_by_test_id("proposal-status")).to_have_text("已提交")
    expect(page.locator(".photos img")).to_have_count(1)
    snap(page, artifacts, "journey-resident-2-proposed")
    proposal_url = page.url
    log_out(page)

    # A neighbour co-signs (htmx swaps the panel) and comments.
    log_in(page, "res-b", PASSWORD)
    page.goto(proposal_url)
    page.get_by_role("button", name="附议", exact=True).click()
    expect(page.get_by_test_id("support-count")).to_have_text("1 人附议")
    expect(page.get_by_text("您已附议这个项目。")).to_be_visible()
    page.get_by_label("您的评论").fill("支持，我妈妈每天都在广场散步。")
    page.get_by_role("button", name="发表评论").click()
    expect(page.get_by_test_id("comment")).to_contain_text("支持，我妈妈每天都在广场散步。")
    page.screenshot(path=str(artifacts / "proposal-zh.png"), full_page=True)
    log_out(page)

    # The secretary closes collection and accepts the proposal during screening.
    log_in(page, "sec", PASSWORD)
    open_round(page)
    confirm_click(page.get_by_role("button", name="结束征集，开始初筛"))
    expect(page.locator(".timeline li.current")).to_contain_text("初筛")
    # The round page names what blocks the next phase and leads to the screening queue.
    expect(page.get_by_test_id("advance-blocked")).to_contain_text("待初筛")
    page.get_by_test_id("screening-link").click()
    item = page.get_by_test_id("screening-item")
    expect(item).to_have_count(1)
    snap(page, artifacts, "journey-secretary-1-screening-queue")
    if item.get_by_role("link", name="附理由受理").count():  # below the co-signature threshold
        item.get_by_role("link", name="附理由受理").click()
        page.get_by_role("textbox").first.fill("居民普遍需要，议事会同意先行受理。")
        page.get_by_role("button", name="受理").click()
    else:
        item.get_by_role("button", name="受理", exact=True).click()
    expect(page.get_by_test_id("screening-done")).to_be_visible()
    page.goto(proposal_url)
    expect(page.get_by_test_id("proposal-status")).to_have_text("已受理")
    snap(page, artifacts, "journey-secretary-1-screened")
    open_round(page)
    confirm_click(page.get_by_role("button", name="结束初筛，提交党组织审核"))
    expect(page.locator(".timeline li.current")).to_contain_text("党组织审核")
    log_out(page)

    # The Party branch passes the list; the proposal is on the ballot.
    log_in(page, "branch", PASSWORD)
    open_round(page)
    confirm_click(page.get_by_role("button", name="通过清单，开始投票"))
    expect(page.locator(".timeline li.current")).to_contain_text("居民投票")
    snap(page, artifacts, "journey-branch-1-list-reviewed")
    page.goto(proposal_url)
    expect(page.get_by_test_id("proposal-status")).to_have_text("列入投票")
