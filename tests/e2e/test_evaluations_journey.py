"""The branch opens a survey, two residents answer, the branch records and publishes an evaluation
(four eyes), the firm's representative replies, and a resident sees the chart and the reply."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from deliberation.core.models import utcnow
from deliberation.evaluations.periods import period_of

from .conftest import EVAL_PASSWORD, FIRM_NAME, confirm_click, snap
from .test_resident_journey import log_in, log_out


def answer_survey(page, login: str, rating: str, comment: str) -> None:
    log_in(page, login, EVAL_PASSWORD)
    page.goto("/c/taoyuan")
    page.get_by_role("link", name=f"为 {FIRM_NAME} 打分").click()
    form = page.get_by_test_id("survey-form")
    for fieldset in form.locator("fieldset").all():
        fieldset.locator(f'input[type="radio"][value="{rating}"]').check()
    page.get_by_label(re.compile("意见建议")).fill(comment)
    page.get_by_role("button", name="提交答卷").click()
    expect(page.get_by_test_id("survey-answered")).to_be_visible()
    log_out(page)


def test_branch_survey_evaluation_reply_and_public_chart(page, artifacts):
    # The Party branch opens a satisfaction survey for the firm.
    log_in(page, "branch1", EVAL_PASSWORD)
    page.goto("/c/taoyuan/branch")
    page.get_by_test_id("dashboard-org").filter(has_text=FIRM_NAME).get_by_role("button", name="开放问卷").click()
    page.get_by_role("button", name="开放问卷").click()
    expect(page.get_by_test_id("survey-state")).to_contain_text("开放至")
    snap(page, artifacts, "journey-branch-2-survey-open")
    survey_url = page.url
    log_out(page)

    # Two residents of the served estate answer from the notice board.
    answer_survey(page, "resident-a", "5", "保洁及时")
    answer_survey(page, "resident-b", "4", "停车有点乱")

    # The branch sees turnout by building (ratings and comments only once closed), closes the survey
    # and records the evaluation.
    log_in(page, "branch1", EVAL_PASSWORD)
    page.goto(survey_url)
    expect(page.get_by_test_id("survey-summary")).to_contain_text("2 位已作答")
    expect(page.get_by_test_id("turnout-by-building")).to_contain_text("2栋")
    expect(page.get_by_test_id("survey-sealed")).to_be_visible()  # answers stay sealed while open
    confirm_click(page.get_by_role("button", name="立即结束问卷"))
    expect(page.get_by_test_id("survey-state")).to_have_text("已结束")
    expect(page.get_by_test_id("survey-summary")).to_contain_text("90.0")  # (5 + 4) / 2 × 20
    expect(page.get_by_test_id("survey-comments")).to_contain_text("停车有点乱")

    page.goto("/c/taoyuan/branch")
    page.get_by_test_id("dashboard-org").filter(has_text=FIRM_NAME).get_by_role("button", name="新建评价").click()
    period = period_of(utcnow())  # the survey closed today: it counts for this quarter only
    page.get_by_label("评价期间").fill(period)
    page.get_by_role("button", name="开始评价").click()
    scores = page.get_by_test_id("evaluation-form").locator('input[name^="score_"]')
    expect(scores).to_have_count(7)
    for index, value in enumerate(["90", "85", "70", "88", "80", "92", "86"]):
        scores.nth(index).fill(value)
    page.get_by_label("计入成绩的满意度问卷").select_option(index=1)
    page.get_by_label("评价意见").fill("绿化养护需加强，其余良好。")
    page.get_by_role("button", name="保存草稿").click()
    # 27 + (90×8 + 85×8 + 70×6 + 88×10 + 80×8) / 100 + (92 + 86) × 0.15 = 27 + 33.4 + 26.7 = 87.1
    expect(page.get_by_test_id("total")).to_have_text("87.1")
    expect(page.get_by_test_id("four-eyes-rule")).to_contain_text("双人复核")
    page.get_by_role("button", name="提交复核").click()
    expect(page.get_by_test_id("evaluation-status")).to_have_text("已提交，待复核")
    snap(page, artifacts, "journey-branch-3-evaluation-submitted")
    expect(page.get_by_test_id("cooling-off")).to_be_visible()
    evaluation_url = page.url
    log_out(page)

    # A second branch member confirms and publishes.
    log_in(page, "branch2", EVAL_PASSWORD)
    page.goto(evaluation_url)
    confirm_click(page.get_by_role("button", name="复核并发布"))
    expect(page.get_by_test_id("evaluation-status")).to_have_text("已发布")
    snap(page, artifacts, "journey-branch-4-published-by-second-member")
    log_out(page)

    # The firm's representative replies once.
    log_in(page, "firm-rep", EVAL_PASSWORD)
    page.goto(evaluation_url)
    page.get_by_role("button", name="公开回复").click()
    page.get_by_label("组织的公开回复").fill("感谢评价，本月起每周两次修剪绿化。")
    page.get_by_role("button", name="发表回复").click()
    expect(page.get_by_test_id("reply")).to_contain_text("每周两次修剪绿化")
    expect(page.get_by_role("button", name="公开回复")).to_have_count(0)
    snap(page, artifacts, "journey-organisation-1-replied")
    log_out(page)

    # A resident reads the firm's page: grade, chart, scores and the reply.
    log_in(page, "resident-a", EVAL_PASSWORD)
    page.goto("/c/taoyuan")
    expect(page.get_by_test_id("notice-evaluations")).to_contain_text(f"{FIRM_NAME} · {period}")
    page.get_by_role("button", name="物业企业与业委会").click()
    page.get_by_role("link", name=FIRM_NAME).click()
    expect(page.get_by_test_id("grade").first).to_contain_text("87.1 · 良好")
    chart = page.get_by_test_id("history-chart")
    expect(chart).to_be_visible()
    expect(chart.locator("circle")).to_have_count(1)
    assert chart.bounding_box()["width"] > 300
    expect(page.get_by_test_id("scores-table")).to_contain_text("绿化养护")
    expect(page.get_by_test_id("reply")).to_contain_text("感谢评价，本月起每周两次修剪绿化。")
    page.screenshot(path=str(artifacts / "organisation-zh.png"), full_page=True)

    csp_errors = [e for e in page.console_errors if "Content Security Policy" in e]
    assert csp_errors == []
