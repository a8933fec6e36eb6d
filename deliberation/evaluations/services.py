"""Evaluation operations: they flush but never commit, and raise DomainError on refusal."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from deliberation.auth.models import User
from deliberation.communities.models import Building, Community, Estate, Residency, ResidencyStatus
from deliberation.core import audit, secrecy
from deliberation.core.errors import DomainError
from deliberation.core.models import utcnow
from deliberation.core.text import clean
from deliberation.evaluations import periods, photos, scoring
from deliberation.evaluations.models import (
    Criterion,
    CriterionPart,
    Evaluation,
    EvaluationPhoto,
    EvaluationReply,
    EvaluationScore,
    EvaluationStatus,
    Organisation,
    OrganisationKind,
    Rubric,
    SatisfactionSurvey,
    SurveyParticipation,
    SurveyRating,
    SurveyResponse,
    decimal_to_tenths,
)
from deliberation.evaluations.rubrics import DEFAULT_RUBRICS
from deliberation.evaluations.scoring import ScoringError, WeightedItem
from deliberation.extensions import db
from deliberation.notifications import events as notification_events

log = logging.getLogger(__name__)

PERIOD_RE = re.compile(r"^(\d{4})-Q([1-4])$")
MAX_NARRATIVE = 5000
MAX_COMMENT = 500
MAX_REPLY = 3000
MAX_REASON = 500
MAX_PHOTOS = 10
MAX_SURVEY_DAYS = 90
DEFAULT_COOLING_OFF = timedelta(hours=24)


def _text(value: str | None, field_name: str, *, max_length: int, message=None) -> str:
    value = (value or "").strip()
    if message is not None and not value:
        raise DomainError(message, field=field_name, status_code=422)
    if len(value) > max_length:
        raise DomainError(_l("At most %(n)d characters.", n=max_length), field=field_name, status_code=422)
    return value


# --- organisations --------------------------------------------------------------------

def ensure_default_rubrics(community: Community, *, actor: User | None) -> list[Rubric]:
    """Store the shipped default rubric of each kind in the community, once."""
    existing = {r.kind for r in db.session.scalars(
        select(Rubric).where(Rubric.community_id == community.id, Rubric.is_default.is_(True)))}
    created = []
    for kind, default in DEFAULT_RUBRICS.items():
        if OrganisationKind(kind) in existing:
            continue
        rubric = Rubric(community_id=community.id, kind=OrganisationKind(kind), name=default.name,
                        satisfaction_weight=default.satisfaction_weight, is_default=True,
                        created_by_id=getattr(actor, "id", None))
        rubric.criteria = [
            Criterion(position=i, name=c.name, part=CriterionPart(c.part), weight=c.weight,
                      resident_facing=c.resident_facing, band_excellent=c.bands[0], band_good=c.bands[1],
                      band_pass=c.bands[2], band_fail=c.bands[3])
            for i, c in enumerate(default.criteria)
        ]
        db.session.add(rubric)
        db.session.flush()
        audit.record("rubric.created", rubric, actor=actor, community=community, summary=f"default: {rubric.name}")
        created.append(rubric)
    return created


def _checked_organisation(community: Community, *, name: str, estates: Sequence[Estate], term_start: date | None,
                          term_end: date | None, renaming: Organisation | None = None) -> str:
    """Check an organisation's details; return its cleaned name."""
    name = clean(name)
    if not name:
        raise DomainError(_l("Enter the organisation's name."), field="name", status_code=422)
    if len(name) > 100:
        raise DomainError(_l("At most %(n)d characters.", n=100), field="name", status_code=422)
    if not estates:
        raise DomainError(_l("Choose at least one estate that it serves."), field="estates", status_code=422)
    if any(estate.community_id != community.id for estate in estates):
        raise DomainError(_l("Choose estates of this community."), field="estates", status_code=422)
    if term_start and term_end and term_end <= term_start:
        raise DomainError(_l("The end must come after the start."), field="term_end", status_code=422)
    same_name = select(Organisation.id).where(Organisation.community_id == community.id, Organisation.name == name)
    if renaming is not None:
        same_name = same_name.where(Organisation.id != renaming.id)
    if db.session.scalar(same_name) is not None:
        raise DomainError(_l("An organisation with this name is already registered."), field="name")
    return name


def register_organisation(community: Community, *, kind: OrganisationKind, name: str, estates: Sequence[Estate],
                          term_start: date | None, term_end: date | None, actor: User) -> Organisation:
    """Register a property firm or owner committee serving some of the community's estates."""
    name = _checked_organisation(community, name=name, estates=estates, term_start=term_start, term_end=term_end)
    organisation = Organisation(community_id=community.id, kind=kind, name=name, estates=list(estates),
                                term_start=term_start, term_end=term_end)
    db.session.add(organisation)
    db.session.flush()
    ensure_default_rubrics(community, actor=actor)
    audit.record("organisation.registered", organisation, actor=actor, community=community,
                 summary=f"{kind.value}: {name} ({', '.join(e.name for e in estates)})")
    return organisation


def has_record(organisation: Organisation) -> bool:
    """Whether a survey or an evaluation concerns the organisation (its kind is then fixed)."""
    used = select(Evaluation.id).where(Evaluation.organisation_id == organisation.id).union_all(
        select(SatisfactionSurvey.id).where(SatisfactionSurvey.organisation_id == organisation.id)).limit(1)
    return db.session.execute(used).first() is not None


def _survey_open(organisation: Organisation) -> bool:
    return db.session.scalar(select(SatisfactionSurvey.id).where(
        SatisfactionSurvey.organisation_id == organisation.id, SatisfactionSurvey.closed_at.is_(None),
        SatisfactionSurvey.closes_at > utcnow()).limit(1)) is not None


def update_organisation(organisation: Organisation, *, kind: OrganisationKind, name: str, estates: Sequence[Estate],
                        term_start: date | None, term_end: date | None, actor: User) -> None:
    """Correct an organisation's name, kind, estates or term. Its evaluations keep pointing to it; the
    kind only changes while nothing was surveyed or evaluated (rubrics are per kind)."""
    community = organisation.community
    name = _checked_organisation(community, name=name, estates=estates, term_start=term_start, term_end=term_end,
                                 renaming=organisation)
    if kind != organisation.kind and has_record(organisation):
        raise DomainError(_l("The kind cannot change once the organisation has been surveyed or evaluated."),
                          field="kind", status_code=422)
    if {e.id for e in estates} != organisation.estate_ids and _survey_open(organisation):
        # The estates decide who may answer: not in the middle of a secret survey.
        raise DomainError(_l("A satisfaction survey of this organisation is open: its estates decide who may answer, "
                             "so they can change once the survey is closed."), field="estates", status_code=422)
    before = f"{organisation.kind.value}: {organisation.name} ({organisation.estate_names}) " \
             f"{organisation.term_start or '…'}–{organisation.term_end or '…'}"
    organisation.kind, organisation.name, organisation.estates = kind, name, list(estates)
    organisation.term_start, organisation.term_end = term_start, term_end
    db.session.flush()
    audit.record("organisation.updated", organisation, actor=actor, community=community,
                 summary=f"{before} -> {kind.value}: {name} ({organisation.estate_names}) "
                         f"{term_start or '…'}–{term_end or '…'}")


def organisations_of(community: Community) -> list[Organisation]:
    return list(db.session.scalars(
        select(Organisation).where(Organisation.community_id == community.id)
        .order_by(Organisation.kind, Organisation.name)))


# --- rubrics --------------------------------------------------------------------------

def rubric_in_use(rubric: Rubric) -> bool:
    """A rubric that a survey or an evaluation uses can no longer change."""
    used = select(Evaluation.id).where(Evaluation.rubric_id == rubric.id).union_all(
        select(SatisfactionSurvey.id).where(SatisfactionSurvey.rubric_id == rubric.id)).limit(1)
    return db.session.execute(used).first() is not None


def rubrics_in_use(community: Community) -> set[int]:
    rows = db.session.scalars(
        select(Evaluation.rubric_id).where(Evaluation.community_id == community.id).union(
            select(SatisfactionSurvey.rubric_id).where(SatisfactionSurvey.community_id == community.id)))
    return set(rows)


def rubrics_of(community: Community, kind: OrganisationKind | None = None) -> list[Rubric]:
    query = select(Rubric).where(Rubric.community_id == community.id)
    if kind is not None:
        query = query.where(Rubric.kind == kind)
    return list(db.session.scalars(query.order_by(Rubric.kind, Rubric.is_default.desc(), Rubric.id)))


def copy_rubric(rubric: Rubric, *, actor: User) -> Rubric:
    """A changeable copy of a rubric, for the branch to adjust before a period starts."""
    copy = Rubric(community_id=rubric.community_id, kind=rubric.kind, name=f"{rubric.name}（副本）"[:100],
                  satisfaction_weight=rubric.satisfaction_weight, based_on_id=rubric.id, created_by_id=actor.id)
    copy.criteria = [
        Criterion(position=c.position, name=c.name, part=c.part, weight=c.weight, resident_facing=c.resident_facing,
                  band_excellent=c.band_excellent, band_good=c.band_good, band_pass=c.band_pass,
                  band_fail=c.band_fail)
        for c in rubric.criteria
    ]
    db.session.add(copy)
    db.session.flush()
    audit.record("rubric.copied", copy, actor=actor, community=db.session.get(Community, rubric.community_id),
                 summary=f"copy of rubric {rubric.id}")
    return copy


@dataclass
class CriterionInput:
    name: str
    part: str
    weight: int | None
    resident_facing: bool = False
    bands: tuple[str, str, str, str] = ("", "", "", "")


def update_rubric(rubric: Rubric, *, name: str, satisfaction_weight: int | None,
                  criteria: Sequence[CriterionInput], actor: User) -> Rubric:
    """Replace a copied rubric's name, weights and criteria; weights must add up to 100."""
    if rubric.is_default:
        raise DomainError(_l("The default rubric cannot be changed; copy it and adjust the copy."))
    if rubric_in_use(rubric):
        raise DomainError(_l("This rubric is already used by a survey or an evaluation and cannot change. "
                             "Copy it to adjust it for a later period."))
    name = _text(name, "name", max_length=100, message=_l("Give the rubric a name."))
    if satisfaction_weight is None or not 0 <= satisfaction_weight <= 100:
        raise DomainError(_l("A weight is a whole number from 0 to 100."), field="satisfaction_weight",
                          status_code=422)
    if not criteria:
        raise DomainError(_l("A rubric needs at least one criterion."), status_code=422)
    seen: set[str] = set()
    items = []
    for index, item in enumerate(criteria):
        item_name = clean(item.name)
        if not item_name or len(item_name) > 60:
            raise DomainError(_l("Criterion %(n)d needs a name of at most 60 characters.", n=index + 1),
                              status_code=422)
        if item_name in seen:
            raise DomainError(_l("Two criteria are called «%(name)s».", name=item_name), status_code=422)
        seen.add(item_name)
        if item.weight is None or not 0 < item.weight <= 100:
            raise DomainError(_l("The weight of «%(name)s» must be a whole number from 1 to 100.", name=item_name),
                              status_code=422)
        if item.part not in CriterionPart.__members__:
            raise DomainError(_l("Choose the part of «%(name)s».", name=item_name), status_code=422)
        if any(len(band) > 300 for band in item.bands):
            raise DomainError(_l("Score-band descriptions have at most 300 characters."), status_code=422)
        items.append(WeightedItem(key=index, weight=item.weight, part=item.part))
    total = satisfaction_weight + sum(i.weight for i in items)
    if total != 100:
        raise DomainError(_l("The weights add up to %(total)d; they must add up to 100.", total=total),
                          field="satisfaction_weight", status_code=422)
    if satisfaction_weight and not any(item.resident_facing for item in criteria):
        raise DomainError(_l("Mark at least one criterion as asked to residents, or set the satisfaction "
                             "weight to 0."), status_code=422)
    rubric.name = name
    rubric.satisfaction_weight = satisfaction_weight
    rubric.criteria.clear()
    db.session.flush()
    rubric.criteria.extend(
        Criterion(position=i, name=clean(c.name), part=CriterionPart(c.part), weight=c.weight,
                  resident_facing=bool(c.resident_facing), band_excellent=clean(c.bands[0]),
                  band_good=clean(c.bands[1]), band_pass=clean(c.bands[2]), band_fail=clean(c.bands[3]))
        for i, c in enumerate(criteria))
    db.session.flush()
    audit.record("rubric.updated", rubric, actor=actor, community=db.session.get(Community, rubric.community_id),
                 summary=f"satisfaction {satisfaction_weight}; "
                         + ", ".join(f"{clean(c.name)} {c.weight}" for c in criteria))
    return rubric


# --- satisfaction surveys -------------------------------------------------------------

def _check_rubric_for(organisation: Organisation, rubric: Rubric) -> None:
    if rubric.community_id != organisation.community_id or rubric.kind != organisation.kind:
        raise DomainError(_l("Choose a rubric for this kind of organisation."), field="rubric", status_code=422)


def open_survey(organisation: Organisation, *, rubric: Rubric, closes_on: date, actor: User,
                now: datetime | None = None) -> SatisfactionSurvey:
    """Open a survey window that ends at the end of `closes_on` (Beijing time)."""
    now = now or utcnow()
    _check_rubric_for(organisation, rubric)
    if not rubric.resident_items:
        raise DomainError(_l("This rubric asks residents nothing: mark criteria as asked to residents first."),
                          field="rubric", status_code=422)
    # The window ends at midnight Asia/Shanghai (UTC+8, no daylight saving) after closes_on.
    closes_at = datetime.combine(closes_on + timedelta(days=1), datetime.min.time()) - timedelta(hours=8)
    if closes_at <= now:
        raise DomainError(_l("Choose a closing day in the future."), field="closes_on", status_code=422)
    if closes_at > now + timedelta(days=MAX_SURVEY_DAYS):
        raise DomainError(_l("A survey stays open for at most %(n)d days.", n=MAX_SURVEY_DAYS), field="closes_on",
                          status_code=422)
    open_already = db.session.scalars(select(SatisfactionSurvey).where(
        SatisfactionSurvey.organisation_id == organisation.id, SatisfactionSurvey.closed_at.is_(None),
        SatisfactionSurvey.closes_at > now)).first()
    if open_already is not None:
        raise DomainError(_l("A survey about this organisation is already open."))
    survey = SatisfactionSurvey(community_id=organisation.community_id, organisation=organisation, rubric=rubric,
                                title=f"{organisation.name} {closes_on.year}", closes_at=closes_at,
                                opened_by_id=actor.id, created_at=now)
    db.session.add(survey)
    db.session.flush()
    audit.record("survey.opened", survey, actor=actor, community=organisation.community,
                 summary=f"{organisation.name} until {closes_on.isoformat()}")
    notification_events.survey_opened(survey)
    return survey


def close_survey(survey: SatisfactionSurvey, *, actor: User, now: datetime | None = None) -> None:
    """Close a survey before its last day; its sealed answers are opened for the results."""
    survey.close(now)
    db.session.flush()
    settle_survey(survey, now=now)
    audit.record("survey.closed", survey, actor=actor, community=survey.organisation.community,
                 summary=survey.organisation.name)


def _served_residency(user: User, organisation: Organisation) -> Residency | None:
    estate_ids = organisation.estate_ids
    return next((r for r in user.residencies if r.community_id == organisation.community_id
                 and r.status == ResidencyStatus.verified and r.building.estate_id in estate_ids), None)


def has_answered(survey: SatisfactionSurvey, user: User) -> bool:
    return db.session.scalar(select(SurveyParticipation.id).where(
        SurveyParticipation.survey_id == survey.id, SurveyParticipation.user_id == user.id)) is not None


def answer_survey(survey: SatisfactionSurvey, user: User, *, ratings: Mapping[int, int | None],
                  comment: str | None = None, now: datetime | None = None) -> None:
    """Record one resident's answers once; who answered and what was answered are stored apart."""
    if not survey.is_open(now):
        raise DomainError(_l("This survey is closed."))
    residency = _served_residency(user, survey.organisation)
    if residency is None:
        raise DomainError(_l("Only verified residents of the estates this organisation serves can answer."),
                          status_code=403)
    items = {c.id for c in survey.rubric.resident_items}
    unknown = set(ratings) - items
    if unknown:
        raise DomainError(_l("These answers do not belong to this survey."), status_code=422)
    for criterion in survey.rubric.resident_items:
        value = ratings.get(criterion.id)
        if value is None:
            raise DomainError(_l("Rate «%(name)s».", name=criterion.name), field=f"item_{criterion.id}",
                              status_code=422)
        if not scoring.RATING_MIN <= value <= scoring.RATING_MAX:
            raise DomainError(_l("Choose a rating from 1 to 5."), field=f"item_{criterion.id}", status_code=422)
    comment = _text(comment, "comment", max_length=MAX_COMMENT) or None
    participation = SurveyParticipation(survey_id=survey.id, user_id=user.id, building_id=residency.building_id,
                                        answered_on=(now or utcnow()).date())
    try:
        # The unique constraint decides a race between two requests of the same resident.
        with db.session.begin_nested():
            db.session.add(participation)
            db.session.flush()
    except IntegrityError as error:
        raise DomainError(_l("You have already answered this survey. Each resident answers once.")) from error
    # What was answered stays sealed until the survey closes (core.secrecy): no order pairs it with who.
    secrecy.seal(survey_scope(survey), {"ratings": {str(cid): ratings[cid] for cid in items}, "comment": comment},
                 capacity=_answer_capacity(len(items)))
    audit.record("survey.answered", audit.Ref("SurveyParticipation", participation.id), actor=user,
                 community=survey.organisation.community, summary=f"survey {survey.id}")


def survey_scope(survey: SatisfactionSurvey) -> str:
    """Where a survey's answers are sealed until it closes."""
    return f"survey:{survey.id}"


def _answer_capacity(questions: int) -> int:
    """The longest sealed answer: every rating and a comment of MAX_COMMENT four-byte characters."""
    return 64 + 16 * questions + 4 * MAX_COMMENT


def settle_survey(survey: SatisfactionSurvey, *, now: datetime | None = None) -> bool:
    """Once a survey is closed (by hand or by its last day), open its sealed answers and write them as
    plain rows in a random order with random keys. Returns whether anything was opened."""
    scope = survey_scope(survey)
    if survey.is_open(now) or not secrecy.is_sealed(scope):
        return False
    responses, ratings = [], []
    for answer in secrecy.unseal(scope):
        response_id = secrets.token_hex(16)
        responses.append({"id": response_id, "survey_id": survey.id, "comment": answer["comment"]})
        ratings.extend({"id": secrets.token_hex(16), "response_id": response_id, "survey_id": survey.id,
                        "criterion_id": int(cid), "rating": rating} for cid, rating in answer["ratings"].items())
    if responses:
        db.session.execute(insert(SurveyResponse.__table__), responses)
        db.session.execute(insert(SurveyRating.__table__), ratings)
    # The number opened is the turnout, public anyway; nothing of any answer goes into the log.
    audit.record("survey.answers_opened", survey, community=survey.organisation.community,
                 summary=f"{len(responses)} sealed answers opened in random order")
    return True


def eligible_by_building(organisation: Organisation) -> dict[int, int]:
    """Verified residents per building of the served estates (one query)."""
    rows = db.session.execute(
        select(Residency.building_id, func.count(Residency.id)).join(Building, Residency.building_id == Building.id)
        .where(Residency.community_id == organisation.community_id, Residency.status == ResidencyStatus.verified,
               Building.estate_id.in_(organisation.estate_ids or {-1}))
        .group_by(Residency.building_id)).tuples()
    return dict(rows.all())


@dataclass
class BuildingTurnout:
    building: Building
    eligible: int
    responses: int

    @property
    def percent(self) -> Decimal | None:
        return scoring.turnout_percent(self.responses, self.eligible)


@dataclass
class SurveyResults:
    survey: SatisfactionSurvey
    aggregate: scoring.SurveyAggregate
    eligible: int
    by_building: list[BuildingTurnout] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)

    @property
    def responses(self) -> int:
        return self.aggregate.responses

    @property
    def turnout(self) -> Decimal | None:
        return scoring.turnout_percent(self.responses, self.eligible)


def survey_aggregate(survey: SatisfactionSurvey) -> scoring.SurveyAggregate:
    """Mean ratings and the 0–100 satisfaction score (two queries)."""
    counts = db.session.execute(
        select(SurveyRating.criterion_id, SurveyRating.rating, func.count(SurveyRating.id))
        .where(SurveyRating.survey_id == survey.id).group_by(SurveyRating.criterion_id, SurveyRating.rating)
    ).tuples().all()
    responses = db.session.scalar(select(func.count(SurveyParticipation.id))
                                  .where(SurveyParticipation.survey_id == survey.id))
    return scoring.aggregate_from_counts(counts, responses=responses or 0)


def survey_results(survey: SatisfactionSurvey, *, with_details: bool = False) -> SurveyResults:
    """The aggregate; with details (for the branch) also turnout by building and the anonymous comments.

    While the survey is open only participation counts are known: the answers are sealed, and live
    ratings or comments next to live turnout would let a watcher pair an answer with who just answered.
    """
    settle_survey(survey)
    aggregate = survey_aggregate(survey)
    eligible = eligible_by_building(survey.organisation)
    results = SurveyResults(survey=survey, aggregate=aggregate, eligible=sum(eligible.values()))
    if with_details:
        answered = dict(db.session.execute(
            select(SurveyParticipation.building_id, func.count(SurveyParticipation.id))
            .where(SurveyParticipation.survey_id == survey.id).group_by(SurveyParticipation.building_id)
        ).tuples().all())
        building_ids = set(eligible) | set(answered)
        buildings = db.session.scalars(select(Building).options(joinedload(Building.estate))
                                       .where(Building.id.in_(building_ids or {-1}))).all()
        results.by_building = sorted(
            (BuildingTurnout(b, eligible.get(b.id, 0), answered.get(b.id, 0)) for b in buildings),
            key=lambda t: (t.building.estate.name, t.building.name))
        # Sorted by text, not by when they came in, so that order reveals nobody.
        results.comments = sorted(db.session.scalars(select(SurveyResponse.comment).where(
            SurveyResponse.survey_id == survey.id, SurveyResponse.comment.is_not(None))))
    return results


# --- evaluations ----------------------------------------------------------------------

def parse_period(period: str) -> str:
    period = clean(period).upper().replace(" ", "")
    match = PERIOD_RE.match(period)
    if not match or not 2000 <= int(match.group(1)) <= 2100:
        raise DomainError(_l("Write the period as year and quarter, for example 2026-Q3."), field="period",
                          status_code=422)
    return period


def _published_for(organisation: Organisation, period: str) -> Evaluation | None:
    return db.session.scalar(select(Evaluation).where(
        Evaluation.organisation_id == organisation.id, Evaluation.period == period,
        Evaluation.status == EvaluationStatus.published))


def _open_for(organisation: Organisation, period: str) -> Evaluation | None:
    return db.session.scalar(select(Evaluation).where(
        Evaluation.organisation_id == organisation.id, Evaluation.period == period,
        Evaluation.status.in_((EvaluationStatus.draft, EvaluationStatus.submitted))))


def _next_version(organisation: Organisation, period: str) -> int:
    return (db.session.scalar(select(func.max(Evaluation.version)).where(
        Evaluation.organisation_id == organisation.id, Evaluation.period == period)) or 0) + 1


def create_evaluation(organisation: Organisation, *, period: str, rubric: Rubric, actor: User) -> Evaluation:
    """Start a draft evaluation of an organisation for a period such as 2026-Q3."""
    period = parse_period(period)
    _check_rubric_for(organisation, rubric)
    if _published_for(organisation, period) is not None:
        raise DomainError(_l("%(period)s already has a published evaluation. Correct it instead of starting "
                             "a new one.", period=period), field="period")
    if _open_for(organisation, period) is not None:
        raise DomainError(_l("An evaluation for %(period)s is already being prepared. Continue that one.",
                             period=period), field="period")
    evaluation = Evaluation(community_id=organisation.community_id, organisation=organisation, rubric=rubric,
                            period=period, version=_next_version(organisation, period), created_by_id=actor.id)
    db.session.add(evaluation)
    db.session.flush()
    audit.record("evaluation.created", evaluation, actor=actor, community=organisation.community,
                 summary=f"{organisation.name} {period} v{evaluation.version}")
    return evaluation


def _weighted_items(rubric: Rubric) -> list[WeightedItem]:
    return [WeightedItem(key=c.id, weight=c.weight, part=c.part.value) for c in rubric.criteria]


def _snapshot_survey(evaluation: Evaluation) -> None:
    survey = evaluation.survey
    if survey is None:
        evaluation.satisfaction_tenths = evaluation.survey_responses = evaluation.survey_eligible = None
        return
    results = survey_results(survey)
    evaluation.satisfaction_tenths = decimal_to_tenths(results.aggregate.score)
    evaluation.survey_responses = results.responses
    evaluation.survey_eligible = results.eligible


def _compute(evaluation: Evaluation) -> scoring.ScoreResult:
    return scoring.compute_total(_weighted_items(evaluation.rubric), evaluation.score_map(),
                                 satisfaction_weight=evaluation.rubric.satisfaction_weight,
                                 satisfaction_score=evaluation.satisfaction_score)


def _refresh_total(evaluation: Evaluation) -> None:
    try:
        result = _compute(evaluation)
    except ScoringError:
        evaluation.total_tenths, evaluation.grade = None, None
    else:
        evaluation.total_tenths, evaluation.grade = decimal_to_tenths(result.total), result.grade


def score_breakdown(evaluation: Evaluation) -> scoring.ScoreResult | None:
    """The parts of the total (satisfaction, management, comprehensive), or None while incomplete."""
    try:
        return _compute(evaluation)
    except ScoringError:
        return None


def record_evaluation(evaluation: Evaluation, *, scores: Mapping[int, str | Decimal | None], narrative: str,
                      survey: SatisfactionSurvey | None, actor: User) -> Evaluation:
    """Save a draft: a score (0–100, one decimal) per criterion, findings, the survey whose result counts.

    Blank scores may wait in a draft; submission needs them all. The total and grade are computed.
    """
    evaluation.require_status(EvaluationStatus.draft)
    criteria = {c.id: c for c in evaluation.rubric.criteria}
    if set(scores) - set(criteria):
        raise DomainError(_l("A score was given for a criterion that is not in this rubric."), status_code=422)
    parsed: dict[int, Decimal] = {}
    for criterion_id, raw in scores.items():
        try:
            value = scoring.parse_score(raw)
        except ScoringError as error:
            raise DomainError(_l("«%(name)s»: enter a score from 0 to 100, with at most one decimal.",
                                 name=criteria[criterion_id].name), field=f"score_{criterion_id}",
                              status_code=422) from error
        if value is not None:
            parsed[criterion_id] = value
    narrative = _text(narrative, "narrative", max_length=MAX_NARRATIVE)
    if survey is not None:
        periods.check_countable(evaluation, survey)
    existing = {s.criterion_id: s for s in evaluation.scores}
    for criterion_id in criteria:
        if criterion_id in parsed:
            if criterion_id in existing:
                existing[criterion_id].score_tenths = decimal_to_tenths(parsed[criterion_id])
            else:
                evaluation.scores.append(EvaluationScore(criterion_id=criterion_id,
                                                         score_tenths=decimal_to_tenths(parsed[criterion_id])))
        elif criterion_id in existing:
            evaluation.scores.remove(existing[criterion_id])
    evaluation.narrative = narrative
    evaluation.survey = survey
    _snapshot_survey(evaluation)
    _refresh_total(evaluation)
    db.session.flush()
    audit.record("evaluation.recorded", evaluation, actor=actor, community=evaluation.organisation.community,
                 summary=f"{len(parsed)}/{len(criteria)} scores; total {evaluation.total}")
    return evaluation


def submit_evaluation(evaluation: Evaluation, *, actor: User, now: datetime | None = None) -> None:
    """Freeze the scores and the survey result for confirmation; every criterion must be scored."""
    evaluation.require_status(EvaluationStatus.draft)
    missing = [c.name for c in evaluation.rubric.criteria if c.id not in evaluation.score_map()]
    if missing:
        raise DomainError(_l("Score every criterion before submitting. Missing: %(names)s.",
                             names="、".join(missing)), status_code=422)
    if evaluation.rubric.satisfaction_weight:
        if evaluation.survey is None:
            raise DomainError(_l("Choose the satisfaction survey whose result counts before submitting."),
                              field="survey", status_code=422)
        if evaluation.survey.is_open(now):
            raise DomainError(_l("Close the satisfaction survey before submitting, so that its result is final."),
                              field="survey")
    _snapshot_survey(evaluation)
    if evaluation.rubric.satisfaction_weight and evaluation.satisfaction_score is None:
        raise DomainError(_l("The chosen survey has no answers, so resident satisfaction cannot be scored."),
                          field="survey")
    _refresh_total(evaluation)
    evaluation.mark_submitted(actor, now or utcnow())
    db.session.flush()
    audit.record("evaluation.submitted", evaluation, actor=actor, community=evaluation.organisation.community,
                 summary=f"total {evaluation.total} {evaluation.grade.value if evaluation.grade else ''}")


def withdraw_evaluation(evaluation: Evaluation, *, actor: User) -> None:
    """Take a submitted evaluation back to draft to change it."""
    evaluation.mark_withdrawn()
    db.session.flush()
    audit.record("evaluation.withdrawn", evaluation, actor=actor, community=evaluation.organisation.community)


def cooling_off_ends(evaluation: Evaluation, cooling_off: timedelta = DEFAULT_COOLING_OFF) -> datetime | None:
    return evaluation.submitted_at + cooling_off if evaluation.submitted_at else None


def publish_evaluation(evaluation: Evaluation, *, actor: User, confirm_own: bool = False,
                       cooling_off: timedelta = DEFAULT_COOLING_OFF, now: datetime | None = None) -> None:
    """Publish a submitted evaluation (four eyes).

    Another branch member confirms at once. The member who submitted may confirm alone only after the
    cooling-off period (24 hours by default) and by ticking an explicit confirmation.
    """
    evaluation.require_status(EvaluationStatus.submitted)
    now = now or utcnow()
    if evaluation.submitted_by_id == actor.id:
        ends = cooling_off_ends(evaluation, cooling_off)
        if now < ends:
            raise DomainError(_l("You submitted this evaluation yourself: another branch member can publish it now, "
                                 "or you can after the cooling-off period."))
        if not confirm_own:
            raise DomainError(_l("Tick the box to confirm that you checked the evaluation again."),
                              field="confirm_own", status_code=422)
    previous = _published_for(evaluation.organisation, evaluation.period)
    if previous is not None:
        if previous.id != evaluation.supersedes_id:
            raise DomainError(_l("%(period)s already has a published evaluation.", period=evaluation.period))
        previous.mark_superseded()
        db.session.flush()
        audit.record("evaluation.superseded", previous, actor=actor, community=evaluation.organisation.community,
                     summary=f"replaced by version {evaluation.version}: {evaluation.correction_reason or ''}")
    evaluation.mark_published(actor, now)
    db.session.flush()
    log.info("evaluation %s of organisation %s published by user %s", evaluation.id, evaluation.organisation_id,
             actor.id)
    audit.record("evaluation.published", evaluation, actor=actor, community=evaluation.organisation.community,
                 summary=f"{evaluation.organisation.name} {evaluation.period} v{evaluation.version}: "
                         f"{evaluation.total} {evaluation.grade.value if evaluation.grade else ''}")
    notification_events.evaluation_published(evaluation)


def start_correction(evaluation: Evaluation, *, reason: str, actor: User) -> Evaluation:
    """A published evaluation never changes: a correction is a new draft version that says why."""
    evaluation.require_status(EvaluationStatus.published)
    reason = _text(reason, "reason", max_length=MAX_REASON, message=_l("Say what the correction is for."))
    if _open_for(evaluation.organisation, evaluation.period) is not None:
        raise DomainError(_l("A correction of this evaluation is already being prepared."))
    correction = Evaluation(
        community_id=evaluation.community_id, organisation=evaluation.organisation, rubric=evaluation.rubric,
        period=evaluation.period, version=_next_version(evaluation.organisation, evaluation.period),
        supersedes_id=evaluation.id, correction_reason=reason, narrative=evaluation.narrative,
        survey=evaluation.survey, satisfaction_tenths=evaluation.satisfaction_tenths,
        survey_responses=evaluation.survey_responses, survey_eligible=evaluation.survey_eligible,
        total_tenths=evaluation.total_tenths, grade=evaluation.grade, created_by_id=actor.id,
    )
    correction.scores = [EvaluationScore(criterion_id=s.criterion_id, score_tenths=s.score_tenths)
                         for s in evaluation.scores]
    correction.photos = [EvaluationPhoto(filename=p.filename, content_type=p.content_type, width=p.width,
                                         height=p.height, size=p.size, caption=p.caption,
                                         uploaded_by_id=p.uploaded_by_id) for p in evaluation.photos]
    db.session.add(correction)
    db.session.flush()
    audit.record("evaluation.correction_started", correction, actor=actor, community=evaluation.organisation.community,
                 summary=f"corrects evaluation {evaluation.id}: {reason}")
    return correction


def add_photo(evaluation: Evaluation, *, data: bytes, caption: str, actor: User,
              upload_dir: Path | None = None) -> EvaluationPhoto:
    """Attach an evidence photo to a draft (images only, at most 5 MB, metadata stripped), stored in the
    database with the row. `upload_dir` is ignored (photos were once files there); kept for old callers."""
    evaluation.require_status(EvaluationStatus.draft)
    if len(evaluation.photos) >= MAX_PHOTOS:
        raise DomainError(_l("An evaluation has at most %(n)d photos.", n=MAX_PHOTOS), field="photo", status_code=422)
    caption = _text(caption, "caption", max_length=200)
    image = photos.clean_image(data)
    name = photos.store(image)
    photo = EvaluationPhoto(filename=name, content_type=image.content_type, width=image.width, height=image.height,
                            size=len(image.data), caption=caption, uploaded_by_id=actor.id)
    evaluation.photos.append(photo)
    db.session.flush()
    audit.record("evaluation.photo_added", evaluation, actor=actor, community=evaluation.organisation.community,
                 summary=f"{name} {image.width}x{image.height}")
    return photo


def remove_photo(photo: EvaluationPhoto, *, actor: User) -> None:
    evaluation = photo.evaluation
    evaluation.require_status(EvaluationStatus.draft)
    audit.record("evaluation.photo_removed", evaluation, actor=actor, community=evaluation.organisation.community,
                 summary=photo.filename)
    # The stored photo stays: an earlier published version may show the same photo.
    evaluation.photos.remove(photo)
    db.session.flush()


def post_reply(evaluation: Evaluation, *, author: User, body: str) -> EvaluationReply:
    """The organisation's one public reply to its published evaluation."""
    evaluation.require_status(EvaluationStatus.published)
    body = _text(body, "body", max_length=MAX_REPLY, message=_l("Write the reply."))
    if reply_for(evaluation) is not None:
        raise DomainError(_l("Your organisation has already replied to this evaluation."))
    reply = EvaluationReply(evaluation_id=evaluation.id, organisation_id=evaluation.organisation_id,
                            author_id=author.id, body=body)
    try:
        with db.session.begin_nested():
            db.session.add(reply)
            db.session.flush()
    except IntegrityError as error:
        raise DomainError(_l("Your organisation has already replied to this evaluation.")) from error
    audit.record("evaluation.replied", reply, actor=author, community=evaluation.organisation.community,
                 summary=f"reply to evaluation {evaluation.id}")
    return reply


def reply_for(evaluation: Evaluation) -> EvaluationReply | None:
    return db.session.scalar(select(EvaluationReply).options(joinedload(EvaluationReply.author))
                             .where(EvaluationReply.evaluation_id == evaluation.id))


# --- reading --------------------------------------------------------------------------

@dataclass
class OrganisationSummary:
    organisation: Organisation
    history: list[Evaluation]  # published (current) evaluations, oldest period first

    @property
    def latest(self) -> Evaluation | None:
        return self.history[-1] if self.history else None

    @property
    def needs_review(self) -> bool:
        return scoring.needs_review([e.grade for e in reversed(self.history)])


def published_history(organisation_ids: Sequence[int]) -> dict[int, list[Evaluation]]:
    """Current published evaluations per organisation, oldest period first (one query)."""
    rows = db.session.scalars(
        select(Evaluation).where(Evaluation.organisation_id.in_(organisation_ids or [-1]),
                                 Evaluation.status == EvaluationStatus.published)
        .order_by(Evaluation.organisation_id, Evaluation.period))
    history: dict[int, list[Evaluation]] = {oid: [] for oid in organisation_ids}
    for evaluation in rows:
        history[evaluation.organisation_id].append(evaluation)
    return history


def organisation_summaries(community: Community) -> list[OrganisationSummary]:
    """Every organisation of the community with its published history (a fixed number of queries)."""
    organisations = organisations_of(community)
    history = published_history([o.id for o in organisations])
    return [OrganisationSummary(o, history[o.id]) for o in organisations]


def evaluations_in_progress(community: Community) -> list[Evaluation]:
    return list(db.session.scalars(
        select(Evaluation).options(joinedload(Evaluation.organisation), joinedload(Evaluation.submitted_by))
        .where(Evaluation.community_id == community.id,
               Evaluation.status.in_((EvaluationStatus.draft, EvaluationStatus.submitted)))
        .order_by(Evaluation.period.desc(), Evaluation.id)))


def surveys_of(community: Community, *, organisation: Organisation | None = None) -> list[SatisfactionSurvey]:
    query = (select(SatisfactionSurvey).options(joinedload(SatisfactionSurvey.organisation))
             .where(SatisfactionSurvey.community_id == community.id))
    if organisation is not None:
        query = query.where(SatisfactionSurvey.organisation_id == organisation.id)
    return list(db.session.scalars(query.order_by(SatisfactionSurvey.id.desc())))


def open_surveys(community: Community, *, now: datetime | None = None) -> list[SatisfactionSurvey]:
    return list(db.session.scalars(
        select(SatisfactionSurvey).options(joinedload(SatisfactionSurvey.organisation))
        .where(SatisfactionSurvey.community_id == community.id, SatisfactionSurvey.closed_at.is_(None),
               SatisfactionSurvey.closes_at > (now or utcnow()))
        .order_by(SatisfactionSurvey.closes_at)))


def recent_published(community: Community, *, limit: int = 5) -> list[Evaluation]:
    return list(db.session.scalars(
        select(Evaluation).options(joinedload(Evaluation.organisation))
        .where(Evaluation.community_id == community.id, Evaluation.status == EvaluationStatus.published)
        .order_by(Evaluation.published_at.desc(), Evaluation.id.desc()).limit(limit)))


def versions_of(evaluation: Evaluation) -> list[Evaluation]:
    return list(db.session.scalars(
        select(Evaluation).options(joinedload(Evaluation.published_by))
        .where(Evaluation.organisation_id == evaluation.organisation_id, Evaluation.period == evaluation.period)
        .order_by(Evaluation.version)))


def replies_for(evaluation_ids: Sequence[int]) -> dict[int, EvaluationReply]:
    rows = db.session.scalars(select(EvaluationReply).options(joinedload(EvaluationReply.author))
                              .where(EvaluationReply.evaluation_id.in_(evaluation_ids or [-1])))
    return {reply.evaluation_id: reply for reply in rows}


def export_rows(community: Community) -> list[Evaluation]:
    """Published evaluations and the versions they corrected, with what an export needs loaded."""
    return list(db.session.scalars(
        select(Evaluation)
        .options(joinedload(Evaluation.organisation), joinedload(Evaluation.rubric),
                 selectinload(Evaluation.scores).joinedload(EvaluationScore.criterion))
        .where(Evaluation.community_id == community.id,
               Evaluation.status.in_((EvaluationStatus.published, EvaluationStatus.superseded)))
        .order_by(Evaluation.organisation_id, Evaluation.period, Evaluation.version)).unique())

