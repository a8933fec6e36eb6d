"""The monthly roll-up of the three rates (`request_rate_months`), kept exact in the same transaction as
every step that changes a rate's numerator or denominator.

A request contributes to the roll-up, for its first-responsible grid and (when it has one) its handling
unit:
- once answered: 1 to `due` of the Asia/Shanghai month of its deadline, and 1 to `in_time` when it was
  answered by the deadline;
- once closed (rated, called back, or closed unrated by the tick): 1 to `closed` of the month it closed,
  1 to `resolved` when marked resolved, 1 to `satisfied` when rated 4 or 5.
A request not yet answered whose deadline has passed counts as missed: that part depends on the clock,
so `rates.tally` counts it live from the requests (few rows, on an index), never here.

Every step that may change a contribution runs inside `tracked(req)`: the contribution before and after
is compared and only the difference is added, with an atomic INSERT … ON CONFLICT DO UPDATE (SQLite and
PostgreSQL), so concurrent steps on the same unit and month never lose a count. `rebuild` recounts
everything from the requests (`flask requests rebuild-rates`) in case rows were written around the steps
(bulk imports, hand edits).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from deliberation.communities.models import Community
from deliberation.core import audit
from deliberation.extensions import db
from deliberation.grids.models import RateMonth, ResidentRequest
from deliberation.grids.rates import month_of

COUNTS = ("due", "in_time", "closed", "resolved", "satisfied")

# (("unit" | "grid"), subject id, month) → the five counts
Key = tuple[str, int, str]


def contribution(answered_at, due_at, closed_at, resolved, satisfaction, grid_id, unit_id
                 ) -> dict[Key, tuple[int, int, int, int, int]]:
    """What one request adds to the roll-up, from its columns."""
    parts: list[tuple[str, tuple[int, int, int, int, int]]] = []
    if answered_at is not None:
        parts.append((month_of(due_at), (1, int(answered_at <= due_at), 0, 0, 0)))
    if closed_at is not None:
        parts.append((month_of(closed_at), (0, 0, 1, int(resolved is True),
                                             int(satisfaction is not None and satisfaction >= 4))))
    subjects = [("grid", grid_id)] + ([("unit", unit_id)] if unit_id is not None else [])
    result: dict[Key, list[int]] = defaultdict(lambda: [0] * 5)
    for kind, subject in subjects:
        for month, counts in parts:
            row = result[(kind, subject, month)]
            for i, n in enumerate(counts):
                row[i] += n
    return {key: tuple(row) for key, row in result.items()}


def _of(req: ResidentRequest):
    return contribution(req.answered_at, req.due_at, req.closed_at, req.resolved, req.satisfaction,
                        req.grid_id, req.handling_unit_id)


def _upsert(community_id: int, key: Key, counts) -> None:
    kind, subject, month = key
    values = dict(zip(COUNTS, counts, strict=True))
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(RateMonth).values(community_id=community_id, month=month,
                                         unit_id=subject if kind == "unit" else None,
                                         grid_id=subject if kind == "grid" else None, **values)
    table = RateMonth.__table__.c
    statement = statement.on_conflict_do_update(
        index_elements=["unit_id" if kind == "unit" else "grid_id", "month"],
        set_={name: table[name] + statement.excluded[name] for name in COUNTS})
    db.session.execute(statement)


def apply(community_id: int, before: dict, after: dict) -> None:
    """Add after − before to the roll-up (nothing when the contribution did not change)."""
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key, (0,) * 5), after.get(key, (0,) * 5)
        delta = tuple(n - o for n, o in zip(new, old, strict=True))
        if any(delta):
            _upsert(community_id, key, delta)


@contextmanager
def tracked(req: ResidentRequest) -> Iterator[None]:
    """Run a step on `req` and bring the roll-up in line with what it changed (same transaction).
    The request's unit must be read from `handling_unit_id` after the step, so it is flushed first."""
    before = _of(req)
    yield
    db.session.flush()
    apply(req.community_id, before, _of(req))


def recount(community_id: int) -> dict[Key, tuple[int, int, int, int, int]]:
    """The roll-up as it should be, counted from the community's requests."""
    r = ResidentRequest
    rows = db.session.execute(
        select(r.answered_at, r.due_at, r.closed_at, r.resolved, r.satisfaction, r.grid_id, r.handling_unit_id)
        .where(r.community_id == community_id, r.answered_at.is_not(None)))
    totals: dict[Key, list[int]] = defaultdict(lambda: [0] * 5)
    for row in rows:
        for key, counts in contribution(*row).items():
            total = totals[key]
            for i, n in enumerate(counts):
                total[i] += n
    return {key: tuple(counts) for key, counts in totals.items()}


def stored(community_id: int) -> dict[Key, tuple[int, int, int, int, int]]:
    """The roll-up as stored (rows of zeros left out)."""
    rows = db.session.scalars(select(RateMonth).where(RateMonth.community_id == community_id))
    result = {}
    for row in rows:
        counts = tuple(getattr(row, name) for name in COUNTS)
        if any(counts):
            key = ("unit", row.unit_id, row.month) if row.unit_id is not None else ("grid", row.grid_id, row.month)
            result[key] = counts
    return result


def rebuild(community: Community, *, actor=None) -> int:
    """Replace the community's roll-up with a recount from its requests; the number of rows it differed
    in (0: it was exact). Flushes, never commits."""
    expected, current = recount(community.id), stored(community.id)
    differing = sum(1 for key in set(expected) | set(current) if expected.get(key) != current.get(key))
    db.session.execute(delete(RateMonth).where(RateMonth.community_id == community.id))
    if expected:
        db.session.execute(RateMonth.__table__.insert(), [
            {"community_id": community.id, "month": month, "unit_id": subject if kind == "unit" else None,
             "grid_id": subject if kind == "grid" else None, **dict(zip(COUNTS, counts, strict=True))}
            for (kind, subject, month), counts in sorted(expected.items())])
    audit.record("requests.rates_rebuilt", community, actor=actor, community=community,
                 summary=f"{len(expected)} rows, {differing} corrected")
    return differing
