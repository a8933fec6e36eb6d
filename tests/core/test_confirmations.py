"""Every irreversible action asks once: without JavaScript a POST lacking confirmed=1 gets a page that
states the consequence and changes nothing; the page's button re-posts with confirmed=1 and acts.
With JavaScript the same words sit on the form (data-confirm) for static/js/confirm.js."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from deliberation.communities.models import ResidencyStatus, Role, RoleGrant
from deliberation.consultations import services as sessions
from deliberation.consultations.models import CountMethod, SessionStatus
from deliberation.evaluations import services as evaluations
from deliberation.evaluations.models import EvaluationStatus
from deliberation.extensions import db
from deliberation.proposals.models import RoundPhase
from deliberation.votes import services as votes
from deliberation.votes.models import PaperEntry
from tests.conftest import login_as
from tests.councils.factories import make_council, make_session, start
from tests.evaluations.factories import closed_survey, make_evaluation, make_organisation, make_survey
from tests.factories import grant, make_resident, make_user
from tests.proposals.factories import make_proposal, make_round, move_to


@dataclass
class Action:
    actor: object
    url: str
    data: dict
    done: Callable[[], bool]  # has the irreversible thing happened?
    page: str  # a page that shows the button
    consequence: str  # words of the consequence, on the page, the button's form and the confirmation page
    button: str  # the label of the button that acts


def _round_in(world, phase):
    round_ = make_round(world.community, world.secretary, budget=100_000, project_cap=100_000)
    make_proposal(round_, world.resident, title="坡道", cost=60_000)
    move_to(round_, phase, world.secretary, party=world.party)
    return round_


def advance_collecting(world):
    round_ = _round_in(world, RoundPhase.collecting)
    return Action(world.secretary, f"/c/taoyuan/rounds/{round_.id}/advance", {},
                  lambda: round_.phase == RoundPhase.screening, f"/c/taoyuan/rounds/{round_.id}",
                  "之后居民不能再在本批次提出项目。", "结束征集，开始初筛")


def close_voting(world):
    round_ = _round_in(world, RoundPhase.voting)
    return Action(world.secretary, f"/c/taoyuan/rounds/{round_.id}/advance", {},
                  lambda: round_.phase == RoundPhase.council_resolution, f"/c/taoyuan/rounds/{round_.id}",
                  "之后不能再投票", "结束投票并计票")


def delete_paper_entry(world):
    round_ = _round_in(world, RoundPhase.voting)
    item = votes.ballot_items(round_)[0]
    votes.mark_paper_voter(round_, world.resident, actor=world.secretary)
    votes.key_paper_sheet(round_, sheet="P-0007", choices=[item.id], operator=world.secretary)
    entry = db.session.scalar(select(PaperEntry).where(PaperEntry.round_id == round_.id))
    entry_id = entry.id
    return Action(world.secretary, f"/c/taoyuan/rounds/{round_.id}/paper/entries/{entry_id}/delete", {},
                  lambda: db.session.get(PaperEntry, entry_id) is None, f"/c/taoyuan/rounds/{round_.id}/paper",
                  "需要重新录入该选票", "删除这次录入")


def publish_evaluation(world):
    firm = make_organisation(world.community, actor=world.admin)
    survey = closed_survey(firm, actor=world.party, answers=[(world.resident, 4)])
    evaluation = make_evaluation(firm, actor=world.party, survey=survey)
    evaluations.submit_evaluation(evaluation, actor=world.party)
    second = grant(make_user(login="party2"), world.community, Role.party_branch)
    return Action(second, f"/c/taoyuan/evaluations/{evaluation.id}/publish", {},
                  lambda: evaluation.status == EvaluationStatus.published, f"/c/taoyuan/evaluations/{evaluation.id}",
                  "已发布的评价不能再修改", "复核并发布")


def close_survey(world):
    firm = make_organisation(world.community, actor=world.admin)
    survey = make_survey(firm, actor=world.party)
    return Action(world.party, f"/c/taoyuan/surveys/{survey.id}/close", {}, lambda: not survey.open_now,
                  f"/c/taoyuan/surveys/{survey.id}", "问卷不能重新开启", "立即结束问卷")


def revoke_role(world):
    grant_ = db.session.scalar(select(RoleGrant).where(RoleGrant.user_id == world.party.id))
    grant_id = grant_.id
    return Action(world.admin, f"/c/taoyuan/admin/roles/{grant_id}/revoke", {},
                  lambda: db.session.get(RoleGrant, grant_id) is None, "/c/taoyuan/admin/roles",
                  "立即失去该角色的全部权限", "收回角色")


def mark_moved_out(world):
    _, residency = make_resident(world.community, login="mover")
    return Action(world.admin, f"/c/taoyuan/admin/residents/{residency.id}/moved-out", {},
                  lambda: residency.status == ResidencyStatus.moved_out,
                  f"/c/taoyuan/admin/residents?status={ResidencyStatus.verified.value}",
                  "立即失去在本社区的居民权限", "标记为迁出")


def _running_session(world):
    council = make_council(world.community, world.admin, members=3, seat_users=[world.resident])
    session = make_session(world.community, world.secretary, council)
    start(session, world.secretary)
    return session


def notice_session(world):
    council = make_council(world.community, world.admin, members=3)
    session = make_session(world.community, world.secretary, council)
    return Action(world.secretary, f"/c/taoyuan/sessions/{session.id}/notice", {},
                  lambda: session.status == SessionStatus.noticed, f"/c/taoyuan/sessions/{session.id}",
                  "无法撤回", "发布会议通知")


def adjourn_session(world):
    session = _running_session(world)
    return Action(world.secretary, f"/c/taoyuan/sessions/{session.id}/adjourn", {},
                  lambda: session.status == SessionStatus.adjourned, f"/c/taoyuan/sessions/{session.id}/console",
                  "会议就此结束", "宣布休会")


def close_motion(world):
    session = _running_session(world)
    for member in session.council.members:
        sessions.sign_in(session, member.user, recorded_by=world.secretary)
    motion = sessions.open_motion(session.items[0], text="同意加装坡道", method=CountMethod.show_of_hands,
                                  actor=world.secretary)
    return Action(world.secretary, f"/c/taoyuan/sessions/{session.id}/motions/{motion.id}/close",
                  {"yes": "3", "no": "0", "abstain": "0"}, lambda: motion.outcome is not None,
                  f"/c/taoyuan/sessions/{session.id}/console", "之后不能再对此动议表决", "结束表决并公布结果")


def publish_minutes(world):
    session = _running_session(world)
    sessions.adjourn_session(session, actor=world.secretary)
    data = {f"item-{session.items[0].id}": "同意。", "minutes_summary": "会议有效。", "publish": "1"}
    return Action(world.secretary, f"/c/taoyuan/sessions/{session.id}/minutes/edit", data,
                  lambda: session.status == SessionStatus.minutes_published,
                  f"/c/taoyuan/sessions/{session.id}/minutes/edit", "之后只能公开说明理由进行更正", "公布会议纪要")


def answer_request(world):
    from deliberation.grids import requests as handling
    from tests.grids.factories import file, make_grids

    g = make_grids(world)
    req = file(world)
    handling.sign(req, actor=g.worker)
    return Action(g.worker, f"/c/taoyuan/requests/{req.id}/answer", {"answer": "已修好"},
                  lambda: req.answered_at is not None, f"/c/taoyuan/requests/{req.id}",
                  "不能再继续办理", "发送答复")


def rate_request(world):
    from tests.grids.factories import answered, make_grids

    req = answered(world, make_grids(world))
    return Action(world.resident, f"/c/taoyuan/requests/{req.id}/rate", {"resolved": "yes", "satisfaction": "5",
                                                                          "comment": ""},
                  lambda: req.closed_at is not None, f"/c/taoyuan/requests/{req.id}",
                  "诉求将按此结果办结，之后不能更改。", "提交评价")


ACTIONS = [advance_collecting, close_voting, delete_paper_entry, publish_evaluation, close_survey, revoke_role,
           mark_moved_out, notice_session, adjourn_session, close_motion, publish_minutes, answer_request,
           rate_request]


def _hidden_fields(page: str) -> dict[str, str]:
    form = page[page.index('data-testid="confirm-page"'):]
    return {html.unescape(name): html.unescape(value) for name, value in
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form)}


@pytest.mark.parametrize("setup", ACTIONS, ids=[a.__name__ for a in ACTIONS])
def test_without_javascript_the_action_asks_first_and_acts_only_when_confirmed(client, world, setup):
    action = setup(world)
    login_as(client, action.actor)
    asked = client.post(action.url, data=action.data)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and 'data-testid="confirm-page"' in page
    assert action.consequence in page and action.button in page
    db.session.expire_all()
    assert not action.done()  # nothing changed yet

    fields = _hidden_fields(page)
    assert fields["confirmed"] == "1" and "csrf_token" in fields  # the page re-posts with a fresh token
    assert {k: v for k, v in fields.items() if k not in ("csrf_token", "confirmed")} == action.data  # same form
    acted = client.post(action.url, data=fields, csrf=False)
    assert acted.status_code == 303
    db.session.expire_all()
    assert action.done()


@pytest.mark.parametrize("setup", ACTIONS, ids=[a.__name__ for a in ACTIONS])
def test_the_button_says_what_it_does_and_its_form_asks_in_the_same_words(client, world, setup):
    action = setup(world)
    login_as(client, action.actor)
    page = html.unescape(client.get(action.page).get_data(as_text=True))
    assert action.button in page
    asks = re.findall(r'data-confirm="([^"]*)"', page)
    assert any(action.consequence in question for question in asks)


def test_confirmation_page_offers_a_way_back(client, world):
    action = close_voting(world)
    login_as(client, action.actor)
    page = client.post(action.url).get_data(as_text=True)
    assert f'href="{action.page}"' in page and "取消，返回" in page
    assert "结束投票并计票？" in page


def test_the_script_that_asks_is_served_from_this_site(client, world):
    page = client.get("/c/taoyuan").get_data(as_text=True)
    src = re.search(r'src="(/static/js/confirm(?:\.[0-9a-f]+)?\.js)"', page).group(1)  # cache-busted name
    script = client.get(src).get_data(as_text=True)
    assert "window.confirm" in script and "confirmed" in script


def test_an_unconfirmed_htmx_request_gets_the_question_in_place_of_the_page(client, world):
    action = mark_moved_out(world)
    login_as(client, action.actor)
    response = client.post(action.url, headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and 'data-testid="confirm-page"' in body
    assert response.headers["HX-Retarget"] == "#main" and response.headers["HX-Reswap"] == "innerHTML"
    db.session.expire_all()
    assert not action.done()
    confirmed = client.post(action.url, data={"confirmed": "1"}, headers={"HX-Request": "true"})
    assert confirmed.status_code == 200 and 'data-testid="confirm-page"' not in confirmed.get_data(as_text=True)
    db.session.expire_all()
    assert action.done()
