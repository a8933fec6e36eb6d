"""A resident registers, is verified by the admin, logs in, switches language and larger text."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.sms import last_code

from .conftest import ADMIN_PASSWORD, COMPLETED_PROJECT, PASSWORD, snap

RESIDENT_PHONE = "13655556666"
RESIDENT_PASSWORD = "resident-pass-1"


def log_in(page, login: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("手机号或登录名").fill(login)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def log_out(page) -> None:
    page.get_by_role("button", name=re.compile("退出|Log out")).click()


def test_resident_registers_is_verified_and_sets_language_and_text_size(browser, base_url, live_app, page,
                                                                        artifacts):
    # A resident registers from the community's page.
    page.goto("/c/taoyuan")
    page.get_by_role("button", name="登记为居民").click()
    page.get_by_label("小区和楼栋").select_option(label="2栋")
    page.get_by_label("单元").fill("1")
    page.get_by_label("房号").fill("1203")
    page.get_by_label("显示名称").fill("陈阿姨")
    page.get_by_label("手机号").fill(RESIDENT_PHONE)
    page.get_by_label("密码", exact=True).fill(RESIDENT_PASSWORD)
    page.get_by_label("再次输入密码").fill(RESIDENT_PASSWORD)
    page.get_by_role("button", name="登记").click()
    # The phone is proven by the SMS code (read from the file backend) before the account exists.
    expect(page.get_by_role("heading", level=1)).to_have_text("输入短信验证码")
    snap(page, artifacts, "journey-resident-0-sms-code")
    page.get_by_label("短信验证码").fill(last_code(live_app, RESIDENT_PHONE))
    page.get_by_role("button", name="确认").click()
    expect(page.get_by_test_id("phone-status")).to_contain_text("手机号已通过短信验证码验证")
    # The to-do page says what waiting for verification means and what cannot be done yet.
    page.goto("/todo")
    expect(page.get_by_test_id("todo-pending")).to_contain_text("等待社区工作站核实")
    page.goto("/account")
    expect(page.get_by_test_id("residency")).to_contain_text("待审核")
    snap(page, artifacts, "journey-resident-1-registered")
    log_out(page)

    # The community admin approves the registration from the queue (htmx swaps the row).
    log_in(page, "office", ADMIN_PASSWORD)
    page.goto("/c/taoyuan/admin/residents")
    row = page.get_by_test_id("residency-row").filter(has_text="陈阿姨")
    expect(row).to_contain_text("待审核")
    assert page.evaluate("window.htmx && window.htmx.version").startswith("2."), "htmx fallback did not load"
    row.get_by_role("button", name="通过").click()
    expect(page.get_by_test_id("residency-row").filter(has_text="陈阿姨")).to_have_count(1)
    expect(page.locator("tr", has_text="陈阿姨")).to_contain_text("已认证")
    expect(page.get_by_text("陈阿姨 已认证为居民。")).to_have_count(1)  # the message comes with the action, once
    snap(page, artifacts, "journey-office-1-verified")
    page.goto("/c/taoyuan/admin")
    expect(page.get_by_text("陈阿姨 已认证为居民。")).to_have_count(0)  # and not again on the next page

    # The office gives the new resident a seat on the council (verify → roles).
    page.goto("/c/taoyuan/admin/roles")
    page.get_by_label("登录名或手机号").fill(RESIDENT_PHONE)
    page.get_by_label("角色", exact=True).select_option(label="议事会成员")
    page.get_by_role("button", name="授予角色").click()
    expect(page.get_by_test_id("grant-row").filter(has_text="陈阿姨")).to_contain_text("议事会成员")
    snap(page, artifacts, "journey-office-2-roles")
    log_out(page)

    # The resident logs in with the phone number, lands on the to-do page and sees the verification on "My page".
    log_in(page, RESIDENT_PHONE, RESIDENT_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("我的待办")
    page.get_by_role("main").get_by_role("link", name="我的", exact=True).click()
    expect(page.get_by_test_id("residency")).to_contain_text("已认证")

    # Home page in Chinese, then switch to English; the choice is remembered across pages.
    page.goto("/c/taoyuan")
    expect(page.get_by_role("heading", name="公示栏")).to_be_visible()
    page.screenshot(path=str(artifacts / "home-zh.png"), full_page=True)
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Notice board")).to_be_visible()
    page.screenshot(path=str(artifacts / "home-en.png"), full_page=True)
    page.goto("/account")
    expect(page.get_by_test_id("residency")).to_contain_text("Verified")
    assert page.locator("html").get_attribute("lang") == "en"

    # Larger text is one tap away and stays on.
    page.wait_for_load_state("load")  # measure with the stylesheets applied
    size_before = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    page.get_by_test_id("text-size").click()
    expect(page.locator("html")).to_have_class(re.compile("large-text"))
    page.wait_for_load_state("load")
    size_after = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert size_after > size_before * 1.15
    page.goto("/c/taoyuan")
    expect(page.locator("html")).to_have_class(re.compile("large-text"))
    page.screenshot(path=str(artifacts / "home-en-large.png"), full_page=True)

    csp_errors = [e for e in page.console_errors if "Content Security Policy" in e]
    assert csp_errors == []


def test_resident_rates_a_finished_project_in_words(page, artifacts):
    log_in(page, "res-b", PASSWORD)
    page.goto("/c/taoyuan/rounds")
    page.get_by_role("link", name="2025年度民生微实事").click()
    page.get_by_role("link", name=COMPLETED_PROJECT).click()
    expect(page.get_by_test_id("rating-summary")).to_have_text("还没有评价。")
    page.get_by_label("4 分：较好").check()  # each star choice says in words what it means
    snap(page, artifacts, "journey-resident-5-rate")
    page.get_by_role("button", name="评价", exact=True).click()
    expect(page.get_by_test_id("rating-summary")).to_contain_text("4.0")
    snap(page, artifacts, "journey-resident-6-rated")


def test_bad_registration_keeps_what_was_typed_and_explains(page):
    page.goto("/c/taoyuan/register")
    page.get_by_label("单元").fill("3")
    page.get_by_label("房号").fill("502")
    page.get_by_label("显示名称").fill("赵大爷")
    page.get_by_label("手机号").fill("12345")
    page.get_by_label("密码", exact=True).fill("long-enough-1")
    page.get_by_label("再次输入密码").fill("long-enough-1")
    page.get_by_role("button", name="登记").click()
    expect(page.get_by_text("请输入 11 位大陆手机号")).to_be_visible()
    expect(page.get_by_label("显示名称")).to_have_value("赵大爷")
    expect(page.get_by_label("房号")).to_have_value("502")
