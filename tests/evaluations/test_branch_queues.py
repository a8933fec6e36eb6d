"""The Party branch's queues: ballot lists to review on the dashboard, surveys told apart by
organisation, period and dates, and an evaluation that says why it cannot be submitted yet."""

from __future__ import annotations

import re
from datetime import timedelta

from deliberation.core.models import utcnow
from deliberation.proposals.models import RoundPhase
from tests.proposals.factories import make_proposal, make_round, move_to

from .factories import closed_survey, make_evaluation, make_survey


def test_dashboard_lists_ballot_lists_waiting_for_review(client, ew, as_user):
    review = make_round(ew.w.community, ew.w.secretary, title="2027年度民生微实事")
    make_proposal(review, ew.w.resident)
    move_to(review, RoundPhase.branch_review, ew.w.secretary)
    collecting = make_round(ew.w.community, ew.w.secretary, title="仍在征集的批次")
    as_user(ew.w.party)
    page = client.get("/c/taoyuan/branch").get_data(as_text=True)
    reviews = re.findall(r'data-testid="dashboard-review">(.*?)</li>', page, re.S)
    assert len(reviews) == 1 and f'href="/c/taoyuan/rounds/{review.id}"' in reviews[0]
    assert collecting.title not in page


def test_dashboard_surveys_show_organisation_period_and_dates(client, ew, as_user):
    closed = closed_survey(ew.firm, actor=ew.w.party, answers=[(ew.neighbour, 4)])  # in 2026-Q3, closed early
    make_survey(ew.committee, actor=ew.w.party, days=10)
    as_user(ew.w.party)
    page = client.get("/c/taoyuan/branch").get_data(as_text=True)
    rows = re.findall(r'data-testid="dashboard-survey">(.*?)</li>', page, re.S)
    assert len(rows) == 2
    today = (utcnow() + timedelta(hours=8)).date()
    last = today + timedelta(days=10)
    committee_row = next(r for r in rows if "龙辉花园业主委员会" in r)
    assert f"{today.isoformat()} 至 {last.isoformat()}" in committee_row
    assert f"{last.year}-Q{(last.month - 1) // 3 + 1}" in committee_row
    firm_row = next(r for r in rows if "鹏城物业服务有限公司" in r)
    assert f"{closed.first_day.isoformat()} 至 {closed.last_day.isoformat()}" in firm_row  # the day it closed
    assert closed.last_day < closed.closes_at.date() and "2026-Q3" in firm_row
    assert rows[0] != rows[1]


def test_submitting_while_the_survey_is_open_says_so_and_links_to_closing_it(client, ew, as_user):
    survey = make_survey(ew.firm, actor=ew.w.party)
    ev = make_evaluation(ew.firm, actor=ew.w.party, survey=survey)
    as_user(ew.w.party)
    page = client.post(f"/c/taoyuan/evaluations/{ev.id}/submit", follow_redirects=True).get_data(as_text=True)
    blockers = re.search(r'data-testid="submit-blockers">(.*?)</div>', page, re.S).group(1)
    assert "仍在进行" in blockers and f'href="/c/taoyuan/surveys/{survey.id}"' in blockers
    client.post(f"/c/taoyuan/surveys/{survey.id}/close", data={"confirmed": "1"})
    page = client.get(f"/c/taoyuan/evaluations/{ev.id}").get_data(as_text=True)
    assert 'data-testid="submit-blockers"' not in page


def test_a_draft_lists_the_criteria_still_to_score(client, ew, as_user):
    ev = make_evaluation(ew.firm, actor=ew.w.party, scores=None)
    as_user(ew.w.party)
    page = client.get(f"/c/taoyuan/evaluations/{ev.id}").get_data(as_text=True)
    blockers = re.search(r'data-testid="submit-blockers">(.*?)</div>', page, re.S).group(1)
    assert ev.rubric.criteria[0].name in blockers


def test_a_resident_waiting_for_verification_is_told_why_they_cannot_answer(client, ew, as_user):
    survey = make_survey(ew.firm, actor=ew.w.party)
    as_user(ew.w.unverified)  # registered in 1栋, served by the firm, not verified yet
    page = client.get(f"/c/taoyuan/surveys/{survey.id}").get_data(as_text=True)
    assert 'data-testid="pending-notice"' in page and "等待社区工作站核实" in page
