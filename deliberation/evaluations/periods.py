"""Which satisfaction survey may count for an evaluation period.

A survey counts for the period (a quarter such as 2026-Q3, in Beijing time) in which it ended —
closed early, or reached its last day — and for one period only, so an old survey can neither be
counted again nor clear a later warning. Versions of the same period (corrections) share it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from deliberation.core.errors import DomainError
from deliberation.evaluations.models import BEIJING_OFFSET, Evaluation, SatisfactionSurvey, SurveyParticipation
from deliberation.extensions import db


def period_days(period: str) -> tuple[date, date]:
    """The first and last day (Beijing dates) of a period written as 2026-Q3."""
    year, quarter = int(period[:4]), int(period[-1])
    first = date(year, 3 * quarter - 2, 1)
    after = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return first, after - timedelta(days=1)


def period_of(moment: datetime) -> str:
    """The period (quarter, Beijing time) that contains a UTC moment."""
    day = (moment + BEIJING_OFFSET).date()
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


@dataclass(frozen=True)
class SurveyOption:
    """A survey offered for an evaluation, with what the branch needs to tell it apart."""

    survey: SatisfactionSurvey
    period: str
    first_day: date
    last_day: date
    answers: int


def _counted_elsewhere(evaluation: Evaluation) -> dict[int, str]:
    """Survey id → the other period of this organisation that already counts it."""
    rows = db.session.execute(
        select(Evaluation.survey_id, Evaluation.period)
        .where(Evaluation.organisation_id == evaluation.organisation_id, Evaluation.survey_id.is_not(None),
               Evaluation.period != evaluation.period)).tuples().all()
    return {survey_id: period for survey_id, period in rows}


def countable_surveys(evaluation: Evaluation) -> list[SurveyOption]:
    """Surveys of the evaluated organisation, on the same rubric, that ended within the evaluation's period
    (an open one: whose last day falls in it) and that no other period counts; newest first, two queries."""
    first, last = period_days(evaluation.period)
    counted = _counted_elsewhere(evaluation)
    surveys = [s for s in db.session.scalars(
        select(SatisfactionSurvey).where(SatisfactionSurvey.organisation_id == evaluation.organisation_id,
                                         SatisfactionSurvey.rubric_id == evaluation.rubric_id)
        .order_by(SatisfactionSurvey.closes_at.desc(), SatisfactionSurvey.id.desc()))
        if first <= s.last_day <= last and s.id not in counted]
    answers = dict(db.session.execute(
        select(SurveyParticipation.survey_id, func.count(SurveyParticipation.id))
        .where(SurveyParticipation.survey_id.in_([s.id for s in surveys]))
        .group_by(SurveyParticipation.survey_id)).tuples().all()) if surveys else {}
    return [SurveyOption(s, evaluation.period, s.first_day, s.last_day,
                         answers.get(s.id, 0)) for s in surveys]


def check_countable(evaluation: Evaluation, survey: SatisfactionSurvey) -> None:
    """Refuse a survey that may not count for this evaluation, saying why."""
    if survey.organisation_id != evaluation.organisation_id or survey.rubric_id != evaluation.rubric_id:
        raise DomainError(_l("Choose a survey about this organisation that used the same rubric."), field="survey",
                          status_code=422)
    ended = survey.last_day
    first, last = period_days(evaluation.period)
    if not first <= ended <= last:
        raise DomainError(_l("This survey ended on %(day)s, outside %(period)s: only a survey that ended within "
                             "the period can count for it.", day=ended.isoformat(), period=evaluation.period),
                          field="survey", status_code=422)
    other = _counted_elsewhere(evaluation).get(survey.id)
    if other is not None:
        raise DomainError(_l("This survey already counts for %(period)s; a survey counts for one period only.",
                             period=other), field="survey", status_code=422)
