"""On a 360×740 phone, login lands on the to-do page, whose items lead to where the work is done."""

from __future__ import annotations

from playwright.sync_api import expect

from .conftest import PASSWORD
from .test_resident_journey import log_in, log_out


def test_login_lands_on_the_todo_page_and_its_vote_leads_to_the_ballot(browser, base_url, artifacts):
    context = browser.new_context(base_url=base_url, viewport={"width": 360, "height": 740}, locale="zh-CN")
    page = context.new_page()
    try:
        log_in(page, "res-b", PASSWORD)
        expect(page).to_have_url(f"{base_url}/todo")
        expect(page.get_by_role("heading", level=1)).to_have_text("我的待办")
        vote = page.get_by_test_id("todo-vote").filter(has_text="2026年度第二批")
        expect(vote).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=str(artifacts / "todo-resident-360.png"), full_page=True)
        vote.get_by_role("link").click()
        expect(page.get_by_test_id("ballot-meter")).to_be_visible()
        page.get_by_test_id("todo-link").click()
        expect(page).to_have_url(f"{base_url}/todo")
        log_out(page)
    finally:
        context.close()
