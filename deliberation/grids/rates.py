"""The three rates (三率) of 接诉即办, per handling unit, per grid and per month, in exact arithmetic.

Definitions (printed on the ranking page, `templates/grids/_rate_definitions.html`; months are
Asia/Shanghai calendar months):

- 响应率 response rate of month M = requests answered by their deadline ÷ requests whose deadline
  (`due_at`) falls in M and is known to be met or missed: answered, or the deadline already passed.
  A request not yet answered whose deadline is still ahead counts nowhere yet.
- 解决率 resolution rate of month M = requests the resident (or the office's call-back) marked
  resolved ÷ requests closed (`closed_at`) in M, rated or not.
- 满意率 satisfaction rate of month M = requests rated 4 or 5 ÷ the same requests closed in M.
  A request closed unrated after 7 days is in both denominators and never resolved nor satisfied.
- Composite score (综合得分), which orders the ranking: response 10 %, resolution 45 %,
  satisfaction 45 %. Only units (or grids) with both denominators above zero in the month are ranked.

A request counts for the handling unit it was last whistled to (none: the grid only) and always for
its first-responsible grid. The counts come from the monthly roll-up (`grids/rollup.py`, kept exact by every
step) plus a live count of the missed deadlines not yet answered: a fixed number of statements whatever the rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from functools import cached_property

from sqlalchemy import and_, case, func, literal, select

from deliberation.communities.models import Community
from deliberation.core.models import utcnow
from deliberation.evaluations.models import BEIJING_OFFSET
from deliberation.extensions import db
from deliberation.grids.models import Grid, GridLevel, HandlingUnit, RateMonth, ResidentRequest

WEIGHTS = (Fraction(1, 10), Fraction(45, 100), Fraction(45, 100))  # response, resolution, satisfaction
TREND_MONTHS = 12


# --- months -------------------------------------------------------------------------------------

def month_of(moment: datetime) -> str:
    """The Asia/Shanghai month ("YYYY-MM") of a naive UTC time."""
    return (moment + BEIJING_OFFSET).strftime("%Y-%m")


def valid_month(value: str | None) -> bool:
    if not value or len(value) != 7 or value[4] != "-" or not (value[:4] + value[5:]).isdigit():
        return False
    return 2000 <= int(value[:4]) <= 2999 and 1 <= int(value[5:]) <= 12


def month_start(month: str) -> datetime:
    """The naive UTC time at which the Asia/Shanghai month begins."""
    return datetime(int(month[:4]), int(month[5:]), 1) - BEIJING_OFFSET


def shift(month: str, delta: int) -> str:
    index = int(month[:4]) * 12 + int(month[5:]) - 1 + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_ending(month: str, count: int) -> list[str]:
    """`count` months, oldest first, the last being `month`."""
    return [shift(month, delta) for delta in range(1 - count, 1)]


# --- the rates ----------------------------------------------------------------------------------

def _ratio(numerator: int, denominator: int) -> Fraction | None:
    return Fraction(numerator, denominator) if denominator else None


@dataclass(frozen=True)
class Rates:
    """Counts behind the three rates; the rates are exact fractions (None: nothing to count)."""

    due: int = 0        # deadlines in the month, met or missed
    in_time: int = 0    # … of which answered by the deadline
    closed: int = 0     # closed in the month, rated or not
    resolved: int = 0   # … of which resolved
    satisfied: int = 0  # … of which rated 4 or 5

    def __add__(self, other: Rates) -> Rates:
        return Rates(self.due + other.due, self.in_time + other.in_time, self.closed + other.closed,
                     self.resolved + other.resolved, self.satisfied + other.satisfied)

    @property
    def response(self) -> Fraction | None:
        return _ratio(self.in_time, self.due)

    @property
    def resolution(self) -> Fraction | None:
        return _ratio(self.resolved, self.closed)

    @property
    def satisfaction(self) -> Fraction | None:
        return _ratio(self.satisfied, self.closed)

    @cached_property  # sorted on and printed: computed once (the dataclass is frozen, the counts never change)
    def score(self) -> Fraction | None:
        """The composite: 10 % response + 45 % resolution + 45 % satisfaction; None unless all three exist."""
        rates = (self.response, self.resolution, self.satisfaction)
        if any(rate is None for rate in rates):
            return None
        return sum((w * r for w, r in zip(WEIGHTS, rates, strict=True)), Fraction(0))

    @property
    def empty(self) -> bool:
        return not self.due and not self.closed


def _bucket(column, months: Sequence[str]):
    """SQL CASE giving the month label of a UTC time column already limited to the months' window
    (portable: no date functions; one comparison per month, the first that holds wins)."""
    whens = [(column < month_start(shift(m, 1)), literal(m)) for m in months]
    return case(*whens, else_=None)


def _window(column, months: Sequence[str]):
    return and_(column >= month_start(months[0]), column < month_start(shift(months[-1], 1)))


def tally(community: Community, months: Sequence[str], *, now: datetime | None = None,
          unit: HandlingUnit | None = None, grid: Grid | None = None
          ) -> tuple[dict[tuple[int, str], Rates], dict[tuple[int, str], Rates]]:
    """((unit id, month) → Rates, (grid id, month) → Rates) over `months`, for every unit and grid of the
    community (or only `unit`, or only `grid`). Two statements whatever the rows: the monthly roll-up
    (`grids/rollup.py`: answered and closed requests, kept up to date by every step) and, live, the
    requests not yet answered whose deadline in the months has passed by `now` (missed deadlines)."""
    now = now or utcnow()
    by_unit: dict[tuple[int, str], Rates] = defaultdict(Rates)
    by_grid: dict[tuple[int, str], Rates] = defaultdict(Rates)
    m = RateMonth
    stored = select(m.unit_id, m.grid_id, m.month, m.due, m.in_time, m.closed, m.resolved, m.satisfied).where(
        m.community_id == community.id, m.month >= months[0], m.month <= months[-1])
    r = ResidentRequest
    late_month = _bucket(r.due_at, months).label("month")
    late = (select(r.handling_unit_id, r.grid_id, late_month, func.count())
            .where(r.community_id == community.id, r.answered_at.is_(None), _window(r.due_at, months),
                   r.due_at <= now)
            .group_by(r.handling_unit_id, r.grid_id, late_month))
    if unit is not None:
        stored, late = stored.where(m.unit_id == unit.id), late.where(r.handling_unit_id == unit.id)
    if grid is not None:
        stored, late = stored.where(m.grid_id == grid.id), late.where(r.grid_id == grid.id)
    for unit_id, grid_id, month, *counts in db.session.execute(stored):
        if unit_id is not None:
            by_unit[(unit_id, month)] += Rates(*counts)
        else:
            by_grid[(grid_id, month)] += Rates(*counts)
    for unit_id, grid_id, month, count in db.session.execute(late):
        by_grid[(grid_id, month)] += Rates(due=count)
        if unit_id is not None:
            by_unit[(unit_id, month)] += Rates(due=count)
    return dict(by_unit), dict(by_grid)


# --- the ranking --------------------------------------------------------------------------------

@dataclass
class Row:
    """One unit or grid in the ranking: this month's rates, the trend, and its place (None: unranked)."""

    subject: HandlingUnit | Grid
    rates: Rates
    trend: list[tuple[str, Rates]]
    rank: int | None = None


@dataclass
class Ranking:
    month: str
    months: list[str]
    units: list[Row] = field(default_factory=list)
    grids: list[Row] = field(default_factory=list)
    community: list[tuple[str, Rates]] = field(default_factory=list)  # the whole community, month by month

    @property
    def total(self) -> Rates:
        return self.community[-1][1] if self.community else Rates()


def _rank(rows: list[Row]) -> list[Row]:
    """Best composite first (ties share a place), more requests first among ties; unranked last by name."""
    ranked = sorted((r for r in rows if r.rates.score is not None),
                    key=lambda r: (-r.rates.score, -(r.rates.due + r.rates.closed), r.subject.name))
    place, previous = 0, None
    for index, row in enumerate(ranked, start=1):
        if row.rates.score != previous:
            place, previous = index, row.rates.score
        row.rank = place
    rest = sorted((r for r in rows if r.rates.score is None), key=lambda r: r.subject.name)
    return ranked + rest


def _rows(subjects: Iterable, counts: dict, months: list[str]) -> list[Row]:
    rows = []
    for subject in subjects:
        trend = [(m, counts.get((subject.id, m), Rates())) for m in months]
        rows.append(Row(subject, trend[-1][1], trend))
    return _rank(rows)


def ranking(community: Community, month: str, *, trend_months: int = TREND_MONTHS,
            now: datetime | None = None) -> Ranking:
    """The month's ranking of units and grids with their trend over `trend_months` months.
    Four statements whatever the number of requests, units or grids."""
    months = months_ending(month, trend_months)
    units = db.session.scalars(select(HandlingUnit).where(HandlingUnit.community_id == community.id)
                               .order_by(HandlingUnit.name)).all()
    grids = db.session.scalars(select(Grid).where(Grid.community_id == community.id,
                                                  Grid.level.in_((GridLevel.micro, GridLevel.special)))
                               .order_by(Grid.name)).all()
    by_unit, by_grid = tally(community, months, now=now)
    # A unit no longer active still shows while it has requests to account for.
    units = [u for u in units if u.active or any(key[0] == u.id for key in by_unit)]
    totals: dict[str, Rates] = defaultdict(Rates)
    for (_grid, m), rates in by_grid.items():
        totals[m] += rates
    return Ranking(month, months, _rows(units, by_unit, months), _rows(grids, by_grid, months),
                   [(m, totals.get(m, Rates())) for m in months])


def unit_trend(unit: HandlingUnit, month: str, *, trend_months: int = TREND_MONTHS,
               now: datetime | None = None) -> list[tuple[str, Rates]]:
    """One unit's rates month by month (two statements), e.g. for its organisation's page."""
    months = months_ending(month, trend_months)
    counts, _by_grid = tally(unit.community, months, now=now, unit=unit)
    return [(m, counts.get((unit.id, m), Rates())) for m in months]


def grid_trend(grid: Grid, month: str, *, trend_months: int = TREND_MONTHS,
               now: datetime | None = None) -> list[tuple[str, Rates]]:
    """One grid's rates month by month (two statements)."""
    months = months_ending(month, trend_months)
    _by_unit, counts = tally(grid.community, months, now=now, grid=grid)
    return [(m, counts.get((grid.id, m), Rates())) for m in months]


def total(trend: Iterable[tuple[str, Rates]]) -> Rates:
    return sum((rates for _month, rates in trend), Rates())


def percent(rate: Fraction | None) -> str:
    """A rate for people: a percentage with one decimal, rounded half up ("—" when nothing to count)."""
    if rate is None:
        return "—"
    tenths = rate * 1000
    rounded = int(tenths) + (1 if tenths - int(tenths) >= Fraction(1, 2) else 0)
    return f"{rounded // 10}.{rounded % 10}%"


def current_month(now: datetime | None = None) -> str:
    return month_of(now or utcnow())


@dataclass
class OrganisationRates:
    """A property firm's or owner committee's rates as a handling unit, for its page and its evaluators."""

    unit: HandlingUnit
    trend: list[tuple[str, Rates]]

    @property
    def overall(self) -> Rates:
        return total(self.trend)

    @property
    def months(self) -> str:
        return f"{self.trend[0][0]} – {self.trend[-1][0]}"


def organisation_rates(organisation_id: int, *, last_month: str | None = None, months: int = TREND_MONTHS,
                       now: datetime | None = None) -> OrganisationRates | None:
    """The rates of the organisation's handling unit over `months` months up to `last_month` (this month
    by default); None when the organisation is not a handling unit. Three statements."""
    unit = db.session.scalar(select(HandlingUnit).where(HandlingUnit.organisation_id == organisation_id))
    if unit is None:
        return None
    return OrganisationRates(unit, unit_trend(unit, last_month or current_month(now), trend_months=months, now=now))


def quarter_months(period: str) -> tuple[str, int] | None:
    """An evaluation period "2026-Q3" as (its last month, 3); None when it is not a quarter."""
    if len(period) != 7 or period[4:6] != "-Q" or not period[:4].isdigit() or period[6] not in "1234":
        return None
    return f"{period[:4]}-{int(period[6]) * 3:02d}", 3
