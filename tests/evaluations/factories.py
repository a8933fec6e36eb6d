"""Factories for evaluations; they go through the services, as a user would."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from sqlalchemy import select

from deliberation.auth.models import User
from deliberation.communities.models import Community
from deliberation.core.models import utcnow
from deliberation.evaluations import services
from deliberation.evaluations.models import Evaluation, Organisation, OrganisationKind, Rubric, SatisfactionSurvey
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


def closed_survey(organisation: Organisation, *, actor: User, answers: list[tuple[User, int]]) -> SatisfactionSurvey:
    survey = make_survey(organisation, actor=actor)
    for user, rating in answers:
        answer(survey, user, rating)
    services.close_survey(survey, actor=actor)
    return survey


def scores_for(evaluation: Evaluation, value) -> dict[int, str]:
    if isinstance(value, dict):
        by_name = {c.name: c.id for c in evaluation.rubric.criteria}
        return {by_name[name]: str(score) for name, score in value.items()}
    return {c.id: str(value) for c in evaluation.rubric.criteria}


def make_evaluation(organisation: Organisation, *, actor: User, period: str = "2026-Q3", scores=85,
                    survey: SatisfactionSurvey | None = None, narrative: str = "检查了台账和现场。") -> Evaluation:
    """A draft with every criterion scored (or `scores=None` for an empty draft)."""
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
                   period: str = "2026-Q3", scores=85) -> Evaluation:
    evaluation = make_evaluation(organisation, actor=submitter, period=period, scores=scores, survey=survey)
    return publish(evaluation, submitter=submitter, confirmer=confirmer)
