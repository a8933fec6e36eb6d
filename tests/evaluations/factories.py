"""Factories for evaluations; they go through the services, as a user would."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

from sqlalchemy import select

from deliberation.auth.models import User
from deliberation.communities.models import Community
from deliberation.core.models import utcnow
from deliberation.evaluations import services
from deliberation.evaluations.models import Evaluation, Organisation, OrganisationKind, Rubric, SatisfactionSurvey
from deliberation.evaluations.periods import period_days
from deliberation.extensions import db

_counter = itertools.count(1)


def make_organisation(community: Community, *, actor: User, kind: OrganisationKind = OrganisationKind.property_firm,
                      name: str | None = None, estates: tuple[str, ...] = ("桃源村一区",)) -> Organisation:
    chosen = [e for e in community.estates if e.name in estates]
    return services.register_organisation(
        community, kind=kind, name=name or f"测试物业{next(_counter)}", estates=chosen,
        term_start=date(2025, 1, 1), term_end=date(2027, 12, 31), actor=actor)


def default_rubric(community: Community, kind: OrganisationKind = OrganisationKind.property_firm) -> Rubric:
    return db.session.scalar(select(Rubric).where(Rubric.community_id == community.id, Rubric.kind == kind,
                                                  Rubric.is_default.is_(True)))


def make_survey(organisation: Organisation, *, actor: User, rubric: Rubric | None = None,
                days: int = 14) -> SatisfactionSurvey:
    rubric = rubric or default_rubric(organisation.community, organisation.kind)
    closes_on = (utcnow() + timedelta(hours=8)).date() + timedelta(days=days)
    return services.open_survey(organisation, rubric=rubric, closes_on=closes_on, actor=actor)


def answer(survey: SatisfactionSurvey, user: User, rating: int = 4, comment: str | None = None) -> None:
    services.answer_survey(survey, user, ratings={c.id: rating for c in survey.rubric.resident_items},
                           comment=comment)


def closed_survey(organisation: Organisation, *, actor: User, answers: list[tuple[User, int]],
                  period: str = "2026-Q3") -> SatisfactionSurvey:
    """A survey run and closed within `period` (in its last month), so it may count for that period."""
    first, last = period_days(period)
    opens = datetime.combine(last.replace(day=1), datetime.min.time()) + timedelta(hours=2)
    rubric = default_rubric(organisation.community, organisation.kind)
    survey = services.open_survey(organisation, rubric=rubric, closes_on=opens.date() + timedelta(days=14),
                                  actor=actor, now=opens)
    for user, rating in answers:
        services.answer_survey(survey, user, ratings={c.id: rating for c in survey.rubric.resident_items},
                               now=opens + timedelta(days=1))
    services.close_survey(survey, actor=actor, now=opens + timedelta(days=5))
    return survey


def survey_period(survey: SatisfactionSurvey) -> str:
    """The period a survey may count for: the quarter in which it ended (or will end)."""
    return survey.period


def scores_for(evaluation: Evaluation, value) -> dict[int, str]:
    if isinstance(value, dict):
        by_name = {c.name: c.id for c in evaluation.rubric.criteria}
        return {by_name[name]: str(score) for name, score in value.items()}
    return {c.id: str(value) for c in evaluation.rubric.criteria}


def make_evaluation(organisation: Organisation, *, actor: User, period: str | None = None, scores=85,
                    survey: SatisfactionSurvey | None = None, narrative: str = "检查了台账和现场。") -> Evaluation:
    """A draft with every criterion scored (or `scores=None` for an empty draft); by default for the period
    the survey counts for (2026-Q3 without a survey)."""
    period = period or (survey_period(survey) if survey is not None else "2026-Q3")
    evaluation = services.create_evaluation(organisation, period=period,
                                            rubric=survey.rubric if survey else default_rubric(
                                                organisation.community, organisation.kind), actor=actor)
    if scores is not None:
        services.record_evaluation(evaluation, scores=scores_for(evaluation, scores), narrative=narrative,
                                   survey=survey, actor=actor)
    return evaluation


def publish(evaluation: Evaluation, *, submitter: User, confirmer: User) -> Evaluation:
    services.submit_evaluation(evaluation, actor=submitter)
    services.publish_evaluation(evaluation, actor=confirmer)
    return evaluation


def make_published(organisation: Organisation, *, submitter: User, confirmer: User, survey: SatisfactionSurvey,
                   period: str | None = None, scores=85) -> Evaluation:
    evaluation = make_evaluation(organisation, actor=submitter, period=period, scores=scores, survey=survey)
    return publish(evaluation, submitter=submitter, confirmer=confirmer)
