"""Organisations, rubrics, satisfaction surveys, evaluations, evidence photos and replies."""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from deliberation.auth.models import User
from deliberation.communities.models import Building, Community, Estate
from deliberation.core.errors import DomainError
from deliberation.core.models import TimestampMixin, string_enum, utcnow
from deliberation.evaluations.scoring import ONE_DECIMAL, Grade
from deliberation.extensions import db


def tenths_to_decimal(value: int | None) -> Decimal | None:
    """Scores are stored as whole tenths (895 = 89.5): exact on SQLite and PostgreSQL alike."""
    return None if value is None else (Decimal(value) / 10).quantize(ONE_DECIMAL)


def decimal_to_tenths(value: Decimal | None) -> int | None:
    return None if value is None else int((Decimal(value) * 10).to_integral_value())


BEIJING_OFFSET = timedelta(hours=8)  # Asia/Shanghai has no daylight saving


class OrganisationKind(enum.StrEnum):
    property_firm = "property_firm"
    owner_committee = "owner_committee"

    @property
    def label(self):
        return ORGANISATION_KIND_LABELS[self]

    @property
    def term_label(self):
        """Firms have a contract period, committees a term of office."""
        return _l("Contract period") if self == OrganisationKind.property_firm else _l("Term of office")


ORGANISATION_KIND_LABELS = {
    OrganisationKind.property_firm: _l("Property management firm"),
    OrganisationKind.owner_committee: _l("Owner committee"),
}

GRADE_LABELS = {
    Grade.excellent: _l("Excellent"),
    Grade.good: _l("Good"),
    Grade.passing: _l("Pass"),
    Grade.failing: _l("Fail"),
}


def grade_label(grade: Grade | None):
    return GRADE_LABELS[grade] if grade is not None else ""


organisation_estates = Table(
    "organisation_estates",
    db.metadata,
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
    Column("estate_id", ForeignKey("estates.id"), primary_key=True),
)


class Organisation(TimestampMixin, db.Model):
    """A property firm or an owner committee serving one or more estates of a community."""

    __tablename__ = "organisations"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    kind: Mapped[OrganisationKind] = mapped_column(string_enum(OrganisationKind))
    name: Mapped[str] = mapped_column(String(100))
    # Contract period (firms) or term of office (committees).
    term_start: Mapped[date | None] = mapped_column(Date)
    term_end: Mapped[date | None] = mapped_column(Date)

    community: Mapped[Community] = relationship()
    estates: Mapped[list[Estate]] = relationship(secondary=organisation_estates, order_by="Estate.name",
                                                 lazy="selectin")

    @property
    def estate_ids(self) -> set[int]:
        return {estate.id for estate in self.estates}

    @property
    def estate_names(self) -> str:
        return "、".join(estate.name for estate in self.estates)


class CriterionPart(enum.StrEnum):
    management = "management"
    comprehensive = "comprehensive"

    @property
    def label(self):
        return PART_LABELS[self]


PART_LABELS = {
    "satisfaction": _l("Resident satisfaction"),
    CriterionPart.management: _l("Management evaluation"),
    CriterionPart.comprehensive: _l("Comprehensive evaluation"),
}


class Rubric(TimestampMixin, db.Model):
    """Weighted criteria for one kind of organisation; locked once a survey or evaluation uses it."""

    __tablename__ = "rubrics"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    kind: Mapped[OrganisationKind] = mapped_column(string_enum(OrganisationKind))
    name: Mapped[str] = mapped_column(String(100))
    satisfaction_weight: Mapped[int] = mapped_column(Integer, default=30)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("rubrics.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    criteria: Mapped[list[Criterion]] = relationship(back_populates="rubric", order_by="Criterion.position",
                                                     cascade="all, delete-orphan", lazy="selectin")
    based_on: Mapped[Rubric | None] = relationship(remote_side=[id])

    @property
    def resident_items(self) -> list[Criterion]:
        return [c for c in self.criteria if c.resident_facing]

    @property
    def total_weight(self) -> int:
        return self.satisfaction_weight + sum(c.weight for c in self.criteria)


class Criterion(db.Model):
    __tablename__ = "rubric_criteria"

    id: Mapped[int] = mapped_column(primary_key=True)
    rubric_id: Mapped[int] = mapped_column(ForeignKey("rubrics.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(60))
    part: Mapped[CriterionPart] = mapped_column(string_enum(CriterionPart))
    weight: Mapped[int] = mapped_column(Integer)
    resident_facing: Mapped[bool] = mapped_column(Boolean, default=False)
    band_excellent: Mapped[str] = mapped_column(String(300), default="")
    band_good: Mapped[str] = mapped_column(String(300), default="")
    band_pass: Mapped[str] = mapped_column(String(300), default="")
    band_fail: Mapped[str] = mapped_column(String(300), default="")

    rubric: Mapped[Rubric] = relationship(back_populates="criteria")

    @property
    def bands(self) -> list[tuple[Grade, str]]:
        return [(Grade.excellent, self.band_excellent), (Grade.good, self.band_good),
                (Grade.passing, self.band_pass), (Grade.failing, self.band_fail)]


class SatisfactionSurvey(TimestampMixin, db.Model):
    """A window in which verified residents of the served estates rate an organisation once."""

    __tablename__ = "satisfaction_surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    rubric_id: Mapped[int] = mapped_column(ForeignKey("rubrics.id"))
    title: Mapped[str] = mapped_column(String(100))
    closes_at: Mapped[datetime] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    organisation: Mapped[Organisation] = relationship()
    rubric: Mapped[Rubric] = relationship()

    def is_open(self, now: datetime | None = None) -> bool:
        return self.closed_at is None and (now or utcnow()) < self.closes_at

    @property
    def open_now(self) -> bool:
        return self.is_open()

    def close(self, now: datetime | None = None) -> None:
        if self.closed_at is not None:
            raise DomainError(_l("This survey is already closed."))
        self.closed_at = min(now or utcnow(), self.closes_at)

    @property
    def first_day(self) -> date:
        """The day (Beijing time) it opened."""
        return (self.created_at + BEIJING_OFFSET).date()

    @property
    def last_day(self) -> date:
        """The last day (Beijing time) residents could or can answer: it closes at the midnight after."""
        return (min(self.closed_at or self.closes_at, self.closes_at) + BEIJING_OFFSET
                - timedelta(microseconds=1)).date()

    @property
    def period(self) -> str:
        """The quarter it closes in, as evaluations name periods (2026-Q3)."""
        return f"{self.last_day.year}-Q{(self.last_day.month - 1) // 3 + 1}"


class SurveyParticipation(db.Model):
    """Who answered (for the once-only rule and turnout by building) — not what they answered.

    Deliberately nothing links a participation to a response: no shared id and only the day.
    """

    __tablename__ = "survey_participations"
    __table_args__ = (UniqueConstraint("survey_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("satisfaction_surveys.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"))
    answered_on: Mapped[date] = mapped_column(Date)

    building: Mapped[Building] = relationship()


def _random_id() -> str:
    return secrets.token_hex(16)


class SurveyResponse(db.Model):
    """What one resident answered, without who: a random key and no time. Written when the survey
    closes, in a random order, from the answers sealed until then (`core.secrecy`)."""

    __tablename__ = "survey_responses"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_random_id)
    survey_id: Mapped[int] = mapped_column(ForeignKey("satisfaction_surveys.id"), index=True)
    comment: Mapped[str | None] = mapped_column(Text)

    ratings: Mapped[list[SurveyRating]] = relationship(cascade="all, delete-orphan")


class SurveyRating(db.Model):
    __tablename__ = "survey_ratings"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_random_id)
    response_id: Mapped[str] = mapped_column(ForeignKey("survey_responses.id"), index=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("satisfaction_surveys.id"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("rubric_criteria.id"))
    rating: Mapped[int] = mapped_column(Integer)


class EvaluationStatus(enum.StrEnum):
    draft = "draft"
    submitted = "submitted"
    published = "published"
    superseded = "superseded"  # published, then replaced by a published correction

    @property
    def label(self):
        return EVALUATION_STATUS_LABELS[self]


EVALUATION_STATUS_LABELS = {
    EvaluationStatus.draft: _l("Draft"),
    EvaluationStatus.submitted: _l("Submitted, waiting for confirmation"),
    EvaluationStatus.published: _l("Published"),
    EvaluationStatus.superseded: _l("Corrected by a later version"),
}


class Evaluation(TimestampMixin, db.Model):
    """The Party branch's evaluation of one organisation for one period, in versions."""

    __tablename__ = "evaluations"
    __table_args__ = (UniqueConstraint("organisation_id", "period", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    rubric_id: Mapped[int] = mapped_column(ForeignKey("rubrics.id"))
    period: Mapped[str] = mapped_column(String(7))  # 2026-Q3
    version: Mapped[int] = mapped_column(Integer, default=1)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("evaluations.id"))
    correction_reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[EvaluationStatus] = mapped_column(string_enum(EvaluationStatus), default=EvaluationStatus.draft,
                                                    index=True)
    narrative: Mapped[str] = mapped_column(Text, default="")
    survey_id: Mapped[int | None] = mapped_column(ForeignKey("satisfaction_surveys.id"))
    # Snapshot of the survey taken at each save and frozen at submission.
    satisfaction_tenths: Mapped[int | None] = mapped_column(Integer)
    survey_responses: Mapped[int | None] = mapped_column(Integer)
    survey_eligible: Mapped[int | None] = mapped_column(Integer)
    total_tenths: Mapped[int | None] = mapped_column(Integer)
    grade: Mapped[Grade | None] = mapped_column(string_enum(Grade))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)

    organisation: Mapped[Organisation] = relationship()
    rubric: Mapped[Rubric] = relationship()
    survey: Mapped[SatisfactionSurvey | None] = relationship()
    scores: Mapped[list[EvaluationScore]] = relationship(back_populates="evaluation", cascade="all, delete-orphan")
    photos: Mapped[list[EvaluationPhoto]] = relationship(back_populates="evaluation", cascade="all, delete-orphan",
                                                         order_by="EvaluationPhoto.id")
    supersedes: Mapped[Evaluation | None] = relationship(remote_side=[id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    published_by: Mapped[User | None] = relationship(foreign_keys=[published_by_id])

    @property
    def total(self) -> Decimal | None:
        return tenths_to_decimal(self.total_tenths)

    @property
    def satisfaction_score(self) -> Decimal | None:
        return tenths_to_decimal(self.satisfaction_tenths)

    @property
    def is_public(self) -> bool:
        return self.status in (EvaluationStatus.published, EvaluationStatus.superseded)

    def score_map(self) -> dict[int, Decimal]:
        return {s.criterion_id: s.score for s in self.scores}

    def require_status(self, *allowed: EvaluationStatus) -> None:
        if self.status not in allowed:
            raise DomainError(_l("This evaluation is %(status)s and cannot be changed this way.",
                                 status=self.status.label))

    def mark_submitted(self, by: User, now: datetime) -> None:
        self.require_status(EvaluationStatus.draft)
        self.status = EvaluationStatus.submitted
        self.submitted_by_id = by.id
        self.submitted_at = now

    def mark_withdrawn(self) -> None:
        self.require_status(EvaluationStatus.submitted)
        self.status = EvaluationStatus.draft
        self.submitted_by_id = None
        self.submitted_at = None

    def mark_published(self, by: User, now: datetime) -> None:
        self.require_status(EvaluationStatus.submitted)
        self.status = EvaluationStatus.published
        self.published_by_id = by.id
        self.published_at = now

    def mark_superseded(self) -> None:
        self.require_status(EvaluationStatus.published)
        self.status = EvaluationStatus.superseded


class EvaluationScore(db.Model):
    __tablename__ = "evaluation_scores"
    __table_args__ = (UniqueConstraint("evaluation_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("rubric_criteria.id"))
    score_tenths: Mapped[int] = mapped_column(Integer)

    evaluation: Mapped[Evaluation] = relationship(back_populates="scores")
    criterion: Mapped[Criterion] = relationship()

    @property
    def score(self) -> Decimal:
        return tenths_to_decimal(self.score_tenths)


class EvaluationPhoto(TimestampMixin, db.Model):
    """An evidence photo, re-encoded without metadata and stored under a random name."""

    __tablename__ = "evaluation_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), index=True)
    filename: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(20))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    caption: Mapped[str] = mapped_column(String(200), default="")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    evaluation: Mapped[Evaluation] = relationship(back_populates="photos")


class EvaluationReply(TimestampMixin, db.Model):
    """The organisation's one public reply to a published evaluation."""

    __tablename__ = "evaluation_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)

    author: Mapped[User | None] = relationship()
