"""Read-only lists of the area: a fixed number of statements whatever the number of rows."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, or_, select, true
from sqlalchemy.orm import joinedload, selectinload

from deliberation.auth.models import User
from deliberation.communities.models import Community, Residency, ResidencyStatus, Role, RoleGrant
from deliberation.extensions import db
from deliberation.grids.models import (
    Grid,
    GridBuilding,
    GridLevel,
    GridWorker,
    HandlingUnit,
    RequestStatus,
    ResidentRequest,
    UnitRepresentative,
)

PAGE = 100
PUBLIC_PER_PAGE = 20


def _listing():
    return select(ResidentRequest).options(joinedload(ResidentRequest.handling_unit),
                                           joinedload(ResidentRequest.building))


def public_requests_page(community: Community, page: int):
    """One page of the requests, newest first, shown anonymised (no requester, no words of the request):
    a phone shows each as a card, so PUBLIC_PER_PAGE at a time, with older ones a page further."""
    return db.paginate(_listing().where(ResidentRequest.community_id == community.id)
                       .order_by(ResidentRequest.created_at.desc(), ResidentRequest.id.desc()),
                       page=page, per_page=PUBLIC_PER_PAGE, error_out=False)


def requests_of(user: User, community: Community, *, limit: int = PAGE) -> list[ResidentRequest]:
    """The user's own requests."""
    return list(db.session.scalars(_listing().where(ResidentRequest.community_id == community.id,
                                                    ResidentRequest.requester_id == user.id)
                                   .order_by(ResidentRequest.created_at.desc()).limit(limit)))


def unit_ids_of(user: User, community: Community | None = None) -> set[int]:
    """Units the user reports for: listed as representative, or `org_rep` of the unit's organisation."""
    listed = select(UnitRepresentative.unit_id).where(UnitRepresentative.user_id == user.id)
    orgs = [g.organisation_id for g in user.role_grants if g.role == Role.org_rep and g.organisation_id]
    query = select(HandlingUnit.id).where(or_(HandlingUnit.id.in_(listed), HandlingUnit.organisation_id.in_(orgs)))
    if community is not None:
        query = query.where(HandlingUnit.community_id == community.id)
    return set(db.session.scalars(query))


QUEUE_FILTERS = ("all", "overdue", "to_sign", "callback")  # the queue's filters, in the order shown


def _queue_filter(show: str):
    """The condition of a queue filter: overdue and still open; waiting for the grid worker or the unit to
    sign; answered and waiting for the resident's rating or the office's call-back; or every one not closed."""
    if show == "overdue":
        return ResidentRequest.overdue_at.is_not(None) & ResidentRequest.status.in_(
            [s for s in RequestStatus if s.is_open])
    if show == "to_sign":
        return ResidentRequest.status.in_([RequestStatus.new, RequestStatus.whistled])
    if show == "callback":
        return ResidentRequest.status == RequestStatus.answered
    return true()


def _queue_scope(user: User, community: Community):
    """The requests waiting for the user as a handler: the office sees every request not closed; a grid worker
    their grids'; a unit's representative their units'."""
    scope = (ResidentRequest.community_id == community.id) & (ResidentRequest.status != RequestStatus.closed)
    office = any(g.community_id == community.id and g.role == Role.community_admin for g in user.role_grants)
    if not office:
        grids = select(GridWorker.grid_id).where(GridWorker.user_id == user.id)
        units = unit_ids_of(user, community)
        scope &= or_(ResidentRequest.grid_id.in_(grids), ResidentRequest.handling_unit_id.in_(units))
    return scope


def queue_for(user: User, community: Community, *, show: str = "all", limit: int = 300) -> list[ResidentRequest]:
    """What waits for the user as a handler (see _queue_scope), narrowed by a filter of QUEUE_FILTERS.
    Escalated and due-first at the top."""
    query = _listing().options(selectinload(ResidentRequest.requester)).where(
        _queue_scope(user, community), _queue_filter(show))
    return list(db.session.scalars(query.order_by(ResidentRequest.overdue_at.is_(None), ResidentRequest.due_at,
                                                  ResidentRequest.id).limit(limit)))


def queue_counts(user: User, community: Community) -> dict[str, int]:
    """How many requests each filter of the user's queue holds; one statement."""
    row = db.session.execute(select(*[
        func.coalesce(func.sum(case((_queue_filter(show), 1), else_=0)), 0).label(show) for show in QUEUE_FILTERS
    ]).where(_queue_scope(user, community))).one()
    return dict(zip(QUEUE_FILTERS, row, strict=True))


@dataclass
class MyGrid:
    grid: Grid
    workers: list[GridWorker]


def grid_of_resident(user: User, community: Community) -> MyGrid | None:
    """The micro-grid of the user's verified home in the community, with its workers."""
    grid = db.session.scalar(
        select(Grid).join(GridBuilding, GridBuilding.grid_id == Grid.id)
        .join(Residency, Residency.building_id == GridBuilding.building_id)
        .where(Residency.user_id == user.id, Residency.community_id == community.id,
               Residency.status == ResidencyStatus.verified).limit(1))
    if grid is None:
        return None
    return MyGrid(grid, list(grid.workers))


def grid_tree(community: Community) -> list[Grid]:
    """Every grid with its buildings, workers and Party group loaded (the page walks `children`)."""
    return list(db.session.scalars(
        select(Grid).options(selectinload(Grid.buildings), selectinload(Grid.workers),
                             selectinload(Grid.party_members), selectinload(Grid.children))
        .where(Grid.community_id == community.id).order_by(Grid.name)))


def roots(grids: list[Grid]) -> list[Grid]:
    """Top of the tree: the community grid, then any grid whose parent is missing."""
    return sorted((g for g in grids if g.parent_id is None), key=lambda g: (g.level != GridLevel.community, g.name))


def party_branch_users(community: Community) -> list[User]:
    return list(db.session.scalars(select(User).join(RoleGrant, RoleGrant.user_id == User.id).where(
        RoleGrant.community_id == community.id, RoleGrant.role == Role.party_branch).order_by(User.display_name)))


def pending_for(user: User) -> list[ResidentRequest]:
    """Requests waiting for the user, in one statement: to sign or answer as the grid's worker, to sign or
    answer for a unit they represent, escalated to their office, or answered and waiting for their rating."""
    from deliberation.grids.models import RequestStatus as S

    orgs = [g.organisation_id for g in user.role_grants if g.role == Role.org_rep and g.organisation_id]
    offices = [g.community_id for g in user.role_grants if g.role == Role.community_admin]
    units = select(HandlingUnit.id).where(or_(
        HandlingUnit.id.in_(select(UnitRepresentative.unit_id).where(UnitRepresentative.user_id == user.id)),
        HandlingUnit.organisation_id.in_(orgs)))
    grids = select(GridWorker.grid_id).where(GridWorker.user_id == user.id)
    return list(db.session.scalars(
        select(ResidentRequest).options(joinedload(ResidentRequest.community))
        .where(or_(
            ResidentRequest.status.in_([S.new, S.signed]) & ResidentRequest.grid_id.in_(grids),
            ResidentRequest.status.in_([S.whistled, S.unit_signed]) & ResidentRequest.handling_unit_id.in_(units),
            ResidentRequest.status.in_([s for s in S if s.is_open]) & ResidentRequest.escalated_at.is_not(None)
            & ResidentRequest.community_id.in_(offices),
            (ResidentRequest.status == S.answered) & (ResidentRequest.requester_id == user.id)))
        .order_by(ResidentRequest.due_at, ResidentRequest.id).limit(200)))
