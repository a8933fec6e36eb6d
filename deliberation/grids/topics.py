"""每月一题: the month's most frequent categories by grid, the office's choice of the month's topic, and
the topic's requests followed to resolution. Reads are a fixed number of statements; `choose` flushes."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from deliberation.auth.models import User
from deliberation.communities.models import Community
from deliberation.core import audit
from deliberation.core.errors import DomainError
from deliberation.core.models import utcnow
from deliberation.core.text import clean_prose
from deliberation.extensions import db
from deliberation.grids import rates as r
from deliberation.grids.models import Grid, MonthlyTopic, RequestCategory, RequestStatus, ResidentRequest

TOP = 3  # categories shown per grid


def _in_month(month: str):
    return (ResidentRequest.created_at >= r.month_start(month),
            ResidentRequest.created_at < r.month_start(r.shift(month, 1)))


@dataclass
class Frequent:
    overall: list[tuple[RequestCategory, int]]                        # most frequent first
    by_grid: list[tuple[Grid, list[tuple[RequestCategory, int]]]]     # grids with requests, busiest first


def frequent_categories(community: Community, month: str) -> Frequent:
    """Requests filed in the month counted by grid and category (two statements)."""
    rows = db.session.execute(
        select(ResidentRequest.grid_id, ResidentRequest.category, func.count())
        .where(ResidentRequest.community_id == community.id, *_in_month(month))
        .group_by(ResidentRequest.grid_id, ResidentRequest.category)).all()
    grids = {g.id: g for g in db.session.scalars(select(Grid).where(Grid.community_id == community.id))}
    overall: Counter = Counter()
    per_grid: dict[int, Counter] = defaultdict(Counter)
    for grid_id, category, count in rows:
        overall[RequestCategory(category)] += count
        per_grid[grid_id][RequestCategory(category)] += count

    def ordered(counter: Counter) -> list[tuple[RequestCategory, int]]:
        return sorted(counter.items(), key=lambda item: (-item[1], item[0].value))

    by_grid = sorted(((grids[gid], ordered(c)[:TOP]) for gid, c in per_grid.items() if gid in grids),
                     key=lambda item: (-sum(n for _c, n in item[1]), item[0].name))
    return Frequent(ordered(overall), by_grid)


def topic_of(community: Community, month: str) -> MonthlyTopic | None:
    return db.session.scalar(select(MonthlyTopic).where(MonthlyTopic.community_id == community.id,
                                                        MonthlyTopic.month == month))


def topics(community: Community) -> list[MonthlyTopic]:
    return list(db.session.scalars(select(MonthlyTopic).options(joinedload(MonthlyTopic.grid))
                                   .where(MonthlyTopic.community_id == community.id)
                                   .order_by(MonthlyTopic.month.desc())))


def choose(community: Community, month: str, *, category: RequestCategory, actor: User, grid: Grid | None = None,
           note: str = "") -> MonthlyTopic:
    """Make `category` (in one grid, or the whole community) the month's topic; choosing again replaces it
    (this month or the next only: a past month's topic stays as it was followed)."""
    if not r.valid_month(month):
        raise DomainError(_l("Choose a month."), field="month", status_code=422)
    this = r.current_month()
    if month not in (this, r.shift(this, 1)):
        raise DomainError(_l("The topic can be chosen for this month or the next only."), field="month",
                          status_code=422)
    if grid is not None and grid.community_id != community.id:
        raise DomainError(_l("Choose a grid of this community."), field="grid", status_code=422)
    note = clean_prose(note)
    if len(note) > 500:
        raise DomainError(_l("At most %(max)d characters.", max=500), field="note", status_code=422)
    topic = topic_of(community, month)
    if topic is None:
        topic = MonthlyTopic(community_id=community.id, month=month)
        db.session.add(topic)
    topic.category, topic.grid_id, topic.note = category, grid.id if grid else None, note
    topic.chosen_by_id, topic.chosen_at = actor.id, utcnow()
    db.session.flush()
    audit.record("requests.topic_chosen", topic, actor=actor, community=community,
                 summary=f"{month} {category.value}" + (f" {grid.name}" if grid else ""))
    return topic


@dataclass
class Progress:
    filed: int
    answered: int
    closed: int
    resolved: int
    open: int


def topic_requests(topic: MonthlyTopic) -> tuple[list[ResidentRequest], Progress]:
    """The requests of the topic's category (and grid) filed in its month, and how far they got."""
    query = (select(ResidentRequest)
             .options(joinedload(ResidentRequest.handling_unit), joinedload(ResidentRequest.building))
             .where(ResidentRequest.community_id == topic.community_id,
                    ResidentRequest.category == topic.category, *_in_month(topic.month))
             .order_by(ResidentRequest.created_at, ResidentRequest.id))
    if topic.grid_id is not None:
        query = query.where(ResidentRequest.grid_id == topic.grid_id)
    requests = list(db.session.scalars(query))
    progress = Progress(filed=len(requests),
                        answered=sum(1 for q in requests if q.answered_at is not None),
                        closed=sum(1 for q in requests if q.status == RequestStatus.closed),
                        resolved=sum(1 for q in requests if q.resolved),
                        open=sum(1 for q in requests if q.status.is_open))
    return requests, progress
