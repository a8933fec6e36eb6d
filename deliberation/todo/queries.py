"""What waits for one user: a fixed number of statements, whatever the number of rounds, surveys,
sheets, sessions, evaluations or communities.

Each query reads one kind of work for all the user's communities at once. Who has voted is read
from BallotParticipation only (never from ballots); who has answered a survey from SurveyParticipation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from deliberation.auth.models import User
from deliberation.communities.models import Community, Residency, ResidencyStatus, Role
from deliberation.consultations.models import ConsultationSession, SessionStatus
from deliberation.core.models import utcnow
from deliberation.evaluations.models import (
    Evaluation,
    EvaluationReply,
    EvaluationStatus,
    Organisation,
    SatisfactionSurvey,
    SurveyParticipation,
    organisation_estates,
)
from deliberation.extensions import db
from deliberation.proposals.models import Proposal, ProposalStatus, Round, RoundPhase
from deliberation.votes.models import BallotParticipation, PaperEntry


@dataclass
class WorkItem:
    """One line of the list: what waits, where, and the page where it is done."""

    kind: str
    community: Community
    text: object  # a lazy, translated message
    endpoint: str
    params: dict
    detail: str = ""


@dataclass
class Todo:
    votes: list[Round] = field(default_factory=list)
    surveys: list[SatisfactionSurvey] = field(default_factory=list)
    meetings: list[ConsultationSession] = field(default_factory=list)
    pending: list[Residency] = field(default_factory=list)
    work: list[WorkItem] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.votes or self.surveys or self.meetings or self.pending or self.work)


def _communities(user: User, *roles: Role) -> dict[int, Community]:
    return {g.community_id: g.community for g in user.role_grants if g.role in roles}


def todo_for(user: User, *, now: datetime | None = None) -> Todo:
    """Everything waiting for `user`: their own votes, surveys and meetings, and their roles' work."""
    from deliberation.consultations.services import upcoming_for_member

    now = now or utcnow()
    todo = Todo()
    verified = [r for r in user.residencies if r.status == ResidencyStatus.verified]
    todo.pending = [r for r in user.residencies if r.status == ResidencyStatus.pending]
    if verified:
        todo.votes = open_votes_not_cast(user, verified)
        todo.surveys = surveys_to_answer(user, verified, now=now)
    todo.meetings = upcoming_for_member(user, now=now)
    runners = _communities(user, Role.council_secretary, Role.community_admin)
    if runners:
        todo.work += _round_work(runners)
    secretaries = _communities(user, Role.council_secretary)
    if secretaries:
        todo.work += _minutes_to_publish(secretaries)
    branches = _communities(user, Role.party_branch)
    if branches:
        todo.work += _branch_work(branches, now=now)
    offices = _communities(user, Role.community_admin)
    if offices:
        todo.work += _residents_to_verify(offices)
    # Requests have deadlines (hours for some); a reply to an evaluation has none: requests first.
    todo.work += _requests_waiting(user)
    represented = {g.organisation_id: g.community for g in user.role_grants
                   if g.role == Role.org_rep and g.organisation_id}
    if represented:
        todo.work += _replies_due(represented)
    return todo


# --- for the user themself ----------------------------------------------------------------

def open_votes_not_cast(user: User, verified: list[Residency]) -> list[Round]:
    """Rounds open for voting in the user's communities where neither they nor their household voted."""
    keys = [f"person:{user.id}"] + [r.household_key for r in verified]
    voted = select(BallotParticipation.id).where(
        BallotParticipation.round_id == Round.id,
        or_(BallotParticipation.user_id == user.id, BallotParticipation.eligibility_key.in_(keys)))
    return list(db.session.scalars(
        select(Round).options(joinedload(Round.community))
        .where(Round.community_id.in_({r.community_id for r in verified}), Round.phase == RoundPhase.voting,
               Round.voting_closed_at.is_(None), ~voted.exists())
        .order_by(Round.id)))


def surveys_to_answer(user: User, verified: list[Residency], *, now: datetime) -> list[SatisfactionSurvey]:
    """Open surveys about an organisation serving one of the user's estates, not yet answered."""
    answered = select(SurveyParticipation.id).where(SurveyParticipation.survey_id == SatisfactionSurvey.id,
                                                    SurveyParticipation.user_id == user.id)
    serves_me = select(organisation_estates.c.organisation_id).where(
        organisation_estates.c.estate_id.in_({r.building.estate_id for r in verified}))
    return list(db.session.scalars(
        select(SatisfactionSurvey)
        .options(joinedload(SatisfactionSurvey.organisation).joinedload(Organisation.community))
        .where(SatisfactionSurvey.community_id.in_({r.community_id for r in verified}),
               SatisfactionSurvey.organisation_id.in_(serves_me), SatisfactionSurvey.closed_at.is_(None),
               SatisfactionSurvey.closes_at > now, ~answered.exists())
        .order_by(SatisfactionSurvey.closes_at)))


# --- council secretary and community office ------------------------------------------------

def _round_work(communities: dict[int, Community]) -> list[WorkItem]:
    """Proposals to screen and paper sheets to resolve, per round."""
    to_screen = dict(db.session.execute(
        select(Proposal.round_id, func.count(Proposal.id)).join(Round, Round.id == Proposal.round_id)
        .where(Round.community_id.in_(communities), Round.phase == RoundPhase.screening,
               Proposal.status == ProposalStatus.submitted)
        .group_by(Proposal.round_id)).all())
    entries = db.session.execute(
        select(PaperEntry.round_id, PaperEntry.sheet, PaperEntry.choices).join(Round, Round.id == PaperEntry.round_id)
        .where(Round.community_id.in_(communities), Round.phase == RoundPhase.voting,
               Round.voting_closed_at.is_(None))).all()
    sheets: dict[tuple[int, str], list] = {}
    for round_id, sheet, choices in entries:
        sheets.setdefault((round_id, sheet), []).append(sorted(choices))
    unresolved: dict[int, int] = {}
    for (round_id, _sheet), keyings in sheets.items():
        # Waiting for a second operator, or two keyings that differ: someone has to act.
        if len(keyings) != 2 or keyings[0] != keyings[1]:
            unresolved[round_id] = unresolved.get(round_id, 0) + 1
    ids = set(to_screen) | set(unresolved)
    if not ids:
        return []
    rounds = {r.id: r for r in db.session.scalars(select(Round).where(Round.id.in_(ids)))}
    items = []
    for round_id in sorted(ids):
        round_ = rounds[round_id]
        community = communities[round_.community_id]
        if round_id in to_screen:
            items.append(WorkItem("screen", community, _l("%(n)d proposals to screen", n=to_screen[round_id]),
                                  "proposals.screening", {"slug": community.slug, "round_id": round_id},
                                  round_.title))
        if round_id in unresolved:
            items.append(WorkItem("paper", community, _l("%(n)d paper sheets to resolve", n=unresolved[round_id]),
                                  "votes.paper", {"slug": community.slug, "round_id": round_id}, round_.title))
    return items


def _minutes_to_publish(communities: dict[int, Community]) -> list[WorkItem]:
    sessions = db.session.scalars(
        select(ConsultationSession).where(ConsultationSession.community_id.in_(communities),
                                          ConsultationSession.status == SessionStatus.adjourned)
        .order_by(ConsultationSession.starts_at))
    return [WorkItem("minutes", communities[s.community_id], _l("Minutes to publish"), "consultations.minutes_edit",
                     {"slug": communities[s.community_id].slug, "session_id": s.id}, s.title) for s in sessions]


def _residents_to_verify(communities: dict[int, Community]) -> list[WorkItem]:
    counts = db.session.execute(
        select(Residency.community_id, func.count(Residency.id))
        .where(Residency.community_id.in_(communities), Residency.status == ResidencyStatus.pending)
        .group_by(Residency.community_id)).all()
    return [WorkItem("verify", communities[cid], _l("%(n)d residents to verify", n=n), "communities.residents",
                     {"slug": communities[cid].slug}) for cid, n in sorted(counts)]


# --- Party branch and organisation representatives ------------------------------------------

def _branch_work(communities: dict[int, Community], *, now: datetime) -> list[WorkItem]:
    """Ballot lists to review, evaluations to confirm, surveys to close."""
    items = []
    for round_ in db.session.scalars(select(Round).where(Round.community_id.in_(communities),
                                                         Round.phase == RoundPhase.branch_review).order_by(Round.id)):
        community = communities[round_.community_id]
        items.append(WorkItem("review", community, _l("Ballot list to review"), "proposals.round_detail",
                              {"slug": community.slug, "round_id": round_.id}, round_.title))
    for ev in db.session.scalars(select(Evaluation).options(joinedload(Evaluation.organisation))
                                 .where(Evaluation.community_id.in_(communities),
                                        Evaluation.status == EvaluationStatus.submitted)
                                 .order_by(Evaluation.submitted_at)):
        community = communities[ev.community_id]
        items.append(WorkItem("confirm", community, _l("Evaluation to confirm"), "evaluations.evaluation",
                              {"slug": community.slug, "evaluation_id": ev.id},
                              f"{ev.organisation.name} · {ev.period}"))
    for survey in db.session.scalars(select(SatisfactionSurvey).options(joinedload(SatisfactionSurvey.organisation))
                                     .where(SatisfactionSurvey.community_id.in_(communities),
                                            SatisfactionSurvey.closed_at.is_(None), SatisfactionSurvey.closes_at > now)
                                     .order_by(SatisfactionSurvey.closes_at)):
        community = communities[survey.community_id]
        items.append(WorkItem("close", community, _l("Survey to close"), "evaluations.survey",
                              {"slug": community.slug, "survey_id": survey.id}, survey.organisation.name))
    return items


def _replies_due(organisations: dict[int, Community]) -> list[WorkItem]:
    """Published evaluations of the represented organisations that have no reply yet."""
    replied = select(EvaluationReply.id).where(EvaluationReply.evaluation_id == Evaluation.id)
    items = []
    for ev in db.session.scalars(select(Evaluation).options(joinedload(Evaluation.organisation))
                                 .where(Evaluation.organisation_id.in_(organisations),
                                        Evaluation.status == EvaluationStatus.published, ~replied.exists())
                                 .order_by(Evaluation.published_at)):
        community = organisations[ev.organisation_id]
        items.append(WorkItem("reply", community, _l("Evaluation awaiting your reply"), "evaluations.reply",
                              {"slug": community.slug, "evaluation_id": ev.id},
                              f"{ev.organisation.name} · {ev.period}"))
    return items


# --- resident requests (grids) ----------------------------------------------------------------

def _requests_waiting(user: User) -> list[WorkItem]:
    """Requests to sign, answer or follow up as grid worker, unit representative or office; own ones to rate."""
    from deliberation.grids.queries import pending_for

    offices = {g.community_id for g in user.role_grants if g.role == Role.community_admin}
    items = []
    for req in pending_for(user):
        community = req.community
        if req.status.value == "answered" and req.requester_id == user.id:
            text = _l("Your request was answered: say whether it was resolved")
        elif req.escalated_at is not None and req.community_id in offices:
            text = _l("Overdue request escalated to the office")
        elif req.status.value in ("new", "whistled"):
            text = _l("Request to sign for")
        else:
            text = _l("Request to answer")
        items.append(WorkItem("request", community, text, "grids.request_detail",
                              {"slug": community.slug, "request_id": req.id},
                              f"{req.category.label} · {req.grid.name}"))
    return items
