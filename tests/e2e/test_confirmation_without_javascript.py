"""Without JavaScript an irreversible action shows a page that says what will happen; Cancel leads back and
changes nothing; Confirm acts. (With JavaScript the browser's dialog asks instead: test_voting_journey.)"""

from __future__ import annotations

from playwright.sync_api import expect

from .conftest import ADMIN_PASSWORD
from .test_resident_journey import log_in


def test_revoking_a_role_without_javascript_asks_on_a_page(browser, base_url, artifacts):
    context = browser.new_context(base_url=base_url, viewport={"width": 360, "height": 740}, locale="zh-CN",
                                  java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        log_in(page, "office", ADMIN_PASSWORD)
        page.goto("/c/taoyuan/admin/roles")
        row = page.get_by_test_id("grant-row").filter(has_text="临时秘书 陈")
        row.get_by_role("button", name="收回角色").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("收回临时秘书 陈的“议事会秘书”角色？")
        expect(page.get_by_test_id("confirm-consequence")).to_contain_text("对方立即失去该角色的全部权限")
        page.screenshot(path=str(artifacts / "confirm-without-js-zh.png"), full_page=True)
        page.get_by_role("button", name="取消，返回").click()
        expect(page.get_by_test_id("grant-row").filter(has_text="临时秘书 陈")).to_have_count(1)  # nothing changed

        page.get_by_test_id("grant-row").filter(has_text="临时秘书 陈").get_by_role("button", name="收回角色").click()
        page.get_by_role("button", name="收回角色").click()
        expect(page.get_by_test_id("grant-row").filter(has_text="临时秘书 陈")).to_have_count(0)
    finally:
        context.close()
