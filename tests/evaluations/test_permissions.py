"""Every evaluations route, every role: allowed or refused as it should be."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from deliberation.core import permissions
from deliberation.evaluations import services
from deliberation.evaluations.models import Evaluation, EvaluationStatus, Rubric, SatisfactionSurvey
from tests.access import assert_access

from .factories import answer, closed_survey, default_rubric, make_evaluation, make_published, make_survey

ROLES = ["anonymous", "unverified", "resident", "secretary", "admin", "site_admin", "other_admin", "party",
         "other_party", "org_rep", "longhui"]
EVERYONE = set(ROLES)
BRANCH = {"party"}
ADMIN = {"admin"}
EXPORT = {"party", "admin"}
ORG_REP = {"org_rep"}
SERVED_RESIDENTS = {"resident", "secretary"}


@dataclass
class Objects:
    survey: SatisfactionSurvey
    closed: SatisfactionSurvey
    draft: Evaluation
    published: Evaluation
    committee_published: Evaluation
    default: Rubric
    copy: Rubric


@pytest.fixture
def objects(ew) -> Objects:
    earlier = closed_survey(ew.firm, actor=ew.w.party, answers=[(ew.w.resident, 4), (ew.neighbour, 3)],
                            period="2026-Q2")
    published = make_published(ew.firm, submitter=ew.w.party, confirmer=ew.party2, survey=earlier, period="2026-Q2")
    closed = closed_survey(ew.firm, actor=ew.w.party, answers=[(ew.w.resident, 4), (ew.neighbour, 3)])
    committee_survey = closed_survey(ew.committee, actor=ew.w.party, answers=[(ew.longhui, 2)], period="2026-Q2")
    committee_published = make_published(ew.committee, submitter=ew.w.party, confirmer=ew.party2,
                                         survey=committee_survey, period="2026-Q2")
    draft = make_evaluation(ew.firm, actor=ew.party2, period="2026-Q3", survey=closed)
    survey = make_survey(ew.firm, actor=ew.w.party)
    default = default_rubric(ew.w.community)
    copy = services.copy_rubric(default, actor=ew.w.party)
    return Objects(survey, closed, draft, published, committee_published, default, copy)


def rating_form(o: Objects) -> dict:
    return {f"item_{c.id}": "4" for c in o.survey.rubric.resident_items}


# (method, url builder, form data, roles allowed)
ROUTES = [
    ("GET", lambda o: "/c/taoyuan", None, EVERYONE),
    ("GET", lambda o: "/c/taoyuan/organisations", None, EVERYONE),
    ("GET", lambda o: f"/c/taoyuan/organisations/{o.published.organisation_id}", None, EVERYONE),
    ("GET", lambda o: f"/c/taoyuan/evaluations/{o.published.id}", None, EVERYONE),
    ("GET", lambda o: f"/c/taoyuan/surveys/{o.survey.id}", None, EVERYONE),
    ("GET", lambda o: f"/c/taoyuan/surveys/{o.closed.id}", None, EVERYONE),
    ("POST", lambda o: f"/c/taoyuan/surveys/{o.survey.id}", rating_form, SERVED_RESIDENTS),
    ("GET", lambda o: f"/c/taoyuan/evaluations/{o.draft.id}", None, BRANCH),
    ("GET", lambda o: "/c/taoyuan/branch", None, BRANCH),
    ("GET", lambda o: "/c/taoyuan/branch/rubrics", None, BRANCH),
    ("GET", lambda o: f"/c/taoyuan/branch/rubrics/{o.default.id}", None, BRANCH),
    ("POST", lambda o: f"/c/taoyuan/branch/rubrics/{o.default.id}/copy", {}, BRANCH),
    ("GET", lambda o: f"/c/taoyuan/branch/rubrics/{o.copy.id}/edit", None, BRANCH),
    ("POST", lambda o: f"/c/taoyuan/branch/rubrics/{o.copy.id}/edit", {"name": ""}, BRANCH),
    ("GET", lambda o: f"/c/taoyuan/organisations/{o.draft.organisation_id}/surveys/new", None, BRANCH),
    ("POST", lambda o: f"/c/taoyuan/organisations/{o.draft.organisation_id}/surveys/new", {}, BRANCH),
    ("POST", lambda o: f"/c/taoyuan/surveys/{o.survey.id}/close", {}, BRANCH),
    ("GET", lambda o: f"/c/taoyuan/organisations/{o.draft.organisation_id}/evaluations/new", None, BRANCH),
    ("POST", lambda o: f"/c/taoyuan/organisations/{o.draft.organisation_id}/evaluations/new",
     lambda o: {"period": "2027-Q1", "rubric": o.default.id}, BRANCH),
    ("GET", lambda o: f"/c/taoyuan/evaluations/{o.draft.id}/edit", None, BRANCH),
    ("POST", lambda o: f"/c/taoyuan/evaluations/{o.draft.id}/edit", {"narrative": "改"}, BRANCH),
    ("POST", lambda o: f"/c/taoyuan/evaluations/{o.draft.id}/photos", {}, BRANCH),
    ("POST", lambda o: f"/c/taoyuan/evaluations/{o.draft.id}/submit", {}, BRANCH),
    ("POST", lambda o: f"/c/taoyuan/evaluations/{o.draft.id}/withdraw", {}, BRANCH),
    ("POST", lambda o: f"/c/taoyuan/evaluations/{o.draft.id}/publish", {}, BRANCH),
    ("GET", lambda o: f"/c/taoyuan/evaluations/{o.published.id}/correct", None, BRANCH),
    ("POST", lambda o: f"/c/taoyuan/evaluations/{o.published.id}/correct", {"reason": ""}, BRANCH),
    ("GET", lambda o: "/c/taoyuan/admin/organisations", None, ADMIN),
    ("POST", lambda o: "/c/taoyuan/admin/organisations", {"kind": "property_firm", "name": ""}, ADMIN),
    ("GET", lambda o: f"/c/taoyuan/admin/organisations/{o.draft.organisation_id}/edit", None, ADMIN),
    ("POST", lambda o: f"/c/taoyuan/admin/organisations/{o.draft.organisation_id}/edit",
     {"kind": "property_firm", "name": ""}, ADMIN),
    ("GET", lambda o: "/c/taoyuan/evaluations/export.csv", None, EXPORT),
    ("GET", lambda o: "/c/taoyuan/evaluations/export.xlsx", None, EXPORT),
    ("GET", lambda o: f"/c/taoyuan/evaluations/{o.published.id}/reply", None, ORG_REP),
    ("POST", lambda o: f"/c/taoyuan/evaluations/{o.published.id}/reply", {"body": ""}, ORG_REP),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "url", "data", "allowed"), ROUTES,
                         ids=[f"{m} {i}" for i, (m, *_rest) in enumerate(ROUTES)])
def test_route_access(client, ew, objects, as_user, role, method, url, data, allowed):
    as_user(ew.user(role))
    form = data(objects) if callable(data) else data
    response = client.open(url(objects), method=method, data=form)
    assert_access(response, role, allowed)


@pytest.mark.parametrize("role", ["secretary", "admin", "site_admin", "resident", "org_rep", "other_party"])
def test_nobody_but_the_branch_can_create_or_change_an_evaluation(client, ew, objects, as_user, role):
    as_user(ew.user(role))
    before = (objects.draft.narrative, objects.draft.status)
    assert client.post(f"/c/taoyuan/evaluations/{objects.draft.id}/edit", data={"narrative": "篡改"}).status_code == 403
    assert client.post(f"/c/taoyuan/evaluations/{objects.draft.id}/submit").status_code == 403
    assert client.post(f"/c/taoyuan/organisations/{ew.firm.id}/evaluations/new",
                       data={"period": "2027-Q2", "rubric": objects.default.id}).status_code == 403
    assert client.post(f"/c/taoyuan/evaluations/{objects.published.id}/correct",
                       data={"reason": "想改分"}).status_code == 403
    from deliberation.extensions import db

    db.session.expire_all()
    assert (objects.draft.narrative, objects.draft.status) == before
    assert services.published_history([ew.firm.id])[ew.firm.id] == [objects.published]


def test_a_branch_member_of_another_community_reaches_nothing_through_their_own_community(client, ew, objects,
                                                                                         as_user):
    as_user(ew.other_party)
    assert client.get(f"/c/other/evaluations/{objects.draft.id}/edit").status_code == 404
    assert client.post(f"/c/other/evaluations/{objects.draft.id}/submit").status_code == 404
    assert client.get(f"/c/other/organisations/{ew.firm.id}/evaluations/new").status_code == 404
    assert client.get("/c/taoyuan/branch").status_code == 403
    assert objects.draft.status == EvaluationStatus.draft


def test_an_org_rep_replies_only_to_their_own_organisation_and_once(client, ew, objects, as_user):
    as_user(ew.org_rep)
    url = f"/c/taoyuan/evaluations/{objects.committee_published.id}/reply"
    assert client.get(url).status_code == 403
    assert client.post(url, data={"body": "我不是业委会的"}).status_code == 403
    own = f"/c/taoyuan/evaluations/{objects.published.id}/reply"
    assert client.post(own, data={"body": "感谢评价，我们会整改。"}).status_code == 303
    second = client.post(own, data={"body": "再回复一次"})
    assert second.status_code == 409
    assert "已经回复" in second.get_data(as_text=True)
    assert services.reply_for(objects.published).body == "感谢评价，我们会整改。"
    assert services.reply_for(objects.committee_published) is None


def test_an_org_rep_cannot_reply_to_a_draft(client, ew, objects, as_user):
    as_user(ew.org_rep)
    assert client.post(f"/c/taoyuan/evaluations/{objects.draft.id}/reply", data={"body": "x"}).status_code == 403


def test_a_resident_of_another_estate_cannot_answer_and_nothing_is_saved(client, ew, objects, as_user):
    as_user(ew.longhui)
    response = client.post(f"/c/taoyuan/surveys/{objects.survey.id}", data=rating_form(objects))
    assert response.status_code == 403
    assert not services.has_answered(objects.survey, ew.longhui)


def test_predicates_used_by_templates(ew, objects):
    assert permissions.can_evaluate(ew.w.party, ew.firm)
    assert not permissions.can_evaluate(ew.other_party, ew.firm)
    assert permissions.can_reply(ew.org_rep, objects.published)
    assert not permissions.can_reply(ew.org_rep, objects.published, has_reply=True)
    assert not permissions.can_reply(ew.committee_rep, objects.published)
    assert permissions.can_answer_survey(ew.w.resident, objects.survey)
    assert not permissions.can_answer_survey(ew.longhui, objects.survey)
    answer(objects.survey, ew.w.resident)
    assert permissions.can_view_evaluation(None, objects.published)
    assert not permissions.can_view_evaluation(None, objects.draft)
