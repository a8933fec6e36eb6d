"""Method of Equal Shares (approval ballots, cost utilities) completed by the add-one method.

Semantics are those of pabutools 1.2.3
`method_of_equal_shares(instance, profile, sat_class=Cost_Sat, voter_budget_increment=1)`:

* Each of the n voters (voters with an empty ballot included) starts with budget / n, exactly.
* In every round, for each project c still in play, find the smallest price p such that the
  supporters, each paying min(money left, p), cover cost(c). With cost utilities, pabutools'
  "affordability" rho is p / cost(c), so the project with the smallest rho is funded; ties go to
  the lexicographically smallest project id (pabutools' default `lexico_tie_breaking` compares
  project names, which are the ids, as strings). A project whose supporters together have less
  money than its cost can never be funded later in the run and is dropped.
* Projects nobody approved are never funded; approved zero-cost projects are funded up front.
* Completion (add-one): if some approved, unfunded project still fits the real remaining budget,
  rerun with every voter's starting budget raised by one currency unit; stop at the first run
  that is exhaustive (keep it) or that costs more than the budget (keep the previous run).
  There is no greedy top-up afterwards.

Speed. Voters with identical ballots are merged into weighted groups, and voters holding the
same amount of money are merged into "levels", so one round costs O(projects x levels). Money is
kept as exact integers over one common denominator per run (the voter count, multiplied by each
funded project's price denominator), which is much faster than Fraction and just as exact.

The add-one loop can need hundreds of runs, so every money amount is also kept as an affine
function of the increment t (its value at the run's t0 plus its slope in t). Each comparison
that steers a run is then the sign of an affine function of t: which supporters of the funded
project pay in full, which projects are dropped as unaffordable, and that every other project's
price stays above the level at which it would beat (or tie with) the funded one. The run
reports the first integer t at which any of those signs could change; until then it would make
the same choices, so its winners are the same and the runs in between are skipped. The kept
run's steps are always recomputed at its own t. `skip_ahead=False` runs every increment like
pabutools; the tests check that both agree, and agree with pabutools itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import NamedTuple

from .explain import (
    COMPLETION_INCREMENT,
    FUNDED,
    NO_SUPPORTERS,
    NOT_AFFORDABLE,
    STOP_EXHAUSTIVE,
    STOP_NEXT_OVER_BUDGET,
    STOP_NOT_NEEDED,
    Outcome,
    Step,
)
from .model import Project, normalise_inputs

RULE_NAME = "equal_shares"
_ZERO = Fraction(0)


class _Horizon:
    """Earliest increment at which a comparison made during a run could come out differently."""

    __slots__ = ("t0", "limit", "active")

    def __init__(self, t0: int, active: bool) -> None:
        self.t0 = t0
        self.active = active
        self.limit: int | None = None  # None: no recorded comparison ever changes

    def wants(self) -> bool:
        """Whether recording more comparisons could still lower the limit."""
        return self.active and self.limit != self.t0 + 1

    def note(self, value: int, slope: int) -> None:
        """Require the sign of value + slope * (t - t0) to stay what it is at t0 (exact ints)."""
        if not self.active or slope == 0:
            return  # constant: its sign (or exact equality) holds for every t
        if value == 0:
            candidate = self.t0 + 1  # equal only at t0
        elif (value > 0) == (slope > 0):
            return  # moving away from zero as t grows
        else:
            # The sign survives for every integer t below the root t0 - value / slope;
            # -(value // slope) is that ratio rounded up, in exact integer arithmetic.
            candidate = self.t0 - (value // slope)
        if self.limit is None or candidate < self.limit:
            self.limit = candidate


@dataclass
class _Prepared:
    """The election in index form, with identical ballots merged into weighted groups."""

    ids: list[str]
    costs: list[int]
    approvals: list[int]
    n_voters: int
    group_projects: list[tuple[int, ...]]
    group_weight: list[int]
    supporters: list[list[int]]
    candidates: list[int]
    free: list[int]


def _prepare(projects: Sequence[Project], ballots: list[frozenset[str]]) -> _Prepared:
    """Index projects, group identical non-empty ballots and classify projects."""
    ids = [p.id for p in projects]
    position = {pid: i for i, pid in enumerate(ids)}
    grouped = Counter(b for b in ballots if b)
    group_projects: list[tuple[int, ...]] = []
    group_weight: list[int] = []
    supporters: list[list[int]] = [[] for _ in ids]
    approvals = [0] * len(ids)
    for g, (ballot, weight) in enumerate(grouped.items()):
        members = tuple(sorted(position[pid] for pid in ballot))
        group_projects.append(members)
        group_weight.append(weight)
        for j in members:
            supporters[j].append(g)
            approvals[j] += weight
    costs = [p.cost for p in projects]
    candidates = [j for j in range(len(ids)) if approvals[j] > 0 and costs[j] > 0]
    free = [j for j in range(len(ids)) if approvals[j] > 0 and costs[j] == 0]
    return _Prepared(ids, costs, approvals, len(ballots), group_projects, group_weight,
                     supporters, candidates, free)


# Money inside a run: a pair (value at the run's t0, slope in t), both ints scaled by the run's
# common denominator `scale`, so that all comparisons are exact integer comparisons.
Money = tuple[int, int]


class _Price(NamedTuple):
    """A project's price p = num / (den * scale), its slope in t, and its supporters' levels."""

    num: int
    slope_num: int
    den: int
    money: int
    """The supporters' money (scaled)."""
    items: list[tuple[int, int, int]]
    """(money, slope, voters) of each supporter level holding money, poorest first (scaled)."""


def _rho_cmp(a: _Price, cost_a: int, b: _Price, cost_b: int) -> int:
    """Sign of rho_a - rho_b, where rho = price / cost = num / (den * cost * scale)."""
    left, right = a.num * b.den * cost_b, b.num * a.den * cost_a
    return (left > right) - (left < right)


@dataclass
class _Run:
    """One MES run at increment t; the money fields are Fractions, for the steps."""

    t: int
    voter_budget: Fraction
    winners: list[int] = field(default_factory=list)
    total_cost: int = 0
    funded_steps: list[Step] = field(default_factory=list)
    group_money: list[Fraction] = field(default_factory=list)


class _State:
    """Money of every voter group during one run, grouped into levels of equal (affine) money."""

    def __init__(self, prep: _Prepared, budget: int, t: int) -> None:
        self.prep = prep
        # Each voter starts with budget / n + t, i.e. (budget + t * n) / n: scale n makes it whole.
        self.scale = prep.n_voters
        # Level 0 is "no money left" for every t; all groups start on level 1.
        self.levels: list[Money] = [(0, 0), (budget + t * prep.n_voters, prep.n_voters)]
        self.level_index: dict[Money, int] = {self.levels[0]: 0, self.levels[1]: 1}
        self.level_of = [1] * len(prep.group_weight)
        # hist[j]: level -> number of supporters of j on it; None once j is out of play.
        self.hist: list[dict[int, int] | None] = [None] * len(prep.ids)
        for j in prep.candidates:
            self.hist[j] = {1: prep.approvals[j]}

    def level(self, money: Money) -> int:
        """Index of the level with exactly this affine money, created if new."""
        if money == (0, 0):
            return 0
        found = self.level_index.get(money)
        if found is None:
            found = len(self.levels)
            self.levels.append(money)
            self.level_index[money] = found
        return found

    def price(self, j: int, horizon: _Horizon) -> _Price | None:
        """Smallest p with sum(min(money, p)) == cost over j's supporters; None if unaffordable."""
        cost = self.prep.costs[j] * self.scale
        levels = self.levels
        items = [(*levels[lvl], w) for lvl, w in self.hist[j].items() if lvl]  # type: ignore[union-attr]
        money = sum(value * w for value, _s, w in items)
        if money < cost:
            # Dropping is final, so it must stay true. (An affordable project that is not picked
            # needs no such guarantee: losing affordability later only drops it earlier.)
            horizon.note(money - cost, sum(slope * w for _v, slope, w in items))
            return None
        items.sort()
        paid = paid_slope = 0
        rest = sum(w for _v, _s, w in items)
        # Poorest first, like pabutools: a level pays in full unless it has less than the price.
        for value, slope, w in items:
            if cost - paid <= value * rest:
                break
            paid += w * value
            paid_slope += w * slope
            rest -= w
        return _Price(cost - paid, -paid_slope, rest, money, items)

    def fund(self, j: int, price: _Price) -> tuple[int, int]:
        """Charge j's supporters min(money, price); returns (payers, capped payers)."""
        payers = capped = 0
        for value, _slope, w in price.items:
            if value > 0:
                payers += w
                if value * price.den < price.num:
                    capped += w
        self.hist[j] = None
        self._rescale(price.den)
        moves: dict[int, int] = {}
        prep = self.prep
        for g in prep.supporters[j]:
            old = self.level_of[g]
            if old == 0:
                continue
            new = moves.get(old)
            if new is None:
                new = moves[old] = self._after_paying(old, price)
            self.level_of[g] = new
            w = prep.group_weight[g]
            for k in prep.group_projects[g]:
                other = self.hist[k]
                if other is None:
                    continue
                left = other[old] - w
                if left:
                    other[old] = left
                else:
                    del other[old]
                other[new] = other.get(new, 0) + w
        return payers, capped

    def _rescale(self, factor: int) -> None:
        """Multiply the common denominator (and every level) by factor, so the price is whole."""
        if factor == 1:
            return
        self.scale *= factor
        self.levels = [(value * factor, slope * factor) for value, slope in self.levels]
        self.level_index = {money: i for i, money in enumerate(self.levels) if i}

    def _after_paying(self, lvl: int, price: _Price) -> int:
        """Level a supporter on `lvl` moves to after paying min(money, price) (already rescaled)."""
        value, slope = self.levels[lvl]
        if value < price.num:
            return 0  # pays everything it has
        return self.level((value - price.num, slope - price.slope_num))

    def drop(self, j: int) -> None:
        """Take j out of play (funded or unaffordable): its supporter counts no longer matter."""
        self.hist[j] = None

    def money_of_groups(self) -> list[Fraction]:
        """Money each voter group has left, as exact Fractions."""
        return [Fraction(self.levels[lvl][0], self.scale) for lvl in self.level_of]


def _note_same_price(horizon: _Horizon, price: _Price) -> None:
    """Require every supporter level to stay on its side of the price (so p keeps its formula)."""
    if not horizon.wants():
        return
    horizon.note(price.num, price.slope_num)
    for value, slope, _w in price.items:
        horizon.note(value * price.den - price.num, slope * price.den - price.slope_num)


def _note_price_above(horizon: _Horizon, price: _Price, cost: int, scale: int,
                      best: _Price, best_cost: int) -> None:
    """Require this project's price to stay above q = rho_best * cost (it was above at t0).

    Its price exceeds q exactly when sum(w * min(money, q)) < cost. Replacing each min by the
    term that is smaller at t0 gives an affine upper bound of that sum for every t, equal to it
    at t0; keeping the bound below cost keeps the price above q without fixing the price's own
    formula, which would end the interval far more often. Everything is multiplied by
    best.den * best_cost (> 0) so that q is whole.
    """
    if not horizon.wants():
        return
    k = best.den * best_cost
    q_value, q_slope = best.num * cost, best.slope_num * cost  # q * k (scaled)
    bound_value = bound_slope = above = 0
    for value, slope, w in price.items:
        if value * k <= q_value:
            bound_value += w * value
            bound_slope += w * slope
        else:
            above += w
    horizon.note(bound_value * k + above * q_value - cost * scale * k,
                 bound_slope * k + above * q_slope)


def _pick(prep: _Prepared, priced: list[tuple[int, _Price]], scale: int,
          horizon: _Horizon) -> tuple[int, _Price]:
    """Project with the smallest rho, ties to the smallest id as a string; records the margins."""
    costs, ids = prep.costs, prep.ids
    best_j, best = priced[0]
    for j, price in priced[1:]:
        sign = _rho_cmp(price, costs[j], best, costs[best_j])
        if sign < 0 or (sign == 0 and ids[j] < ids[best_j]):
            best_j, best = j, price
    _note_same_price(horizon, best)
    for j, price in priced:
        if j == best_j or not horizon.wants():
            continue
        if _rho_cmp(price, costs[j], best, costs[best_j]) == 0:
            # Tied at t0: the tie (and so the id order) must persist, which needs both formulas.
            _note_same_price(horizon, price)
            a, b = best.den * costs[best_j], price.den * costs[j]
            horizon.note(price.num * a - best.num * b, price.slope_num * a - best.slope_num * b)
        else:
            _note_price_above(horizon, price, costs[j], scale, best, costs[best_j])
    return best_j, best


def _run(prep: _Prepared, budget: int, t: int, horizon: _Horizon) -> _Run:
    """One run of MES with every voter starting at budget / n + t."""
    voter_budget = Fraction(budget, prep.n_voters) + t
    run = _Run(t=t, voter_budget=voter_budget)
    state = _State(prep, budget, t)
    for j in prep.free:
        run.winners.append(j)
        run.funded_steps.append(_funded_step(prep, j, budget, 0, _ZERO, _ZERO, (0, 0),
                                             prep.approvals[j] * voter_budget))
    in_play = list(prep.candidates)
    while in_play:
        priced: list[tuple[int, _Price]] = []
        for j in in_play:
            price = state.price(j, horizon)
            if price is None:
                state.drop(j)  # money only shrinks within a run, so it stays unaffordable
            else:
                priced.append((j, price))
        if not priced:
            break
        best_j, best = _pick(prep, priced, state.scale, horizon)
        scale = state.scale  # the scale the price is expressed in, before fund() rescales
        payers = state.fund(best_j, best)
        cost = prep.costs[best_j]
        run.funded_steps.append(_funded_step(
            prep, best_j, budget, run.total_cost, Fraction(best.num, best.den * scale * cost),
            Fraction(best.num, best.den * scale), payers, Fraction(best.money, scale)))
        run.winners.append(best_j)
        run.total_cost += cost
        in_play = [j for j, _price in priced if j != best_j]
    run.group_money = state.money_of_groups()
    return run


def _funded_step(prep: _Prepared, j: int, budget: int, spent: int, rho: Fraction,
                 price: Fraction, payers: tuple[int, int], money: Fraction) -> Step:
    """Step record for funding project j after `spent` of the budget was used."""
    cost = prep.costs[j]
    return Step(
        kind=FUNDED,
        project_id=prep.ids[j],
        approvals=prep.approvals[j],
        cost=cost,
        remaining_before=budget - spent,
        remaining_after=budget - spent - cost,
        rho=rho,
        price=price,
        payers=payers[0],
        capped_payers=payers[1],
        supporters_money=money,
    )


def _is_exhaustive(prep: _Prepared, budget: int, run: _Run) -> bool:
    """No approved, unfunded project fits the real budget left (pabutools' is_exhaustive)."""
    left = budget - run.total_cost
    funded = set(run.winners)
    return not any(prep.costs[j] <= left for j in prep.candidates if j not in funded)


def _closing_steps(prep: _Prepared, budget: int, run: _Run) -> list[Step]:
    """Why each unfunded project lost: no supporters, or supporters' money below its cost."""
    funded = set(run.winners)
    left = budget - run.total_cost
    steps: list[Step] = []
    for j, pid in enumerate(prep.ids):
        if j in funded:
            continue
        if prep.approvals[j] == 0:
            steps.append(Step(kind=NO_SUPPORTERS, project_id=pid, cost=prep.costs[j],
                              remaining_before=left, remaining_after=left))
            continue
        money = sum((prep.group_weight[g] * run.group_money[g] for g in prep.supporters[j]),
                    _ZERO)
        steps.append(Step(kind=NOT_AFFORDABLE, project_id=pid, approvals=prep.approvals[j],
                          cost=prep.costs[j], remaining_before=left, remaining_after=left,
                          supporters_money=money))
    return steps


def _outcome(prep: _Prepared, budget: int, run: _Run, runs: int, stop: str,
             rejected_cost: int | None) -> Outcome:
    """Assemble the public Outcome of the kept run."""
    steps: list[Step] = []
    if runs > 1:
        steps.append(Step(
            kind=COMPLETION_INCREMENT,
            remaining_before=budget - run.total_cost,
            remaining_after=budget - run.total_cost,
            initial_voter_budget=Fraction(budget, prep.n_voters),
            voter_budget=run.voter_budget,
            increments=run.t,
            runs=runs,
            stop_reason=stop,
            rejected_cost=rejected_cost,
        ))
    steps.extend(run.funded_steps)
    steps.extend(_closing_steps(prep, budget, run))
    return Outcome(rule=RULE_NAME, budget=budget, winners=[prep.ids[j] for j in run.winners],
                   total_cost=run.total_cost, steps=steps, voter_budget=run.voter_budget,
                   increments=run.t, runs=runs)


def _no_voters(prep: _Prepared, budget: int) -> Outcome:
    """With no ballots nothing is funded (as in pabutools, which returns an empty allocation)."""
    steps = [Step(kind=NO_SUPPORTERS, project_id=pid, cost=cost, remaining_before=budget,
                  remaining_after=budget) for pid, cost in zip(prep.ids, prep.costs, strict=True)]
    return Outcome(rule=RULE_NAME, budget=budget, winners=[], total_cost=0, steps=steps)


def equal_shares(budget: int, projects: Sequence[Project], ballots: Iterable[Collection[str]],
                 *, skip_ahead: bool = True) -> Outcome:
    """Method of Equal Shares with cost utilities, completed by add-one (see module docstring)."""
    prep = _prepare(projects, normalise_inputs(budget, projects, ballots))
    if prep.n_voters == 0:
        return _no_voters(prep, budget)
    t, runs = 0, 0
    previous: _Run | None = None
    previous_last_t = 0  # last increment known to give the same outcome as `previous`
    while True:
        horizon = _Horizon(t, active=skip_ahead)
        run = _run(prep, budget, t, horizon)
        runs += 1
        if run.total_cost > budget:
            if previous is None:
                # Cannot happen: at t = 0 voters hold exactly the budget and pay costs exactly.
                raise RuntimeError("equal shares overspent on its first run")
            kept = previous
            if previous_last_t != previous.t:
                kept = _rerun_same(prep, budget, previous, previous_last_t)
            return _outcome(prep, budget, kept, runs, STOP_NEXT_OVER_BUDGET, run.total_cost)
        if _is_exhaustive(prep, budget, run):
            return _outcome(prep, budget, run, runs,
                            STOP_NOT_NEEDED if runs == 1 else STOP_EXHAUSTIVE, None)
        previous = run
        # Without a recorded comparison that could flip, fall back to pabutools' +1 stepping.
        t = horizon.limit if horizon.limit is not None else t + 1
        previous_last_t = t - 1


def _rerun_same(prep: _Prepared, budget: int, run: _Run, t: int) -> _Run:
    """Recompute the kept outcome at increment t so its steps show that run's exact numbers."""
    again = _run(prep, budget, t, _Horizon(t, active=False))
    if again.winners != run.winners:
        # The skip-ahead guarantee was violated; refuse to return a possibly wrong result.
        raise RuntimeError(f"equal shares skip-ahead inconsistency at increment {t}")
    return again
