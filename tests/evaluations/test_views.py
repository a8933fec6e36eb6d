"""Evaluations through HTTP: registering organisations, surveys, recording and publishing, replies,
the organisation page and its chart, the notice board, exports, photos and fixed query counts."""

from __future__ import annotations

import csv
import io
import itertools
import re

import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import func, select

from deliberation.communities.models import Role
from deliberation.core import audit, uploads
from deliberation.core.audit import AuditEvent
from deliberation.core.errors import DomainError
from deliberation.evaluations import services
from deliberation.evaluations.models import Evaluation, EvaluationStatus, Organisation
from deliberation.extensions import db
from tests.conftest import login_as
from tests.core.test_shared_uploads import switch_host
from tests.factories import make_resident

from .factories import answer, closed_survey, default_rubric, make_evaluation, make_published, make_survey

_names = itertools.count(1)
CONFIRMED = {"confirmed": "1"}  # as the confirmation dialog or page sends it


def page_text(response) -> str:
    return response.get_data(as_text=True)


def jpeg_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (80, 60), (30, 120, 30)).save(out, "JPEG")
    return out.getvalue()


# --- the community office -------------------------------------------------------------

def test_admin_registers_an_organisation_and_grants_its_representative(client, world, as_user):
    as_user(world.admin)
    estate = next(e for e in world.community.estates if e.name == "龙辉花园")
    response = client.post("/c/taoyuan/admin/organisations", data={
        "kind": "owner_committee", "name": "龙辉花园业主委员会", "estates": [estate.id],
        "term_start": "2025-06-01", "term_end": "2030-05-31"})
    assert response.status_code == 303
    org = db.session.scalar(select(Organisation).where(Organisation.name == "龙辉花园业主委员会"))
    assert org.estate_names == "龙辉花园" and str(org.term_end) == "2030-05-31"
    listing = page_text(client.get("/c/taoyuan/admin/organisations"))
    assert "龙辉花园业主委员会" in listing and "业主委员会" in listing

    roles = page_text(client.get("/c/taoyuan/admin/roles"))
    assert "所代表的组织" in roles and "龙辉花园业主委员会" in roles
    missing = client.post("/c/taoyuan/admin/roles", data={"user": "resident", "role": "org_rep"})
    assert missing.status_code == 422 and "请选择该代表所代表的组织。" in page_text(missing)
    granted = client.post("/c/taoyuan/admin/roles", data={"user": "resident", "role": "org_rep",
                                                           "organisation": org.id})
    assert granted.status_code == 303
    db.session.expire_all()
    grant = next(g for g in world.resident.role_grants if g.role == Role.org_rep)
    assert grant.organisation_id == org.id
    assert "龙辉花园业主委员会" in page_text(client.get("/c/taoyuan/admin/roles"))


@pytest.mark.parametrize("data,message", [
    ({"kind": "property_firm", "name": "", "estates": []}, "此项必填。"),
    ({"kind": "property_firm", "name": "无小区物业"}, "请至少选择一个服务小区。"),
    ({"kind": "property_firm", "name": "倒序物业", "term_start": "2026-01-01", "term_end": "2025-01-01"},
     "结束日期必须晚于开始日期。"),
])
def test_bad_organisation_form_is_explained(client, world, as_user, data, message):
    as_user(world.admin)
    if "estates" not in data and "倒序" in data["name"]:
        data = {**data, "estates": [world.community.estates[0].id]}
    response = client.post("/c/taoyuan/admin/organisations", data=data)
    assert response.status_code == 422 and message in page_text(response)
    assert db.session.scalar(select(Organisation)) is None


def test_an_estate_of_another_community_is_refused_on_the_page(client, world, as_user):
    as_user(world.admin)
    response = client.post("/c/taoyuan/admin/organisations", data={
        "kind": "property_firm", "name": "越界物业", "estates": [world.other.estates[0].id]})
    assert response.status_code == 422 and "请选择本社区的小区。" in page_text(response)


def test_admin_corrects_an_organisation_and_its_published_evaluations_stay_with_it(client, ew, as_user):
    closed = closed_survey(ew.firm, actor=ew.w.party, answers=[(ew.w.resident, 4)], period="2026-Q2")
    published = make_published(ew.firm, submitter=ew.w.party, confirmer=ew.party2, survey=closed, period="2026-Q2")
    as_user(ew.w.admin)
    form = page_text(client.get(f"/c/taoyuan/admin/organisations/{ew.firm.id}/edit"))
    assert 'value="鹏城物业服务有限公司"' in form and "不能再更改类型" in form
    estates = {e.name: e.id for e in ew.w.community.estates}
    response = client.post(f"/c/taoyuan/admin/organisations/{ew.firm.id}/edit", data={
        "kind": "property_firm", "name": "深圳鹏城物业服务有限公司", "estates": [estates["桃源村一区"], estates["龙辉花园"]],
        "term_start": "2024-01-01", "term_end": "2026-12-31"})
    assert response.status_code == 303
    db.session.expire_all()
    assert ew.firm.name == "深圳鹏城物业服务有限公司" and {e.name for e in ew.firm.estates} == {"桃源村一区", "龙辉花园"}
    assert str(ew.firm.term_end) == "2026-12-31"
    assert "深圳鹏城物业服务有限公司" in page_text(client.get(f"/c/taoyuan/evaluations/{published.id}"))
    assert "organisation.updated" in {e.action for e in db.session.scalars(select(AuditEvent))}


@pytest.mark.parametrize("changes,message", [
    ({"name": "龙辉花园业主委员会"}, "已登记同名组织。"),
    ({"name": ""}, "此项必填。"),
    ({"term_start": "2026-01-01", "term_end": "2025-01-01"}, "结束日期必须晚于开始日期。"),
    ({"estates": []}, "请至少选择一个服务小区。"),
    ({"kind": "owner_committee"}, "不能再更改类型"),
])
def test_a_bad_correction_is_explained_and_nothing_changes(client, ew, as_user, changes, message):
    make_evaluation(ew.firm, actor=ew.w.party, period="2026-Q3")
    as_user(ew.w.admin)
    data = {"kind": "property_firm", "name": "鹏城物业服务有限公司",
            "estates": [e.id for e in ew.firm.estates], **changes}
    response = client.post(f"/c/taoyuan/admin/organisations/{ew.firm.id}/edit", data=data)
    assert response.status_code in (409, 422) and message in page_text(response)
    db.session.expire_all()
    assert ew.firm.name == "鹏城物业服务有限公司" and ew.firm.kind.value == "property_firm"
    assert {e.name for e in ew.firm.estates} == {"桃源村一区"}


def test_the_kind_can_be_corrected_before_any_survey_or_evaluation(client, ew, as_user):
    as_user(ew.w.admin)
    response = client.post(f"/c/taoyuan/admin/organisations/{ew.committee.id}/edit", data={
        "kind": "property_firm", "name": "龙辉物业", "estates": [e.id for e in ew.committee.estates]})
    assert response.status_code == 303
    db.session.expire_all()
    assert ew.committee.kind.value == "property_firm" and ew.committee.name == "龙辉物业"


# --- surveys --------------------------------------------------------------------------

def test_branch_opens_a_survey_residents_answer_once_and_the_branch_sees_turnout(app, client, ew, as_user):
    as_user(ew.w.party)
    rubric = default_rubric(ew.w.community)
    response = client.post(f"/c/taoyuan/organisations/{ew.firm.id}/surveys/new",
                           data={"rubric": rubric.id, "closes_on": "2099-01-01"})
    assert response.status_code == 422 and "问卷最长开放 90 天。" in page_text(response)
    form = page_text(client.get(f"/c/taoyuan/organisations/{ew.firm.id}/surveys/new"))
    closes_on = re.search(r'name="closes_on"[^>]*value="([\d-]+)"', form).group(1)
    response = client.post(f"/c/taoyuan/organisations/{ew.firm.id}/surveys/new",
                           data={"rubric": rubric.id, "closes_on": closes_on})
    assert response.status_code == 303
    survey = services.surveys_of(ew.w.community)[0]
    items = {f"item_{c.id}": "5" for c in rubric.resident_items}

    resident = app.test_client()
    login_as(resident, ew.w.resident)
    notice = page_text(resident.get("/c/taoyuan"))
    assert "正在进行的满意度问卷" in notice and f"/c/taoyuan/surveys/{survey.id}" in notice
    page = page_text(resident.get(f"/c/taoyuan/surveys/{survey.id}"))
    assert "非常满意" in page and "安全管理" in page and "设施设备维护" not in page  # not resident-facing
    incomplete = resident.post(f"/c/taoyuan/surveys/{survey.id}", data={f"item_{rubric.resident_items[0].id}": "5"})
    assert incomplete.status_code == 422 and "此项必填。" in page_text(incomplete)
    out_of_range = resident.post(f"/c/taoyuan/surveys/{survey.id}", data={**items, "comment": "x",
                                                                            next(iter(items)): "9"})
    assert out_of_range.status_code == 422 and "请选择 1 到 5 分。" in page_text(out_of_range)
    assert resident.post(f"/c/taoyuan/surveys/{survey.id}", data={**items, "comment": "门岗很负责"}).status_code == 303
    assert "您已填写本问卷" in page_text(resident.get(f"/c/taoyuan/surveys/{survey.id}"))
    again = resident.post(f"/c/taoyuan/surveys/{survey.id}", data=items)
    assert again.status_code == 422 and "您已经填写过本问卷。每位居民只能填写一次。" in page_text(again)

    neighbour = app.test_client()
    login_as(neighbour, ew.neighbour)
    low = {key: "3" for key in items}
    response = neighbour.post(f"/c/taoyuan/surveys/{survey.id}", data=low, headers={"HX-Request": "true"})
    assert response.status_code == 303 or response.headers.get("HX-Redirect")

    # While open the branch sees who took part by building, but no rating or comment: those are sealed,
    # and live answers next to live turnout would pair them with who just answered.
    branch_view = page_text(client.get(f"/c/taoyuan/surveys/{survey.id}"))
    assert "3 位居民中 2 位已作答" in branch_view and "各楼栋参与情况" in branch_view
    assert "80.0" not in branch_view and "门岗很负责" not in branch_view and "问卷结束后公布结果。" in branch_view

    public_view = page_text(app.test_client().get(f"/c/taoyuan/surveys/{survey.id}"))
    assert "各楼栋参与情况" not in public_view and "门岗很负责" not in public_view
    assert "问卷结束后公布结果。" in public_view

    assert client.post(f"/c/taoyuan/surveys/{survey.id}/close", data=CONFIRMED).status_code == 303
    closed = resident.post(f"/c/taoyuan/surveys/{survey.id}", data=items)
    assert closed.status_code == 422 and "该问卷已结束。" in page_text(closed)
    public_after = page_text(app.test_client().get(f"/c/taoyuan/surveys/{survey.id}"))
    assert "80.0" in public_after and "各楼栋参与情况" not in public_after
    branch_after = page_text(client.get(f"/c/taoyuan/surveys/{survey.id}"))
    assert "80.0" in branch_after and "门岗很负责" in branch_after  # (5 + 3) / 2 × 20
    assert ew.w.resident.display_name not in branch_after and ew.neighbour.display_name not in branch_after


def test_htmx_survey_answer_returns_the_partial_with_the_error(client, ew, as_user):
    survey = make_survey(ew.firm, actor=ew.w.party)
    as_user(ew.w.resident)
    response = client.post(f"/c/taoyuan/surveys/{survey.id}", data={}, headers={"HX-Request": "true"})
    body = page_text(response)
    assert response.status_code == 422 and "<html" not in body and 'id="survey-form"' in body
    assert "此项必填。" in body


# --- evaluations ----------------------------------------------------------------------

@pytest.fixture
def survey(ew):
    return closed_survey(ew.firm, actor=ew.w.party, answers=[(ew.w.resident, 4), (ew.neighbour, 5)])


def score_form(evaluation: Evaluation, value="85", **overrides) -> dict:
    data = {f"score_{c.id}": value for c in evaluation.rubric.criteria}
    data.update(overrides)
    return data


def test_branch_records_submits_and_a_second_member_publishes(app, client, ew, survey, as_user):
    as_user(ew.w.party)
    response = client.post(f"/c/taoyuan/organisations/{ew.firm.id}/evaluations/new",
                           data={"period": "2026-Q3", "rubric": survey.rubric_id})
    assert response.status_code == 303
    evaluation = db.session.scalar(select(Evaluation))
    assert response.headers["Location"].endswith(f"/evaluations/{evaluation.id}/edit")
    edit = page_text(client.get(f"/c/taoyuan/evaluations/{evaluation.id}/edit"))
    assert "安全管理（8）" in edit and "评分标准" in edit

    response = client.post(f"/c/taoyuan/evaluations/{evaluation.id}/edit",
                           data={**score_form(evaluation), "survey": survey.id, "narrative": "绿化养护不到位。"})
    assert response.status_code == 303
    detail = page_text(client.get(f"/c/taoyuan/evaluations/{evaluation.id}"))
    # 0.3 × 90 (survey) + 0.7 × 85 = 27 + 59.5 = 86.5
    assert "86.5" in detail and "良好" in detail and "双人复核" in detail
    assert client.post(f"/c/taoyuan/evaluations/{evaluation.id}/submit").status_code == 303
    db.session.expire_all()
    assert evaluation.status == EvaluationStatus.submitted
    own = page_text(client.get(f"/c/taoyuan/evaluations/{evaluation.id}"))
    assert 'data-testid="cooling-off"' in own
    client.post(f"/c/taoyuan/evaluations/{evaluation.id}/publish", data=CONFIRMED)
    db.session.expire_all()
    assert evaluation.status == EvaluationStatus.submitted  # the submitter alone, within 24 hours

    second = app.test_client()
    login_as(second, ew.party2)
    assert second.post(f"/c/taoyuan/evaluations/{evaluation.id}/publish", data=CONFIRMED).status_code == 303
    db.session.expire_all()
    assert evaluation.status == EvaluationStatus.published and evaluation.published_by_id == ew.party2.id

    visitor = app.test_client()
    notice = page_text(visitor.get("/c/taoyuan"))
    assert "鹏城物业服务有限公司 · 2026-Q3" in notice and "86.5 良好" in notice
    org_page = page_text(visitor.get(f"/c/taoyuan/organisations/{ew.firm.id}"))
    assert 'data-testid="history-chart"' in org_page and "<svg" in org_page
    assert "2 位居民中" not in org_page and "3 位居民中 2 位作答" in org_page
    assert "绿化养护" in org_page and "86.5" in org_page


def test_the_org_page_chart_uses_no_inline_style(client, ew, survey_in):
    for period, score in [("2026-Q1", 95), ("2026-Q2", 70), ("2026-Q3", 50)]:
        make_published(ew.firm, submitter=ew.w.party, confirmer=ew.party2, survey=survey_in(period), period=period,
                       scores=score)
    page = page_text(client.get(f"/c/taoyuan/organisations/{ew.firm.id}"))
    svg = page[page.index("<svg"):page.index("</svg>")]
    assert "style=" not in svg and "<polyline" in svg and svg.count("<circle") == 3
    assert "2026-Q1" in svg and "2026-Q3" in svg
    assert client.get(f"/c/taoyuan/organisations/{ew.firm.id}").headers["Content-Security-Policy"].count(
        "style-src 'self'") == 1


@pytest.mark.parametrize("value,message", [
    ("101", "“安全管理”：请输入 0 到 100 的分数，最多保留一位小数。"),
    ("-5", "“安全管理”：请输入 0 到 100 的分数"),
    ("85.25", "最多保留一位小数"),
])
def test_scores_out_of_range_are_explained_and_nothing_is_saved(client, ew, survey, as_user, value, message):
    evaluation = make_evaluation(ew.firm, actor=ew.w.party, scores=None, survey=survey)
    first = evaluation.rubric.criteria[0]
    as_user(ew.w.party)
    response = client.post(f"/c/taoyuan/evaluations/{evaluation.id}/edit",
                           data=score_form(evaluation, **{f"score_{first.id}": value}))
    assert response.status_code == 422 and message in page_text(response)
    db.session.expire_all()
    assert evaluation.scores == []


def test_submitting_with_missing_criteria_is_refused_with_their_names(client, ew, survey, as_user):
    evaluation = make_evaluation(ew.firm, actor=ew.w.party, scores=None, survey=survey)
    as_user(ew.w.party)
    client.post(f"/c/taoyuan/evaluations/{evaluation.id}/edit",
                data={**score_form(evaluation), f"score_{evaluation.rubric.criteria[-1].id}": "", "survey": survey.id})
    response = client.post(f"/c/taoyuan/evaluations/{evaluation.id}/submit", follow_redirects=True)
    assert "提交前请为每项指标打分。尚缺：收费与公示。" in page_text(response)
    db.session.expire_all()
    assert evaluation.status == EvaluationStatus.draft


def test_a_period_with_a_published_evaluation_is_refused_on_the_page(client, ew, survey, survey_in, as_user):
    make_published(ew.firm, submitter=ew.w.party, confirmer=ew.party2, survey=survey_in("2026-Q2"), period="2026-Q2")
    as_user(ew.w.party)
    response = client.post(f"/c/taoyuan/organisations/{ew.firm.id}/evaluations/new",
                           data={"period": "2026-Q2", "rubric": survey.rubric_id})
    assert response.status_code == 422
    assert "2026-Q2 已有已发布的评价。请更正该评价，而不是新建。" in page_text(response)


def test_a_correction_is_a_new_version_with_a_public_reason(app, client, ew, survey, as_user):
    original = make_published(ew.firm, submitter=ew.w.party, confirmer=ew.party2, survey=survey, scores=60)
    as_user(ew.w.party)
    assert client.post(f"/c/taoyuan/evaluations/{original.id}/edit", data=score_form(original, "99")).status_code == 403
    response = client.post(f"/c/taoyuan/evaluations/{original.id}/correct", data={"reason": "秩序维护分数录入错误"})
    correction = db.session.scalar(select(Evaluation).where(Evaluation.version == 2))
    assert response.headers["Location"].endswith(f"/evaluations/{correction.id}/edit")
    client.post(f"/c/taoyuan/evaluations/{correction.id}/edit", data={**score_form(correction, "70"), "survey": survey.id})
    client.post(f"/c/taoyuan/evaluations/{correction.id}/submit")
    second = app.test_client()
    login_as(second, ew.party2)
    second.post(f"/c/taoyuan/evaluations/{correction.id}/publish", data=CONFIRMED)
    visitor = app.test_client()
    page = page_text(visitor.get(f"/c/taoyuan/evaluations/{correction.id}"))
    assert "秩序维护分数录入错误" in page and "第 2 版" in page and "已被更正版本取代" in page
    old = page_text(visitor.get(f"/c/taoyuan/evaluations/{original.id}"))
    assert "此版本已被更正" in old
    org_page = page_text(visitor.get(f"/c/taoyuan/organisations/{ew.firm.id}"))
    assert "已更正（第 2 版）" in org_page


def test_the_org_rep_replies_and_everyone_sees_it(app, client, ew, survey, as_user):
    evaluation = make_published(ew.firm, submitter=ew.w.party, confirmer=ew.party2, survey=survey)
    as_user(ew.org_rep)
    page = page_text(client.get(f"/c/taoyuan/evaluations/{evaluation.id}"))
    assert f"/evaluations/{evaluation.id}/reply" in page
    empty = client.post(f"/c/taoyuan/evaluations/{evaluation.id}/reply", data={"body": ""})
    assert empty.status_code == 422 and "此项必填。" in page_text(empty)
    client.post(f"/c/taoyuan/evaluations/{evaluation.id}/reply", data={"body": "已增派保洁人员，下月复查。"})
    visitor = app.test_client()
    assert "已增派保洁人员，下月复查。" in page_text(visitor.get(f"/c/taoyuan/evaluations/{evaluation.id}"))
    assert "已增派保洁人员，下月复查。" in page_text(visitor.get(f"/c/taoyuan/organisations/{ew.firm.id}"))
    assert f"/evaluations/{evaluation.id}/reply" not in page_text(client.get(f"/c/taoyuan/evaluations/{evaluation.id}"))


def test_two_consecutive_fails_warn_on_the_org_page_and_the_dashboard(client, ew, survey, survey_in, as_user):
    for period, score in [("2026-Q1", 75), ("2026-Q2", 45)]:
        make_published(ew.firm, submitter=ew.w.party, confirmer=ew.party2, survey=survey_in(period), period=period,
                       scores=score)
    warning = "连续两次评价为不合格"
    assert warning not in page_text(client.get(f"/c/taoyuan/organisations/{ew.firm.id}"))
    make_published(ew.firm, submitter=ew.w.party, confirmer=ew.party2, survey=survey, period="2026-Q3", scores=40)
    assert warning in page_text(client.get(f"/c/taoyuan/organisations/{ew.firm.id}"))
    assert warning in page_text(client.get("/c/taoyuan/organisations"))
    as_user(ew.w.party)
    assert warning in page_text(client.get("/c/taoyuan/branch"))


def test_evidence_photos_are_private_until_published(app, client, ew, survey, as_user, tmp_path):
    evaluation = make_evaluation(ew.firm, actor=ew.w.party, survey=survey)
    as_user(ew.w.party)
    bad = client.post(f"/c/taoyuan/evaluations/{evaluation.id}/photos",
                      data={"photo": (io.BytesIO(b"%PDF-1.4"), "scan.jpg")})
    assert bad.status_code == 422 and "该文件不是可读取的 JPEG、PNG 或 WebP 照片。" in page_text(bad)
    response = client.post(f"/c/taoyuan/evaluations/{evaluation.id}/photos",
                           data={"photo": (io.BytesIO(jpeg_bytes()), "IMG_0001.jpg"), "caption": "消防通道堆物"})
    assert response.status_code == 303
    db.session.expire_all()
    photo = evaluation.photos[0]
    assert "IMG_0001" not in photo.filename
    url = f"/c/taoyuan/evaluations/photos/{photo.filename}"
    branch = client.get(url)
    assert branch.status_code == 200 and branch.mimetype == "image/jpeg" and "no-store" in branch.headers["Cache-Control"]
    visitor = app.test_client()
    assert visitor.get(url).status_code == 302  # to the login page
    resident = app.test_client()
    login_as(resident, ew.w.resident)
    assert resident.get(url).status_code == 403
    services.submit_evaluation(evaluation, actor=ew.w.party)
    services.publish_evaluation(evaluation, actor=ew.party2)
    public = visitor.get(url)
    assert public.status_code == 200 and public.data[:2] == b"\xff\xd8"
    assert "消防通道堆物" in page_text(visitor.get(f"/c/taoyuan/evaluations/{evaluation.id}"))
    assert visitor.get("/c/other/evaluations/photos/" + photo.filename).status_code == 404


def test_evidence_uploaded_through_one_host_is_shown_to_the_branch_by_another(app, client, ew, survey, as_user,
                                                                             monkeypatch, tmp_path):
    evaluation = make_evaluation(ew.firm, actor=ew.w.party, survey=survey)
    as_user(ew.w.party)
    response = client.post(f"/c/taoyuan/evaluations/{evaluation.id}/photos",
                           data={"photo": (io.BytesIO(jpeg_bytes()), "IMG_0001.jpg"), "caption": "消防通道堆物"})
    assert response.status_code == 303
    db.session.expire_all()
    name = evaluation.photos[0].filename
    switch_host(app, monkeypatch, tmp_path / "host-b")
    served = client.get(f"/c/taoyuan/evaluations/photos/{name}")
    assert served.status_code == 200 and served.data[:2] == b"\xff\xd8"
    assert "no-store" in served.headers["Cache-Control"]
    # Evidence is never served as a public upload, whatever its name.
    assert client.get(f"/uploads/{name}").status_code == 404



def test_a_refused_evidence_photo_stores_nothing(ew):
    evaluation = make_evaluation(ew.firm, actor=ew.w.party)
    with pytest.raises(DomainError):
        services.add_photo(evaluation, data=b"%PDF-1.4", caption="", actor=ew.w.party)
    assert db.session.scalar(select(func.count()).select_from(uploads.StoredFile)) == 0


# --- exports --------------------------------------------------------------------------

@pytest.fixture
def published(ew, survey, survey_in):
    evaluation = make_published(ew.firm, submitter=ew.w.party, confirmer=ew.party2, survey=survey_in("2026-Q2"),
                                period="2026-Q2", scores=88)
    draft = make_evaluation(ew.firm, actor=ew.w.party, period="2026-Q3", survey=survey)
    return evaluation, draft


def test_csv_export_has_chinese_headers_and_only_published_evaluations(client, ew, published, as_user):
    as_user(ew.w.party)
    response = client.get("/c/taoyuan/evaluations/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data.startswith("\ufeff".encode())
    *rows, stamp = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:5] == ["社区", "组织名称", "组织类型", "服务小区", "评价期间"] and "总分" in rows[0]
    assert len(rows) == 2  # the draft is not exported
    assert stamp[0].startswith("# 审计日志链头 audit log head: ") and audit.head().hash in stamp[0]  # a trailing comment
    row = dict(zip(rows[0], rows[1], strict=True))
    # 0.3 × 90 + 0.7 × 88 = 27 + 61.6 = 88.6
    assert row["组织名称"] == "鹏城物业服务有限公司" and row["评价期间"] == "2026-Q2"
    assert row["总分"] == "88.6" and row["等级"] == "良好" and row["居民满意度（百分制）"] == "90.0"
    assert "安全管理 88.0" in row["各项得分"]


def test_xlsx_export_has_a_summary_and_a_score_sheet(client, ew, published, as_user):
    as_user(ew.w.admin)
    response = client.get("/c/taoyuan/evaluations/export.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    summary, details = workbook["评价汇总"], workbook["各项得分"]
    headers = [c.value for c in summary[1]]
    values = dict(zip(headers, [c.value for c in summary[2]], strict=True))
    assert values["总分"] == 88.6 and values["等级"] == "良好" and values["组织类型"] == "物业服务企业"
    assert [c.value for c in details[1]] == ["组织名称", "评价期间", "版本", "部分", "评价指标", "权重", "得分"]
    assert details.max_row == 1 + 7
    assert workbook.sheetnames == ["评价汇总", "各项得分", "审计"]
    assert workbook["审计"]["B3"].value == audit.head().seq and workbook["审计"]["B4"].value == audit.head().hash
    assert client.get("/c/taoyuan/evaluations/export.pdf").status_code == 404


def test_export_neutralises_spreadsheet_formulas(client, ew, survey, as_user):
    evaluation = make_evaluation(ew.firm, actor=ew.w.party, survey=survey, narrative="=HYPERLINK(\"http://x\")")
    services.submit_evaluation(evaluation, actor=ew.w.party)
    services.publish_evaluation(evaluation, actor=ew.party2)
    as_user(ew.w.party)
    text = client.get("/c/taoyuan/evaluations/export.csv").data.decode("utf-8-sig")
    assert "'=HYPERLINK" in text


# --- rubric pages ---------------------------------------------------------------------

def test_branch_copies_and_adjusts_a_rubric_on_the_page(client, ew, as_user):
    as_user(ew.w.party)
    default = default_rubric(ew.w.community)
    page = page_text(client.get(f"/c/taoyuan/branch/rubrics/{default.id}"))
    assert "消防设施完好" in page and "优秀" in page  # score-band descriptions
    response = client.post(f"/c/taoyuan/branch/rubrics/{default.id}/copy")
    copy_id = int(response.headers["Location"].rstrip("/edit").split("/")[-1])
    form = page_text(client.get(f"/c/taoyuan/branch/rubrics/{copy_id}/edit"))
    assert form.count("<fieldset") == 8  # seven criteria and one empty row
    data = {"name": "2027 物业标准", "satisfaction_weight": "30"}
    for i, c in enumerate(default.criteria):
        data.update({f"criteria-{i}-name": c.name, f"criteria-{i}-part": c.part.value,
                     f"criteria-{i}-weight": str(c.weight)})
        if c.resident_facing:
            data[f"criteria-{i}-resident_facing"] = "y"
    data["criteria-0-weight"] = "10"
    bad = client.post(f"/c/taoyuan/branch/rubrics/{copy_id}/edit", data=data)
    assert bad.status_code == 422 and "权重合计为 102，必须等于 100。" in page_text(bad)
    data["satisfaction_weight"] = "28"
    assert client.post(f"/c/taoyuan/branch/rubrics/{copy_id}/edit", data=data).status_code == 303
    shown = page_text(client.get(f"/c/taoyuan/branch/rubrics/{copy_id}"))
    assert "2027 物业标准" in shown and ">28<" in shown
    make_survey(ew.firm, actor=ew.w.party, rubric=db.session.get(type(default), copy_id))
    locked = client.get(f"/c/taoyuan/branch/rubrics/{copy_id}/edit")
    assert locked.status_code == 303


# --- list pages run a fixed number of queries -----------------------------------------

def add_history(ew, survey, organisation, periods):
    for period in periods:
        answers = [(ew.w.resident, 4), (ew.neighbour, 5)] if organisation == ew.firm else [(ew.longhui, 4)]
        period_survey = closed_survey(organisation, actor=ew.w.party, answers=answers, period=period)
        evaluation = make_published(organisation, submitter=ew.w.party, confirmer=ew.party2, survey=period_survey,
                                    period=period, scores=70)
        services.post_reply(evaluation, author=ew.org_rep, body=f"回复 {period}")


def query_counts(client, count_queries, path, grow):
    counts = []
    for step in (0, 1):
        grow(step)
        with count_queries() as counter:
            assert client.get(path).status_code == 200
        counts.append(counter.count)
    return counts


def test_organisation_page_query_count_is_constant(client, ew, survey, count_queries):
    batches = [["2025-Q1"], ["2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"]]
    counts = query_counts(client, count_queries, f"/c/taoyuan/organisations/{ew.firm.id}",
                          lambda step: add_history(ew, survey, ew.firm, batches[step]))
    assert counts[0] == counts[1], counts


def test_organisations_list_and_notice_board_query_counts_are_constant(client, ew, survey, count_queries):
    def grow(step):
        for n in range(1 if step == 0 else 6):
            org = make_organisation_quick(ew, f"{step}-{n}")
            other_survey = closed_survey(org, actor=ew.w.party, answers=[(ew.w.resident, 4)])
            make_published(org, submitter=ew.w.party, confirmer=ew.party2, survey=other_survey)
            make_survey(org, actor=ew.w.party)

    for path in ("/c/taoyuan/organisations", "/c/taoyuan"):
        counts = query_counts(client, count_queries, path, grow)
        assert counts[0] == counts[1], (path, counts)


def make_organisation_quick(ew, suffix):
    from .factories import make_organisation

    return make_organisation(ew.w.community, actor=ew.w.admin, name=f"物业{suffix}-{next(_names)}")


def test_branch_dashboard_and_survey_results_query_counts_are_constant(client, ew, as_user, count_queries):
    as_user(ew.w.party)
    survey = make_survey(ew.firm, actor=ew.w.party)

    def grow(step):
        for n in range(2 if step == 0 else 12):
            user, _ = make_resident(ew.w.community, building_name="2栋" if n % 2 else "1栋")
            answer(survey, user, 3 + n % 3, comment=f"意见{step}-{n}")
        make_organisation_quick(ew, f"d{step}")
        make_evaluation(ew.committee, actor=ew.w.party, period=f"20{30 + next(_names)}-Q1", scores=None)

    for path in ("/c/taoyuan/branch", f"/c/taoyuan/surveys/{survey.id}"):
        counts = query_counts(client, count_queries, path, grow)
        assert counts[0] == counts[1], (path, counts)


def test_the_account_page_leads_the_rep_to_their_organisation_and_the_branch_to_its_dashboard(client, ew, as_user):
    as_user(ew.org_rep)
    page = page_text(client.get("/account"))
    assert "鹏城物业服务有限公司" in page and f"/c/taoyuan/organisations/{ew.firm.id}" in page
    as_user(ew.w.party)
    assert "/c/taoyuan/branch" in page_text(client.get("/account"))


def test_the_survey_list_offers_only_surveys_that_may_count_labelled_by_period_dates_and_answers(
        client, ew, survey_in, as_user):
    old = survey_in("2025-Q3")
    make_published(ew.firm, submitter=ew.w.party, confirmer=ew.party2, survey=old, period="2025-Q3")
    current = survey_in("2026-Q3")
    draft = make_evaluation(ew.firm, actor=ew.w.party, period="2026-Q3", scores=None)
    as_user(ew.w.party)
    page = page_text(client.get(f"/c/taoyuan/evaluations/{draft.id}/edit"))
    options = re.findall(r'<option[^>]*value="(\d+)"[^>]*>([^<]*)</option>', page)
    assert [int(value) for value, _ in options] == [current.id]
    assert "2026-Q3 · 2026-09-01 至 2026-09-06 · 2 份答卷 · 已结束" in options[0][1]
    # The server refuses what the page does not offer.
    response = client.post(f"/c/taoyuan/evaluations/{draft.id}/edit",
                           data={**score_form(draft), "survey": old.id, "narrative": "x"})
    assert response.status_code == 422 and "2025-09-06" in page_text(response)
    db.session.expire_all()
    assert draft.survey_id is None


@pytest.mark.parametrize(("now", "quarter"), [
    ("2026-11-30 08:00", "2026-Q4"),
    ("2026-12-31 17:00", "2027-Q1"),  # already 1 January in Shanghai (UTC+8)
    ("2026-03-31 15:59", "2026-Q1"),
])
def test_the_new_evaluation_form_offers_the_current_quarter_in_beijing_time(app, client, ew, as_user, monkeypatch,
                                                                            now, quarter):
    from datetime import datetime

    from deliberation.evaluations import views

    monkeypatch.setattr(views, "utcnow", lambda: datetime.fromisoformat(now))
    as_user(ew.w.party)
    form = page_text(client.get(f"/c/taoyuan/organisations/{ew.firm.id}/evaluations/new"))
    assert re.search(rf'name="period"[^>]*value="{quarter}"', form), form
    # Still editable: a period typed by the branch is what a failed submission shows again.
    again = page_text(client.post(f"/c/taoyuan/organisations/{ew.firm.id}/evaluations/new",
                                  data={"period": "2025-Q2", "rubric": ""}))
    assert re.search(r'name="period"[^>]*value="2025-Q2"', again)
