"""Rounds, proposals and what residents attach to them."""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from deliberation.auth.models import User
from deliberation.communities.models import Building, Community, Estate
from deliberation.core.errors import DomainError
from deliberation.core.models import TimestampMixin, string_enum, utcnow
from deliberation.extensions import db


class Category(enum.StrEnum):
    services = "services"
    goods = "goods"
    works = "works"

    @property
    def label(self):
        return CATEGORY_LABELS[self]


CATEGORY_LABELS = {
    Category.services: _l("Services (服务类)"),
    Category.goods: _l("Goods (货物类)"),
    Category.works: _l("Works (工程类)"),
}
DEFAULT_CATEGORY_CAPS = {Category.services: 200_000, Category.goods: 500_000, Category.works: 500_000}


class CountingRule(enum.StrEnum):
    greedy = "greedy"
    equal_shares = "equal_shares"

    @property
    def label(self):
        return RULE_LABELS[self]


RULE_LABELS = {
    CountingRule.greedy: _l("Most approvals first (greedy)"),
    CountingRule.equal_shares: _l("Method of Equal Shares"),
}


class BallotType(enum.StrEnum):
    """What a resident's ballot says: chosen before voting opens, then locked with the other ballot rules."""

    approval = "approval"  # tick any projects; the budget meter shows their cost
    k_approval = "k_approval"  # tick at most k projects (`Round.max_approvals`)
    cumulative = "cumulative"  # spread `points_total` points, at most `points_per_project` on one project
    ranked = "ranked"  # rank up to k projects (`Round.max_approvals`), 1 = best

    @property
    def label(self):
        return BALLOT_TYPE_LABELS[self]

    @property
    def pb_vote_type(self) -> str:
        """The Pabulib `vote_type` of ballots of this type."""
        return {BallotType.cumulative: "cumulative", BallotType.ranked: "ordinal"}.get(self, "approval")


BALLOT_TYPE_LABELS = {
    BallotType.approval: _l("Approval: tick any projects (with the budget meter)"),
    BallotType.k_approval: _l("k-approval: tick at most k projects"),
    BallotType.cumulative: _l("Cumulative: spread points over the projects"),
    BallotType.ranked: _l("Ranked: rank your top k projects"),
}


class RoundPhase(enum.StrEnum):
    collecting = "collecting"
    screening = "screening"
    branch_review = "branch_review"
    voting = "voting"
    council_resolution = "council_resolution"
    publicity = "publicity"
    implementing = "implementing"
    closed = "closed"

    @property
    def label(self):
        return PHASE_LABELS[self]


PHASE_LABELS = {
    RoundPhase.collecting: _l("Collecting proposals (征集)"),
    RoundPhase.screening: _l("Screening (初筛)"),
    RoundPhase.branch_review: _l("Party branch review (党组织审核)"),
    RoundPhase.voting: _l("Resident vote (居民投票)"),
    RoundPhase.council_resolution: _l("Council resolution (议事会决议)"),
    RoundPhase.publicity: _l("Publicity (公示)"),
    RoundPhase.implementing: _l("Implementation (实施)"),
    RoundPhase.closed: _l("Closed (结束)"),
}
PHASE_ORDER = list(RoundPhase)


class ProposalStatus(enum.StrEnum):
    submitted = "submitted"
    accepted = "accepted"
    rejected = "rejected"
    merged = "merged"
    on_ballot = "on_ballot"
    struck = "struck"
    funded = "funded"
    not_funded = "not_funded"
    in_progress = "in_progress"
    completed = "completed"

    @property
    def label(self):
        return STATUS_LABELS[self]


STATUS_LABELS = {
    ProposalStatus.submitted: _l("Submitted"),
    ProposalStatus.accepted: _l("Accepted"),
    ProposalStatus.rejected: _l("Not accepted"),
    ProposalStatus.merged: _l("Merged"),
    ProposalStatus.on_ballot: _l("On the ballot"),
    ProposalStatus.struck: _l("Struck by the Party branch"),
    ProposalStatus.funded: _l("Funded"),
    ProposalStatus.not_funded: _l("Not funded"),
    ProposalStatus.in_progress: _l("Being implemented"),
    ProposalStatus.completed: _l("Completed"),
}


class Round(TimestampMixin, db.Model):
    """A funding round of livelihood micro-projects with its budget, caps and phase."""

    __tablename__ = "rounds"
    __table_args__ = (
        CheckConstraint("budget > 0", name="budget_positive"),
        CheckConstraint("project_cap > 0", name="project_cap_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    budget: Mapped[int] = mapped_column(Integer)
    project_cap: Mapped[int] = mapped_column(Integer)
    cap_services: Mapped[int] = mapped_column(Integer, default=DEFAULT_CATEGORY_CAPS[Category.services])
    cap_goods: Mapped[int] = mapped_column(Integer, default=DEFAULT_CATEGORY_CAPS[Category.goods])
    cap_works: Mapped[int] = mapped_column(Integer, default=DEFAULT_CATEGORY_CAPS[Category.works])
    support_threshold: Mapped[int] = mapped_column(Integer, default=0)
    branch_review_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    publicity_days: Mapped[int] = mapped_column(Integer, default=5)
    phase: Mapped[RoundPhase] = mapped_column(string_enum(RoundPhase), default=RoundPhase.collecting, index=True)
    publicity_started_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Ballot rules: set before voting opens, locked afterwards.
    ballot_per_household: Mapped[bool] = mapped_column(Boolean, default=False)
    ballot_type: Mapped[BallotType] = mapped_column(string_enum(BallotType), default=BallotType.approval)
    # k of a k-approval or ranked ballot (the most projects one ballot may tick or rank); None otherwise.
    max_approvals: Mapped[int | None] = mapped_column(Integer)
    # A cumulative ballot: the points each voter spreads, and the most on one project.
    points_total: Mapped[int | None] = mapped_column(Integer)
    points_per_project: Mapped[int | None] = mapped_column(Integer)
    must_fit_budget: Mapped[bool] = mapped_column(Boolean, default=True)
    counting_rule: Mapped[CountingRule] = mapped_column(string_enum(CountingRule), default=CountingRule.greedy)
    voting_closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The announced end of voting (UTC): shown on the round and the ballot, and the clock of the
    # "voting closes within 24 hours" reminder. The secretary still closes the vote (paper ballots).
    voting_closes_at: Mapped[datetime | None] = mapped_column(DateTime)
    closing_reminder_sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolution_note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    community: Mapped[Community] = relationship()
    steps: Mapped[list[RoundStep]] = relationship(back_populates="round", order_by="RoundStep.position",
                                                  cascade="all, delete-orphan")

    def cap_for(self, category: Category) -> int:
        """The most one proposal of this category may cost: the lower of both caps."""
        return min(self.project_cap, getattr(self, f"cap_{category.value}"))

    def phases(self) -> list[RoundPhase]:
        """The phases this round goes through (branch review can be switched off)."""
        return [p for p in PHASE_ORDER if p != RoundPhase.branch_review or self.branch_review_enabled]

    def next_phase(self) -> RoundPhase | None:
        phases = self.phases()
        index = phases.index(self.phase)
        return phases[index + 1] if index + 1 < len(phases) else None

    def advance_to(self, phase: RoundPhase, *, by: User) -> None:
        """Move one step forward; anything else is refused."""
        if phase != self.next_phase():
            raise DomainError(_l("A round moves forward one phase at a time: from %(current)s it can only go to "
                                 "the next phase.", current=self.phase.label))
        self.phase = phase
        step = self.step(phase)
        step.started_at = utcnow()
        step.started_by = by
        if phase == RoundPhase.publicity:
            self.publicity_started_at = step.started_at

    def step(self, phase: RoundPhase) -> RoundStep:
        return next(s for s in self.steps if s.phase == phase)

    @property
    def publicity_ends_at(self) -> datetime | None:
        if self.publicity_started_at is None:
            return None
        return self.publicity_started_at + timedelta(days=self.publicity_days)

    @property
    def is_open(self) -> bool:
        return self.phase != RoundPhase.closed


class RoundStep(db.Model):
    """One phase of a round: its planned start and who started it when."""

    __tablename__ = "round_steps"
    __table_args__ = (UniqueConstraint("round_id", "phase"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    phase: Mapped[RoundPhase] = mapped_column(string_enum(RoundPhase))
    position: Mapped[int] = mapped_column(Integer)
    planned_start: Mapped[date | None] = mapped_column(Date)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    round: Mapped[Round] = relationship(back_populates="steps")
    started_by: Mapped[User | None] = relationship()


class Proposal(TimestampMixin, db.Model):
    """A micro-project proposed by a resident."""

    __tablename__ = "proposals"
    __table_args__ = (CheckConstraint("cost > 0", name="cost_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    proposer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    category: Mapped[Category] = mapped_column(string_enum(Category))
    cost: Mapped[int] = mapped_column(Integer)
    estate_id: Mapped[int | None] = mapped_column(ForeignKey("estates.id"))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"))
    location_text: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[ProposalStatus] = mapped_column(string_enum(ProposalStatus), default=ProposalStatus.submitted,
                                                   index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    # Why screening accepted it with fewer co-signatures than the round's threshold (public, kept).
    threshold_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"))
    # Kept in step with the Support rows by the services, so lists can sort on it cheaply.
    support_count: Mapped[int] = mapped_column(Integer, default=0, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    round: Mapped[Round] = relationship()
    proposer: Mapped[User] = relationship()
    estate: Mapped[Estate | None] = relationship()
    building: Mapped[Building | None] = relationship()
    merged_into: Mapped[Proposal | None] = relationship(remote_side=[id])
    photos: Mapped[list[Photo]] = relationship(
        primaryjoin="and_(Photo.proposal_id == Proposal.id, Photo.progress_update_id.is_(None))",
        order_by="Photo.id", viewonly=True,
    )

    @property
    def location(self) -> str:
        parts = [self.building.label if self.building else (self.estate.name if self.estate else ""),
                 self.location_text]
        return " · ".join(p for p in parts if p)

    def below_threshold(self) -> bool:
        return self.support_count < self.round.support_threshold

    def _move(self, allowed: tuple[ProposalStatus, ...], to: ProposalStatus, reason: str | None = None) -> None:
        if self.status not in allowed:
            raise DomainError(_l("This proposal is %(status)s; it cannot become %(target)s.",
                                 status=self.status.label, target=to.label))
        self.status = to
        self.status_reason = reason
        self.decided_at = utcnow()

    def accept(self, *, threshold_reason: str | None = None) -> None:
        self._move((ProposalStatus.submitted, ProposalStatus.rejected), ProposalStatus.accepted)
        self.threshold_reason = threshold_reason

    def reject(self, reason: str) -> None:
        self._move((ProposalStatus.submitted, ProposalStatus.accepted), ProposalStatus.rejected, reason)

    def merge_into(self, target: Proposal) -> None:
        self._move((ProposalStatus.submitted, ProposalStatus.accepted), ProposalStatus.merged)
        self.merged_into = target

    def strike(self, reason: str) -> None:
        self._move((ProposalStatus.accepted,), ProposalStatus.struck, reason)

    def put_on_ballot(self) -> None:
        self._move((ProposalStatus.accepted,), ProposalStatus.on_ballot)

    def fund(self) -> None:
        self._move((ProposalStatus.on_ballot,), ProposalStatus.funded)

    def not_fund(self) -> None:
        self._move((ProposalStatus.on_ballot,), ProposalStatus.not_funded)

    def start_implementation(self) -> None:
        self._move((ProposalStatus.funded,), ProposalStatus.in_progress)

    def complete(self) -> None:
        self._move((ProposalStatus.in_progress,), ProposalStatus.completed)


class Support(db.Model):
    """A resident's co-signature (附议); one per resident and proposal."""

    __tablename__ = "supports"
    __table_args__ = (UniqueConstraint("proposal_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Comment(TimestampMixin, db.Model):
    """A comment in a proposal's discussion; replies point at their parent."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    body: Mapped[str] = mapped_column(Text)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    moderation_reason: Mapped[str | None] = mapped_column(String(300))
    moderated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    moderated_at: Mapped[datetime | None] = mapped_column(DateTime)
    report_count: Mapped[int] = mapped_column(Integer, default=0)

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    proposal: Mapped[Proposal] = relationship()


class CommentReport(db.Model):
    __tablename__ = "comment_reports"
    __table_args__ = (UniqueConstraint("comment_id", "reporter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Objection(TimestampMixin, db.Model):
    """An objection filed during publicity (公示期异议); the secretary must answer it publicly."""

    __tablename__ = "objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])
    proposal: Mapped[Proposal] = relationship()


class ProgressUpdate(TimestampMixin, db.Model):
    __tablename__ = "progress_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)

    author: Mapped[User] = relationship()
    photos: Mapped[list[Photo]] = relationship(order_by="Photo.id", viewonly=True)


class Rating(db.Model):
    """A resident's 1–5 star rating of a completed project; one per resident."""

    __tablename__ = "ratings"
    __table_args__ = (
        UniqueConstraint("proposal_id", "user_id"),
        CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    stars: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Photo(db.Model):
    """A stored, re-encoded photo of a proposal or of a progress update."""

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    progress_update_id: Mapped[int | None] = mapped_column(ForeignKey("progress_updates.id"), index=True)
    filename: Mapped[str] = mapped_column(String(64), unique=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
