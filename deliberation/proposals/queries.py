"""Read-side queries for lists and the notice board: each runs a fixed number of statements."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload, selectinload

from deliberation.extensions import db
from deliberation.proposals.models import (
    Category,
    Comment,
    Objection,
    ProgressUpdate,
    Proposal,
    ProposalStatus,
    Rating,
    Round,
    RoundPhase,
)

PER_PAGE = 20
DECIDED = (ProposalStatus.accepted, ProposalStatus.rejected, ProposalStatus.merged, ProposalStatus.struck,
           ProposalStatus.funded, ProposalStatus.not_funded, ProposalStatus.completed)


@dataclass
class ProposalFilters:
    q: str = ""
    category: str = ""
    status: str = ""
    estate_id: int | None = None
    sort: str = "newest"


def list_query(round_: Round, filters: ProposalFilters) -> Select:
    """The round's proposals, filtered and sorted; photos, proposer and place load with them."""
    query = (select(Proposal).where(Proposal.round_id == round_.id)
             .options(joinedload(Proposal.proposer), joinedload(Proposal.estate),
                      joinedload(Proposal.building), selectinload(Proposal.photos)))
    if filters.q:
        query = query.where(Proposal.title.icontains(filters.q, autoescape=True)
                            | Proposal.description.icontains(filters.q, autoescape=True))
    if filters.category in Category.__members__:
        query = query.where(Proposal.category == Category(filters.category))
    if filters.status in ProposalStatus.__members__:
        query = query.where(Proposal.status == ProposalStatus(filters.status))
    if filters.estate_id:
        query = query.where(Proposal.estate_id == filters.estate_id)
    order = {
        "supported": (Proposal.support_count.desc(), Proposal.id.desc()),
        "cost_low": (Proposal.cost.asc(), Proposal.id.asc()),
        "cost_high": (Proposal.cost.desc(), Proposal.id.desc()),
    }.get(filters.sort, (Proposal.created_at.desc(), Proposal.id.desc()))
    return query.order_by(*order)


def comments_of(proposal: Proposal) -> list[Comment]:
    return list(db.session.scalars(select(Comment).where(Comment.proposal_id == proposal.id)
                                   .options(joinedload(Comment.author)).order_by(Comment.id)))


def objections_of(proposal: Proposal) -> list[Objection]:
    return list(db.session.scalars(select(Objection).where(Objection.proposal_id == proposal.id)
                                   .options(joinedload(Objection.author), joinedload(Objection.answered_by))
                                   .order_by(Objection.id)))


def progress_of(proposal: Proposal) -> list[ProgressUpdate]:
    return list(db.session.scalars(select(ProgressUpdate).where(ProgressUpdate.proposal_id == proposal.id)
                                   .options(joinedload(ProgressUpdate.author), selectinload(ProgressUpdate.photos))
                                   .order_by(ProgressUpdate.id)))


def reported_comments(round_: Round) -> list[Comment]:
    return list(db.session.scalars(
        select(Comment).join(Proposal, Comment.proposal_id == Proposal.id)
        .where(Proposal.round_id == round_.id, (Comment.report_count > 0) | Comment.hidden)
        .options(joinedload(Comment.author), joinedload(Comment.proposal))
        .order_by(Comment.hidden, Comment.report_count.desc(), Comment.id)
    ))


def open_rounds(community_id: int) -> list[Round]:
    return list(db.session.scalars(select(Round).where(Round.community_id == community_id,
                                                       Round.phase != RoundPhase.closed)
                                   .order_by(Round.created_at.desc())))


def rounds_in_phase(community_id: int, phase: RoundPhase) -> list[Round]:
    """The community's rounds in one phase, oldest first (the Party branch's ballot lists to review)."""
    return list(db.session.scalars(select(Round).where(Round.community_id == community_id, Round.phase == phase)
                                   .order_by(Round.id)))


def in_publicity(community_id: int) -> list[Proposal]:
    return list(db.session.scalars(
        select(Proposal).join(Round, Proposal.round_id == Round.id)
        .where(Proposal.community_id == community_id, Round.phase == RoundPhase.publicity,
               Proposal.status == ProposalStatus.funded)
        .options(joinedload(Proposal.round)).order_by(Proposal.id)
    ))


def recent_decisions(community_id: int, limit: int = 8) -> list[Proposal]:
    return list(db.session.scalars(
        select(Proposal).where(Proposal.community_id == community_id, Proposal.status.in_(DECIDED),
                               Proposal.decided_at.is_not(None))
        .options(joinedload(Proposal.round)).order_by(Proposal.decided_at.desc(), Proposal.id.desc()).limit(limit)
    ))


def ratings_by_proposal(proposal_ids: list[int]) -> dict[int, tuple[float, int]]:
    if not proposal_ids:
        return {}
    rows = db.session.execute(select(Rating.proposal_id, func.avg(Rating.stars), func.count(Rating.id))
                              .where(Rating.proposal_id.in_(proposal_ids)).group_by(Rating.proposal_id))
    return {pid: (round(float(avg), 1), n) for pid, avg, n in rows}


def proposals_by(user_id: int) -> list[Proposal]:
    """A user's own proposals, newest first, for their personal page."""
    return list(db.session.scalars(
        select(Proposal).where(Proposal.proposer_id == user_id)
        .options(joinedload(Proposal.round).joinedload(Round.community), joinedload(Proposal.merged_into))
        .order_by(Proposal.created_at.desc(), Proposal.id.desc())
    ))
