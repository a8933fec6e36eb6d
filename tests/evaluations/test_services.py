"""Organisations, rubrics, surveys, evaluations, photos and replies at the service level."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from PIL import Image
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError

from deliberation.communities import services as community_services
from deliberation.communities.models import Role, RoleGrant
from deliberation.core import uploads
from deliberation.core.audit import AuditEvent, verify_chain
from deliberation.core.errors import DomainError
from deliberation.core.models import utcnow
from deliberation.core.secrecy import SealedRow
from deliberation.evaluations import services
from deliberation.evaluations.models import (
    EvaluationStatus,
    OrganisationKind,
    Rubric,
    SurveyParticipation,
    SurveyResponse,
)
from deliberation.evaluations.scoring import Grade
from deliberation.extensions import db
from tests.factories import make_user

from .factories import (
    answer,
    closed_survey,
    default_rubric,
    make_evaluation,
    make_organisation,
    make_published,
    make_survey,
    publish,
    scores_for,
    survey_period,
)


@pytest.fixture(autouse=True)
def english(db_session):
    """Messages are matched in English here; the Chinese ones are checked through the pages."""
    from flask_babel import force_locale

    with force_locale("en"):
        yield


def criteria_inputs(rubric: Rubric, **weights) -> list[services.CriterionInput]:
    return [services.CriterionInput(name=c.name, part=c.part.value, weight=weights.get(c.name, c.weight),
                                    resident_facing=c.resident_facing) for c in rubric.criteria]


# --- organisations and roles ----------------------------------------------------------

def test_registering_organisations_ships_each_default_rubric_once(ew):
    rubrics = services.rubrics_of(ew.w.community)
    assert sorted(r.kind.value for r in rubrics) == ["owner_committee", "property_firm"]
    assert all(r.is_default and r.total_weight == 100 for r in rubrics)
    assert ew.firm.estate_names == "桃源村一区"


@pytest.mark.parametrize("overrides,field", [
    ({"name": "  "}, "name"),
    ({"estates": []}, "estates"),
    ({"term_start": date(2026, 1, 1), "term_end": date(2025, 1, 1)}, "term_end"),
    ({"name": "鹏城物业服务有限公司"}, "name"),
])
def test_bad_organisation_is_refused(ew, overrides, field):
    args = dict(kind=OrganisationKind.property_firm, name="新物业", estates=list(ew.w.community.estates),
                term_start=None, term_end=None, actor=ew.w.admin)
    with pytest.raises(DomainError) as error:
        services.register_organisation(ew.w.community, **{**args, **overrides})
    assert error.value.field == field


def test_an_estate_of_another_community_is_refused(ew):
    with pytest.raises(DomainError):
        services.register_organisation(ew.w.community, kind=OrganisationKind.property_firm, name="越界物业",
                                       estates=list(ew.w.other.estates), term_start=None, term_end=None,
                                       actor=ew.w.admin)


def test_org_rep_needs_an_organisation_of_this_community(ew):
    user = make_user()
    with pytest.raises(DomainError, match="organisation") as error:
        community_services.grant_role(ew.w.community, user=user, role=Role.org_rep, actor=ew.w.admin)
    assert error.value.field == "organisation"
    other_org = make_organisation(ew.w.other, actor=ew.w.other_admin, estates=("龙辉花园",))
    with pytest.raises(DomainError):
        community_services.grant_role(ew.w.community, user=user, role=Role.org_rep, actor=ew.w.admin,
                                      organisation=other_org)
    with pytest.raises(DomainError):
        community_services.grant_role(ew.w.community, user=user, role=Role.council_member, actor=ew.w.admin,
                                      organisation=ew.firm)
    grant = community_services.grant_role(ew.w.community, user=user, role=Role.org_rep, actor=ew.w.admin,
                                          organisation=ew.committee)
    assert grant.organisation == ew.committee


def test_the_database_refuses_an_organisation_on_another_role(ew):
    grant = RoleGrant(user_id=make_user().id, community_id=ew.w.community.id, role=Role.council_member,
                      organisation_id=ew.firm.id)
    db.session.add(grant)
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.flush()


# --- rubrics --------------------------------------------------------------------------

def test_the_branch_copies_a_rubric_and_adjusts_weights_to_100(ew):
    copy = services.copy_rubric(default_rubric(ew.w.community), actor=ew.w.party)
    assert not copy.is_default and copy.based_on_id is not None and len(copy.criteria) == 7
    inputs = criteria_inputs(copy, 安全管理=13)
    with pytest.raises(DomainError, match="105"):
        services.update_rubric(copy, name="2027 标准", satisfaction_weight=30, criteria=inputs, actor=ew.w.party)
    services.update_rubric(copy, name="2027 标准", satisfaction_weight=25, criteria=inputs, actor=ew.w.party)
    assert copy.total_weight == 100
    assert [c.weight for c in copy.criteria][0] == 13


def test_a_criterion_can_be_added_and_removed(ew):
    copy = services.copy_rubric(default_rubric(ew.w.community), actor=ew.w.party)
    inputs = criteria_inputs(copy)[1:]  # drop 安全管理 (8)
    inputs.append(services.CriterionInput(name="垃圾分类", part="management", weight=8, resident_facing=True,
                                          bands=("好", "较好", "一般", "差")))
    services.update_rubric(copy, name=copy.name, satisfaction_weight=30, criteria=inputs, actor=ew.w.party)
    names = [c.name for c in copy.criteria]
    assert "安全管理" not in names and names[-1] == "垃圾分类" and copy.criteria[-1].band_fail == "差"


@pytest.mark.parametrize("change,message", [
    (lambda inputs: inputs.append(services.CriterionInput("安全管理", "management", 1)), "安全管理"),
    (lambda inputs: setattr(inputs[0], "weight", 0), "1"),
    (lambda inputs: setattr(inputs[0], "name", ""), "1"),
    (lambda inputs: setattr(inputs[0], "part", "other"), "安全管理"),
    (lambda inputs: [setattr(i, "resident_facing", False) for i in inputs], "residents"),
])
def test_bad_rubric_changes_are_refused(ew, change, message):
    copy = services.copy_rubric(default_rubric(ew.w.community), actor=ew.w.party)
    inputs = criteria_inputs(copy)
    change(inputs)
    with pytest.raises(DomainError) as error:
        services.update_rubric(copy, name="x", satisfaction_weight=30, criteria=inputs, actor=ew.w.party)
    assert message in str(error.value.message)


def test_default_and_used_rubrics_cannot_change(ew):
    default = default_rubric(ew.w.community)
    with pytest.raises(DomainError, match="copy"):
        services.update_rubric(default, name="x", satisfaction_weight=30, criteria=criteria_inputs(default),
                               actor=ew.w.party)
    copy = services.copy_rubric(default, actor=ew.w.party)
    assert not services.rubric_in_use(copy)
    make_survey(ew.firm, actor=ew.w.party, rubric=copy)
    assert services.rubric_in_use(copy)
    with pytest.raises(DomainError, match="already used"):
        services.update_rubric(copy, name="x", satisfaction_weight=30, criteria=criteria_inputs(copy),
                               actor=ew.w.party)


# --- surveys --------------------------------------------------------------------------

def test_each_served_resident_answers_once_and_only_the_aggregate_is_kept(ew):
    survey = make_survey(ew.firm, actor=ew.w.party)
    answer(survey, ew.w.resident, 5, comment="保洁很好")
    answer(survey, ew.neighbour, 3)
    with pytest.raises(DomainError, match="already answered"):
        answer(survey, ew.w.resident, 1)
    # While the survey is open its answers are sealed: only how many answered, and from where, is known.
    open_results = services.survey_results(survey, with_details=True)
    assert open_results.responses == 2 and open_results.aggregate.score is None and open_results.comments == []
    assert db.session.scalar(select(func.count(SurveyResponse.id))) == 0
    services.close_survey(survey, actor=ew.w.party)
    results = services.survey_results(survey, with_details=True)
    assert results.responses == 2
    assert results.aggregate.score == Decimal("80.0")  # mean rating 4 × 20
    assert results.comments == ["保洁很好"]
    by_building = {t.building.name: (t.responses, t.eligible) for t in results.by_building}
    assert by_building["1栋"][0] == 1 and by_building["2栋"] == (1, 1)
    assert "A座" not in by_building  # not served by the firm
    # Nothing links an answer to the resident: no user column, random keys.
    assert "user_id" not in {c.key for c in inspect(SurveyResponse).columns}
    assert all(len(r.id) == 32 for r in db.session.scalars(select(SurveyResponse)))


def test_a_survey_past_its_last_day_opens_its_sealed_answers_once(ew):
    survey = make_survey(ew.firm, actor=ew.w.party)
    answer(survey, ew.w.resident, 5, comment="电梯维修及时")
    answer(survey, ew.neighbour, 3)
    later = survey.closes_at + timedelta(minutes=1)
    assert services.settle_survey(survey, now=later)
    assert not services.settle_survey(survey, now=later)  # nothing left sealed
    assert db.session.scalar(select(func.count(SurveyResponse.id))) == 2
    assert db.session.scalar(select(func.count(SealedRow.id))) == 0
    comments = db.session.scalars(select(SurveyResponse.comment).where(SurveyResponse.comment.is_not(None))).all()
    assert comments == ["电梯维修及时"]


def test_a_resident_of_another_estate_cannot_answer(ew):
    survey = make_survey(ew.firm, actor=ew.w.party)
    with pytest.raises(DomainError) as error:
        answer(survey, ew.longhui)
    assert error.value.status_code == 403
    with pytest.raises(DomainError):
        answer(survey, ew.w.unverified)
    assert db.session.scalar(select(func.count(SurveyParticipation.id))) == 0


@pytest.mark.parametrize("ratings,message", [
    (lambda items: {c.id: 6 for c in items}, "1 to 5"),
    (lambda items: {c.id: 0 for c in items}, "1 to 5"),
    (lambda items: {c.id: 4 for c in items[1:]}, "Rate"),
    (lambda items: {**{c.id: 4 for c in items}, 999999: 4}, "do not belong"),
])
def test_bad_answers_are_refused_and_nothing_is_saved(ew, ratings, message):
    survey = make_survey(ew.firm, actor=ew.w.party)
    with pytest.raises(DomainError, match=message):
        services.answer_survey(survey, ew.w.resident, ratings=ratings(survey.rubric.resident_items))
    assert not services.has_answered(survey, ew.w.resident)


def test_a_closed_survey_takes_no_answers(ew):
    survey = make_survey(ew.firm, actor=ew.w.party)
    services.close_survey(survey, actor=ew.w.party)
    with pytest.raises(DomainError, match="closed"):
        answer(survey, ew.w.resident)
    with pytest.raises(DomainError):
        services.close_survey(survey, actor=ew.w.party)


def test_survey_window_rules(ew):
    today = (utcnow() + timedelta(hours=8)).date()
    rubric = default_rubric(ew.w.community)
    with pytest.raises(DomainError, match="future"):
        services.open_survey(ew.firm, rubric=rubric, closes_on=today - timedelta(days=1), actor=ew.w.party)
    with pytest.raises(DomainError, match="90"):
        services.open_survey(ew.firm, rubric=rubric, closes_on=today + timedelta(days=120), actor=ew.w.party)
    with pytest.raises(DomainError, match="kind"):
        services.open_survey(ew.firm, rubric=default_rubric(ew.w.community, OrganisationKind.owner_committee),
                             closes_on=today + timedelta(days=7), actor=ew.w.party)
    services.open_survey(ew.firm, rubric=rubric, closes_on=today, actor=ew.w.party)  # open until midnight
    with pytest.raises(DomainError, match="already open"):
        services.open_survey(ew.firm, rubric=rubric, closes_on=today + timedelta(days=3), actor=ew.w.party)


# --- evaluations ----------------------------------------------------------------------

@pytest.fixture
def survey(ew):
    return closed_survey(ew.firm, actor=ew.w.party, answers=[(ew.w.resident, 4), (ew.neighbour, 5)])


def test_total_and_grade_are_computed_from_scores_and_survey(ew, survey):
    scores = {"安全管理": 90, "环境卫生": 80, "绿化养护": 70, "设施设备维护": 85, "秩序维护": 75,
              "服务态度与投诉处理": 95, "收费与公示": 88}
    evaluation = make_evaluation(ew.firm, actor=ew.w.party, scores=scores, survey=survey)
    # satisfaction (4 + 5) / 2 × 20 = 90 × 0.30 = 27
    # management 90×.08 + 80×.08 + 70×.06 + 85×.10 + 75×.08 = 7.2 + 6.4 + 4.2 + 8.5 + 6 = 32.3
    # comprehensive 95×.15 + 88×.15 = 14.25 + 13.2 = 27.45 → total 86.75 → 86.8
    assert evaluation.satisfaction_score == Decimal("90.0")
    assert evaluation.survey_responses == 2 and evaluation.survey_eligible == 3  # resident, secretary, neighbour
    assert evaluation.total == Decimal("86.8") and evaluation.grade == Grade.good


@pytest.mark.parametrize("bad", ["101", "-1", "85.55", "八十"])
def test_scores_out_of_range_are_refused_with_the_field(ew, survey, bad):
    evaluation = make_evaluation(ew.firm, actor=ew.w.party, scores=None)
    criterion = evaluation.rubric.criteria[2]
    scores = scores_for(evaluation, 80)
    scores[criterion.id] = bad
    with pytest.raises(DomainError) as error:
        services.record_evaluation(evaluation, scores=scores, narrative="", survey=survey, actor=ew.w.party)
    assert error.value.field == f"score_{criterion.id}" and criterion.name in str(error.value.message)


def test_a_score_for_a_criterion_of_another_rubric_is_refused(ew, survey):
    evaluation = make_evaluation(ew.firm, actor=ew.w.party, scores=None)
    other = default_rubric(ew.w.community, OrganisationKind.owner_committee).criteria[0]
    with pytest.raises(DomainError, match="not in this rubric"):
        services.record_evaluation(evaluation, scores={other.id: "80"}, narrative="", survey=survey,
                                   actor=ew.w.party)


def test_missing_criteria_keep_a_draft_but_block_submission(ew, survey):
    evaluation = make_evaluation(ew.firm, actor=ew.w.party, scores=None)
    scores = scores_for(evaluation, 80)
    first = evaluation.rubric.criteria[0]
    scores[first.id] = ""
    services.record_evaluation(evaluation, scores=scores, narrative="", survey=survey, actor=ew.w.party)
    assert evaluation.total is None and evaluation.grade is None
    with pytest.raises(DomainError, match=first.name):
        services.submit_evaluation(evaluation, actor=ew.w.party)
    assert evaluation.status == EvaluationStatus.draft


def test_submission_needs_a_closed_survey_with_answers(ew):
    open_one = make_survey(ew.firm, actor=ew.w.party)
    evaluation = make_evaluation(ew.firm, actor=ew.w.party, period=survey_period(open_one))
    with pytest.raises(DomainError, match="survey"):
        services.submit_evaluation(evaluation, actor=ew.w.party)
    answer(open_one, ew.w.resident)
    services.record_evaluation(evaluation, scores=scores_for(evaluation, 80), narrative="", survey=open_one,
                               actor=ew.w.party)
    with pytest.raises(DomainError, match="Close"):
        services.submit_evaluation(evaluation, actor=ew.w.party)


def test_a_survey_about_another_organisation_is_refused(ew):
    other_survey = make_survey(ew.committee, actor=ew.w.party)
    evaluation = make_evaluation(ew.firm, actor=ew.w.party, scores=None)
    with pytest.raises(DomainError, match="same rubric"):
        services.record_evaluation(evaluation, scores={}, narrative="", survey=other_survey, actor=ew.w.party)


@pytest.mark.parametrize("period", ["2026Q3", "2026-Q5", "26-Q1", "1999-Q1", ""])
def test_bad_periods_are_refused(ew, period):
    with pytest.raises(DomainError) as error:
        services.create_evaluation(ew.firm, period=period, rubric=default_rubric(ew.w.community), actor=ew.w.party)
    assert error.value.field == "period"


def test_a_period_with_a_published_evaluation_takes_no_new_one(ew, survey_in):
    survey = survey_in("2026-Q2")
    make_published(ew.firm, submitter=ew.w.party, confirmer=ew.party2, survey=survey, period="2026-Q2")
    with pytest.raises(DomainError, match="already has a published evaluation"):
        services.create_evaluation(ew.firm, period="2026-q2", rubric=survey.rubric, actor=ew.w.party)
    make_evaluation(ew.firm, actor=ew.w.party, period="2026-Q3", scores=None)
    with pytest.raises(DomainError, match="already being prepared"):
        services.create_evaluation(ew.firm, period="2026-Q3", rubric=survey.rubric, actor=ew.party2)


def test_a_second_member_publishes_at_once(ew, survey):
    evaluation = make_evaluation(ew.firm, actor=ew.w.party, survey=survey)
    services.submit_evaluation(evaluation, actor=ew.w.party)
    assert evaluation.status == EvaluationStatus.submitted
    services.publish_evaluation(evaluation, actor=ew.party2)
    assert evaluation.status == EvaluationStatus.published and evaluation.published_by_id == ew.party2.id


def test_the_submitter_publishes_alone_only_after_cooling_off_and_confirming(ew, survey):
    evaluation = make_evaluation(ew.firm, actor=ew.w.party, survey=survey)
    services.submit_evaluation(evaluation, actor=ew.w.party)
    with pytest.raises(DomainError, match="cooling-off"):
        services.publish_evaluation(evaluation, actor=ew.w.party, confirm_own=True)
    later = evaluation.submitted_at + timedelta(hours=24, minutes=1)
    with pytest.raises(DomainError, match="Tick"):
        services.publish_evaluation(evaluation, actor=ew.w.party, now=later)
    just_before = evaluation.submitted_at + timedelta(hours=23, minutes=59)
    with pytest.raises(DomainError, match="cooling-off"):
        services.publish_evaluation(evaluation, actor=ew.w.party, confirm_own=True, now=just_before)
    services.publish_evaluation(evaluation, actor=ew.w.party, confirm_own=True, now=later)
    assert evaluation.status == EvaluationStatus.published


def test_withdrawn_submission_is_a_draft_again(ew, survey):
    evaluation = make_evaluation(ew.firm, actor=ew.w.party, survey=survey)
    services.submit_evaluation(evaluation, actor=ew.w.party)
    services.withdraw_evaluation(evaluation, actor=ew.party2)
    assert evaluation.status == EvaluationStatus.draft and evaluation.submitted_at is None


def test_published_evaluations_are_immutable_and_corrected_by_a_new_version(ew, survey):
    original = make_published(ew.firm, submitter=ew.w.party, confirmer=ew.party2, survey=survey, scores=70)
    with pytest.raises(DomainError):
        services.record_evaluation(original, scores=scores_for(original, 90), narrative="", survey=survey,
                                   actor=ew.w.party)
    with pytest.raises(DomainError):
        services.add_photo(original, data=b"", caption="", actor=ew.w.party)
    with pytest.raises(DomainError, match="correction is for"):
        services.start_correction(original, reason=" ", actor=ew.w.party)
    correction = services.start_correction(original, reason="设施设备维护得分录入错误", actor=ew.w.party)
    assert correction.version == 2 and correction.supersedes_id == original.id
    assert correction.score_map() == original.score_map()
    with pytest.raises(DomainError, match="already being prepared"):
        services.start_correction(original, reason="again", actor=ew.party2)
    services.record_evaluation(correction, scores=scores_for(correction, 72), narrative="更正", survey=survey,
                               actor=ew.w.party)
    publish(correction, submitter=ew.w.party, confirmer=ew.party2)
    assert original.status == EvaluationStatus.superseded and correction.status == EvaluationStatus.published
    assert original.total < correction.total
    assert services.published_history([ew.firm.id])[ew.firm.id] == [correction]
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"evaluation.correction_started", "evaluation.published", "evaluation.submitted",
            "evaluation.superseded"} <= actions
    assert verify_chain().ok


def test_the_representative_replies_once_to_a_published_evaluation(ew, survey, survey_in):
    draft = make_evaluation(ew.firm, actor=ew.w.party, survey=survey_in("2026-Q4"), period="2026-Q4")
    with pytest.raises(DomainError):
        services.post_reply(draft, author=ew.org_rep, body="提前回复")
    evaluation = make_published(ew.firm, submitter=ew.w.party, confirmer=ew.party2, survey=survey)
    with pytest.raises(DomainError):
        services.post_reply(evaluation, author=ew.org_rep, body="   ")
    services.post_reply(evaluation, author=ew.org_rep, body="感谢评价，我们将在一个月内整改绿化。")
    with pytest.raises(DomainError, match="already replied"):
        services.post_reply(evaluation, author=ew.org_rep, body="第二次回复")
    assert services.reply_for(evaluation).body.startswith("感谢评价")


def test_two_consecutive_fails_flag_the_organisation(ew, survey_in):
    for period, score in [("2026-Q1", 85), ("2026-Q2", 40), ("2026-Q3", 45)]:
        make_published(ew.firm, submitter=ew.w.party, confirmer=ew.party2, survey=survey_in(period), period=period,
                       scores=score)
    summaries = {s.organisation.id: s for s in services.organisation_summaries(ew.w.community)}
    assert summaries[ew.firm.id].needs_review
    assert [e.grade for e in summaries[ew.firm.id].history] == [Grade.good, Grade.failing, Grade.failing]
    assert not summaries[ew.committee.id].needs_review


# --- photos ---------------------------------------------------------------------------

def image_bytes(fmt: str = "JPEG", size=(64, 48), exif: bool = False) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    if exif:
        data = Image.Exif()
        data[0x010F] = "SecretCam"  # Make
        data[0x8825] = {2: (22.0, 32.0, 0.0)}  # GPS latitude
        image.save(out, fmt, exif=data.tobytes())
    else:
        image.save(out, fmt)
    return out.getvalue()


def test_a_photo_is_reencoded_without_metadata_under_a_random_name(ew, tmp_path):
    evaluation = make_evaluation(ew.firm, actor=ew.w.party)
    original = image_bytes(exif=True)
    assert b"SecretCam" in original
    photo = services.add_photo(evaluation, data=original, caption="消防通道", actor=ew.w.party)
    stored = uploads.read(photo.filename, uploads.EVIDENCE)
    assert b"SecretCam" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG" and not image.getexif() and "icc_profile" not in image.info
    assert photo.filename.endswith(".jpg") and len(photo.filename) > 20 and photo.content_type == "image/jpeg"


@pytest.mark.parametrize("fmt,content_type", [("PNG", "image/png"), ("WEBP", "image/webp")])
def test_png_and_webp_are_accepted(ew, tmp_path, fmt, content_type):
    evaluation = make_evaluation(ew.firm, actor=ew.w.party)
    photo = services.add_photo(evaluation, data=image_bytes(fmt), caption="", actor=ew.w.party)
    assert photo.content_type == content_type and (photo.width, photo.height) == (64, 48)


@pytest.mark.parametrize("data,message", [
    (b"GIF89a" + b"\x00" * 100, "JPEG, PNG"),
    (b"%PDF-1.4 not an image", "JPEG, PNG"),
    (b"just text named photo.jpg", "JPEG, PNG"),
    (b"", "Choose a photo"),
])
def test_files_that_are_not_photos_are_refused(ew, tmp_path, data, message):
    evaluation = make_evaluation(ew.firm, actor=ew.w.party)
    with pytest.raises(DomainError, match=message):
        services.add_photo(evaluation, data=data, caption="", actor=ew.w.party)
    assert db.session.scalar(select(func.count()).select_from(uploads.StoredFile)) == 0


def test_gif_content_is_refused_even_if_pillow_reads_it(ew, tmp_path):
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "GIF")
    evaluation = make_evaluation(ew.firm, actor=ew.w.party)
    with pytest.raises(DomainError, match="Only JPEG"):
        services.add_photo(evaluation, data=out.getvalue(), caption="", actor=ew.w.party)


def test_a_truncated_jpeg_is_refused(ew, tmp_path):
    evaluation = make_evaluation(ew.firm, actor=ew.w.party)
    data = image_bytes(size=(400, 300))
    with pytest.raises(DomainError, match="readable"):
        services.add_photo(evaluation, data=data[: len(data) // 2], caption="", actor=ew.w.party,
                           )


def test_a_photo_over_5_mb_is_refused(ew, tmp_path):
    evaluation = make_evaluation(ew.firm, actor=ew.w.party)
    with pytest.raises(DomainError, match="5 MB"):
        services.add_photo(evaluation, data=image_bytes() + b"\x00" * (5 * 1024 * 1024), caption="",
                           actor=ew.w.party)



def test_a_year_old_survey_cannot_count_again_nor_clear_the_two_fails_warning(ew, survey_in):
    old = survey_in("2025-Q3")
    make_published(ew.firm, submitter=ew.w.party, confirmer=ew.party2, survey=old, period="2025-Q3", scores=80)
    for period in ("2026-Q1", "2026-Q2"):
        make_published(ew.firm, submitter=ew.w.party, confirmer=ew.party2, survey=survey_in(period), period=period,
                       scores=40)
    assert {s.organisation.id: s for s in services.organisation_summaries(ew.w.community)}[ew.firm.id].needs_review
    evaluation = make_evaluation(ew.firm, actor=ew.w.party, period="2026-Q3", scores=95, survey=None)
    with pytest.raises(DomainError, match="2025-09-06"):  # ended outside the period (and counted for 2025-Q3)
        services.record_evaluation(evaluation, scores=scores_for(evaluation, 95), narrative="", survey=old,
                                   actor=ew.w.party)
    assert evaluation.survey_id is None


def test_a_survey_counts_for_one_period_only(ew, survey_in):
    survey = survey_in("2026-Q3")
    # Recorded before periods were checked: a 2026-Q2 evaluation counted a survey that ended in Q3.
    legacy = make_evaluation(ew.firm, actor=ew.w.party, period="2026-Q2", scores=None)
    legacy.survey_id = survey.id
    db.session.flush()
    draft = make_evaluation(ew.firm, actor=ew.w.party, period="2026-Q3", scores=None)
    with pytest.raises(DomainError, match="already counts for 2026-Q2"):
        services.record_evaluation(draft, scores={}, narrative="", survey=survey, actor=ew.w.party)


def test_only_surveys_of_the_organisation_that_ended_in_the_period_and_are_not_counted_are_offered(ew, survey_in):
    from deliberation.evaluations import periods

    q2 = survey_in("2026-Q2")
    q2_published = make_published(ew.firm, submitter=ew.w.party, confirmer=ew.party2, survey=q2, period="2026-Q2")
    q3_counted_nowhere = survey_in("2026-Q3")
    q1 = survey_in("2026-Q1")
    survey_in("2026-Q3", ew.committee)
    draft = make_evaluation(ew.firm, actor=ew.w.party, period="2026-Q3", scores=None)
    options = periods.countable_surveys(draft)
    assert [o.survey for o in options] == [q3_counted_nowhere]
    assert options[0].answers == 2 and options[0].period == "2026-Q3"
    assert options[0].first_day.isoformat() == "2026-09-01" and options[0].last_day.isoformat() == "2026-09-06"
    assert q1 not in [o.survey for o in options]
    # A correction of the Q2 evaluation keeps its own survey.
    correction_draft = services.start_correction(q2_published, reason="分数录错", actor=ew.w.party)
    assert [o.survey for o in periods.countable_surveys(correction_draft)] == [q2]


def test_who_may_answer_an_open_survey_holds_until_it_closes(ew):
    """While residents answer a survey, the office cannot change the estates the organisation serves: that
    would let in, or shut out, a whole estate in the middle of a secret survey (its name may still change)."""
    from deliberation.communities.models import Estate
    from deliberation.core.permissions import is_served_resident

    survey = make_survey(ew.firm, actor=ew.w.party)
    estates = {e.name: e for e in db.session.scalars(select(Estate).where(Estate.community_id == ew.w.community.id))}
    firm = ew.firm
    keep = dict(kind=firm.kind, term_start=firm.term_start, term_end=firm.term_end, actor=ew.w.admin)
    with pytest.raises(DomainError) as refused:
        services.update_organisation(firm, name=firm.name, estates=list(estates.values()), **keep)
    assert "survey of this organisation is open" in str(refused.value.message) and refused.value.field == "estates"
    assert not is_served_resident(ew.longhui, firm)
    services.update_organisation(firm, name="鹏城物业（更名）", estates=[estates["桃源村一区"]], **keep)
    services.close_survey(survey, actor=ew.w.party)
    services.update_organisation(firm, name=firm.name, estates=list(estates.values()), **keep)
    assert is_served_resident(ew.longhui, firm)
