"""The personal to-do page: login leads there; each person and role sees what waits, with a link to
where it is done; the page costs the same number of queries however much waits."""

from __future__ import annotations

import pytest

from deliberation.communities import services as community_services
from deliberation.communities.models import Role
from deliberation.consultations import services as sessions
from deliberation.evaluations import services as evaluation_services
from deliberation.proposals.models import RoundPhase
from deliberation.votes import services as vote_services
from tests.access import assert_access
from tests.councils.factories import make_council, make_session, start
from tests.evaluations.factories import answer, closed_survey, make_evaluation, make_organisation, make_survey
from tests.factories import PASSWORD, grant, make_resident, make_user
from tests.proposals.factories import make_proposal, make_round, move_to

ROLES = ["anonymous", "unverified", "resident", "secretary", "party", "other_admin", "site_admin", "admin"]


@pytest.mark.parametrize("role", ROLES)
def test_everyone_logged_in_has_a_todo_page(client, world, as_user, role):
    as_user(world.user(role))
    assert_access(client.get("/todo"), role, set(ROLES) - {"anonymous"}, allowed_codes=(200,))


def test_login_and_the_header_lead_to_the_todo_page(client, world):
    response = client.post("/login", data={"login": "resident", "password": PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == "/todo"
    page = client.get("/c/taoyuan").get_data(as_text=True)
    assert 'href="/todo"' in page
    assert 'href="/account"' in client.get("/todo").get_data(as_text=True)


def _voting_round(world, title="2027年度民生微实事"):
    round_ = make_round(world.community, world.secretary, title=title)
    proposer, _ = make_resident(world.community)
    items = [make_proposal(round_, proposer, title="坡道")]
    move_to(round_, RoundPhase.voting, world.secretary, party=world.party)
    return round_, items


def test_resident_sees_the_vote_survey_and_meeting_until_done(client, world, as_user):
    round_, (ramp,) = _voting_round(world)
    firm = make_organisation(world.community, actor=world.admin, name="鹏城物业")  # serves 1栋, where they live
    survey = make_survey(firm, actor=world.party)
    council = make_council(world.community, world.admin, members=3, seat_users=[world.resident])
    meeting = make_session(world.community, world.secretary, council, title="议事会第5次会议")
    sessions.notice_session(meeting, actor=world.secretary)
    as_user(world.resident)
    page = client.get("/todo").get_data(as_text=True)
    assert f'href="/c/taoyuan/rounds/{round_.id}/vote"' in page
    assert f'href="/c/taoyuan/surveys/{survey.id}"' in page and "鹏城物业" in page
    assert f'href="/c/taoyuan/sessions/{meeting.id}"' in page and "议事会第5次会议" in page
    vote_services.cast_ballot(round_, world.resident, choices=[ramp.id])
    answer(survey, world.resident)
    page = client.get("/todo").get_data(as_text=True)
    assert 'data-testid="todo-vote"' not in page and 'data-testid="todo-survey"' not in page
    as_user(world.unverified)  # not verified: no vote, but told why
    page = client.get("/todo").get_data(as_text=True)
    assert 'data-testid="todo-vote"' not in page and 'data-testid="todo-pending"' in page


def test_household_vote_counts_for_the_other_member(client, world, as_user):
    round_ = make_round(world.community, world.secretary)
    proposer, _ = make_resident(world.community)
    ramp = make_proposal(round_, proposer, title="坡道")
    vote_services.set_ballot_rules(round_, per_household=True, max_approvals=None, must_fit_budget=True,
                                   counting_rule=round_.counting_rule, actor=world.secretary)
    move_to(round_, RoundPhase.voting, world.secretary, party=world.party)
    a, _ = make_resident(world.community, unit="2", room="202")
    b, _ = make_resident(world.community, unit="2", room="202")
    vote_services.cast_ballot(round_, a, choices=[ramp.id])
    as_user(b)
    assert 'data-testid="todo-vote"' not in client.get("/todo").get_data(as_text=True)


def test_secretary_sees_screening_paper_sheets_and_minutes(client, world, as_user):
    screening = make_round(world.community, world.secretary, title="筛选中的批次")
    make_proposal(screening, world.resident, title="甲")
    make_proposal(screening, world.resident, title="乙")
    move_to(screening, RoundPhase.screening, world.secretary)
    voting, (ramp,) = _voting_round(world, title="投票中的批次")
    vote_services.mark_paper_voter(voting, world.resident, actor=world.secretary)
    vote_services.key_paper_sheet(voting, sheet="A1", choices=[ramp.id], operator=world.secretary)
    council = make_council(world.community, world.admin, members=3)
    meeting = make_session(world.community, world.secretary, council, title="已休会的会议", starts_in=__import__(
        "datetime").timedelta(hours=1))
    start(meeting, world.secretary)
    sessions.adjourn_session(meeting, actor=world.secretary)
    as_user(world.secretary)
    page = client.get("/todo").get_data(as_text=True)
    assert "2 个项目待初筛" in page and f'href="/c/taoyuan/rounds/{screening.id}/screening"' in page
    assert "1 张纸质选票待处理" in page and f'href="/c/taoyuan/rounds/{voting.id}/paper"' in page
    assert "会议纪要待发布" in page and f'href="/c/taoyuan/sessions/{meeting.id}/minutes/edit"' in page
    as_user(world.resident)
    page = client.get("/todo").get_data(as_text=True)
    assert "待初筛" not in page and "纸质选票待处理" not in page


def test_party_branch_sees_ballot_lists_evaluations_and_surveys(client, world, as_user):
    review = make_round(world.community, world.secretary, title="待审核的批次")
    make_proposal(review, world.resident)
    move_to(review, RoundPhase.branch_review, world.secretary)
    firm = make_organisation(world.community, actor=world.admin, name="鹏城物业")
    survey = closed_survey(firm, actor=world.party, answers=[(world.resident, 4)])
    ev = make_evaluation(firm, actor=world.party, survey=survey)
    evaluation_services.submit_evaluation(ev, actor=world.party)
    committee = make_organisation(world.community, actor=world.admin, name="龙辉业委会", estates=("龙辉花园",))
    open_one = make_survey(committee, actor=world.party)
    as_user(world.party)
    page = client.get("/todo").get_data(as_text=True)
    assert "投票清单待审核" in page and f'href="/c/taoyuan/rounds/{review.id}"' in page
    assert "评价待确认" in page and f'href="/c/taoyuan/evaluations/{ev.id}"' in page
    assert "满意度问卷待结束" in page and f'href="/c/taoyuan/surveys/{open_one.id}"' in page


def test_office_sees_residents_to_verify(client, world, as_user):
    make_resident(world.community, verified=False)
    as_user(world.admin)
    page = client.get("/todo").get_data(as_text=True)
    assert "2 位居民待核实" in page and 'href="/c/taoyuan/admin/residents"' in page
    as_user(world.other_admin)
    assert "居民待核实" not in client.get("/todo").get_data(as_text=True)


def test_representative_sees_evaluations_awaiting_a_reply(client, world, as_user):
    firm = make_organisation(world.community, actor=world.admin, name="鹏城物业")
    rep = make_user(login="firm-rep")
    community_services.grant_role(world.community, user=rep, role=Role.org_rep, actor=world.admin, organisation=firm)
    party2 = grant(make_user(login="party2"), world.community, Role.party_branch)
    survey = closed_survey(firm, actor=world.party, answers=[(world.resident, 4)])
    ev = make_evaluation(firm, actor=world.party, survey=survey)
    evaluation_services.submit_evaluation(ev, actor=world.party)
    evaluation_services.publish_evaluation(ev, actor=party2)
    as_user(rep)
    page = client.get("/todo").get_data(as_text=True)
    assert "评价待您答复" in page and f'href="/c/taoyuan/evaluations/{ev.id}/reply"' in page
    evaluation_services.post_reply(ev, author=rep, body="感谢测评，我们将在下季度改进绿化养护。")
    assert "评价待您答复" not in client.get("/todo").get_data(as_text=True)


def test_todo_page_runs_a_fixed_number_of_queries(client, world, as_user, count_queries):
    everyone = world.secretary  # a resident who holds every role, so every query runs
    grant(everyone, world.community, Role.community_admin)
    grant(everyone, world.community, Role.party_branch)
    council = make_council(world.community, world.admin, members=1, seat_users=[everyone])
    counts = []
    for n in (1, 4):
        for i in range(n):
            screening = make_round(world.community, world.secretary, title=f"批次{n}-{i}")
            make_proposal(screening, world.resident, title="甲")
            move_to(screening, RoundPhase.screening, world.secretary)
            voting, (ramp,) = _voting_round(world, title=f"投票{n}-{i}")
            vote_services.mark_paper_voter(voting, world.resident, actor=world.secretary)
            vote_services.key_paper_sheet(voting, sheet="A1", choices=[ramp.id], operator=world.secretary)
            review = make_round(world.community, world.secretary, title=f"审核{n}-{i}")
            make_proposal(review, world.resident)
            move_to(review, RoundPhase.branch_review, world.secretary)
            firm = make_organisation(world.community, actor=world.admin)
            make_survey(firm, actor=world.party)
            meeting = make_session(world.community, world.secretary, council, title=f"会议{n}-{i}")
            sessions.notice_session(meeting, actor=world.secretary)
            make_resident(world.community, verified=False)
        as_user(everyone)
        with count_queries() as counter:
            response = client.get("/todo")
        assert response.status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


def test_each_item_ends_with_one_action_and_roles_get_their_work_pages(client, world, as_user):
    """A phone user taps one clear button per item; a branch member with nothing waiting still finds
    the dashboard, and a resident waiting for verification can go and read their community."""
    voting, _projects = _voting_round(world, title="按钮批次")
    as_user(world.resident)
    page = client.get("/todo").get_data(as_text=True)
    assert f'href="/c/taoyuan/rounds/{voting.id}/vote" role="button" class="todo-action">去投票' in page
    as_user(world.party)
    page = client.get("/todo").get_data(as_text=True)
    assert 'data-testid="todo-shortcuts"' in page and 'href="/c/taoyuan/branch"' in page
    as_user(world.unverified)
    assert 'href="/c/taoyuan"' in client.get("/todo").get_data(as_text=True)


def test_a_request_with_a_deadline_comes_before_evaluations_awaiting_a_reply(client, world, as_user):
    """A firm's representative found three evaluations from past quarters (a reply is optional and has no
    deadline) above the request whistled to the firm that had to be signed within hours."""
    from deliberation.grids import requests as handling
    from tests.grids.factories import file, make_grids

    firm = make_organisation(world.community, actor=world.admin, name="鹏城物业")
    rep = make_user(login="firm-rep")
    community_services.grant_role(world.community, user=rep, role=Role.org_rep, actor=world.admin, organisation=firm)
    party2 = grant(make_user(login="party2"), world.community, Role.party_branch)
    ev = make_evaluation(firm, actor=world.party, survey=closed_survey(firm, actor=world.party,
                                                                       answers=[(world.resident, 4)]))
    evaluation_services.submit_evaluation(ev, actor=world.party)
    evaluation_services.publish_evaluation(ev, actor=party2)
    g = make_grids(world, firm=firm, firm_rep=rep)
    req = file(world)
    handling.sign(req, actor=g.worker)
    handling.whistle(req, g.firm_unit, actor=g.worker)
    as_user(rep)
    page = client.get("/todo").get_data(as_text=True)
    assert page.index(f'href="/c/taoyuan/requests/{req.id}"') < page.index(f'href="/c/taoyuan/evaluations/{ev.id}/reply"')
