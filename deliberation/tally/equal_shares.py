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
  rerun with every voter's starting budget raised by one currency unit (`unit`); stop at the first run
  that is exhaustive (keep it) or that costs more than the budget (keep the previous run).
  There is no greedy top-up afterwards.

Speed. Voters with identical ballots are merged into weighted groups, and groups holding the
same amount of money share a "level". Money is kept as exact integers over one common
denominator per run (the voter count, multiplied by the reduced denominator of each funded
project's price), which is much faster than Fraction and just as exact; Fractions are only built
for the steps of the run whose outcome is returned. Within a run money only shrinks, so a
project's rho only grows: as in pabutools, a project is not recomputed in a round when a lower
bound of its rho (see _Runs.run) already exceeds the best rho found in that round.

The add-one loop can need hundreds of runs, so every money amount is also kept as an affine
function of the increment t (its value at the run's t0 plus its slope in t). Each comparison
that steers a run is then the sign of an affine function of t: which supporters of the funded
project pay in full, which projects are dropped as unaffordable, and that every other project's
price stays above the level at which it would beat (or tie with) the funded one. A round is
valid up to the first integer t at which a sign recorded in it or in an earlier round could
change; below that t the run makes the same choices up to that round. So the runs in between
are skipped (same winners), and the next run does not start from scratch: it restarts from a
copy of the state at the start of the first round it cannot trust, re-valued at its own t. The
kept run's steps are valued at its own t, and a kept run that was skipped over is recomputed
from scratch as a check. `skip_ahead=False` runs every increment from scratch like pabutools;
the tests check that both agree, and agree with pabutools itself.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import gcd
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

    def __init__(self, t0: int, active: bool, limit: int | None = None) -> None:
        self.t0 = t0
        self.active = active
        self.limit = limit  # None: no recorded comparison ever changes

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
    group_weight: list[int]
    supporters: list[tuple[int, ...]]
    single: list[tuple[int, ...]]
    """The supporter groups of each project that hold one voter (counted with Counter, in C)..."""
    heavy: list[tuple[tuple[int, int], ...]]
    """... and the others, as (group, voters)."""
    candidates: list[int]
    free: list[int]
    unit: int = 1
    """The add-one increment of every voter's budget, in the units of the costs."""


def _prepare(projects: Sequence[Project], ballots: list[frozenset[str]]) -> _Prepared:
    """Index projects, group identical non-empty ballots and classify projects."""
    ids = [p.id for p in projects]
    position = {pid: i for i, pid in enumerate(ids)}
    grouped = Counter(b for b in ballots if b)
    group_weight: list[int] = []
    supporters: list[list[int]] = [[] for _ in ids]
    approvals = [0] * len(ids)
    for g, (ballot, weight) in enumerate(grouped.items()):
        group_weight.append(weight)
        for j in sorted(position[pid] for pid in ballot):
            supporters[j].append(g)
            approvals[j] += weight
    costs = [p.cost for p in projects]
    candidates = [j for j in range(len(ids)) if approvals[j] > 0 and costs[j] > 0]
    free = [j for j in range(len(ids)) if approvals[j] > 0 and costs[j] == 0]
    return _Prepared(
        ids, costs, approvals, len(ballots), group_weight, [tuple(s) for s in supporters],
        [tuple(g for g in s if group_weight[g] == 1) for s in supporters],
        [tuple((g, group_weight[g]) for g in s if group_weight[g] > 1) for s in supporters],
        candidates, free)


# Money inside a run: a pair (value at the run's t0, slope in t), both ints scaled by the run's
# common denominator `scale`, so that all comparisons are exact integer comparisons.
Money = tuple[int, int]
# A project's supporters holding money: (value, slope, voters) per level, all scaled.
Items = list[tuple[int, int, int]]


class _Price(NamedTuple):
    """A project's price p = num / (den * scale), its slope in t, and its supporters' levels."""

    num: int
    slope_num: int
    den: int
    money: int
    """The supporters' money (scaled)."""
    items: Items
    """(money, slope, voters) of each supporter level holding money, poorest first (scaled)."""


def _price(items: Items, money: int, cost: int) -> _Price:
    """Smallest p with sum(w * min(money, p)) == cost (scaled), for supporters who can afford it."""
    items.sort()
    paid = paid_slope = 0
    rest = sum([w for _v, _s, w in items])
    # Poorest first, like pabutools: a level pays in full unless it has less than the price.
    for value, slope, w in items:
        if cost - paid <= value * rest:
            break
        paid += w * value
        paid_slope += w * slope
        rest -= w
    return _Price(cost - paid, -paid_slope, rest, money, items)


def _rho_less(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """a < b, for rho = numerator / denominator (positive denominators)."""
    return a[0] * b[1] < b[0] * a[1]


class _Summary(NamedTuple):
    """A project's supporter levels in some round, poorest first, with prefix sums (scaled).

    Money only shrinks from round to round, so for every t these levels hold at least what the
    same voters hold in any later round: price bounds in later rounds can use them as they are,
    even in a later run restarted from a checkpoint (their values are then those at t0 here).
    """

    t0: int
    scale: int
    values: list[int]
    value_sums: list[int]
    """value_sums[m]: sum of w * value over the m poorest levels (likewise slope and weight)."""
    slope_sums: list[int]
    weight_sums: list[int]


def _summary(items: Items, t0: int, scale: int) -> _Summary:
    """Prefix sums of sorted items."""
    values, value_sums, slope_sums, weight_sums = [], [0], [0], [0]
    total_value = total_slope = total_weight = 0
    for value, slope, w in items:
        values.append(value)
        total_value += w * value
        total_slope += w * slope
        total_weight += w
        value_sums.append(total_value)
        slope_sums.append(total_slope)
        weight_sums.append(total_weight)
    return _Summary(t0, scale, values, value_sums, slope_sums, weight_sums)


class _Funded(NamedTuple):
    """A funded round, its amounts affine in t around t0 (for the steps of the kept run)."""

    project: int
    t0: int
    scale: int
    num: int
    slope_num: int
    den: int
    money: int
    money_slope: int
    payers: int
    capped: int


# Lower bounds of the rho of projects in play: lower[j] = (num, slope, den) means
# rho_j >= (num + slope * (t - t0)) / den in this round and every later one (see _Runs.run).
Lower = dict[int, tuple[int, int, int]]


class _Checkpoint(NamedTuple):
    """The state at the start of a round, valid (same choices so far) for t0 <= t < limit."""

    t0: int
    limit: int | None
    scale: int
    levels: list[Money]
    level_of: list[int]
    in_play: list[int]
    rounds: int
    """Number of projects funded before this round (free projects excluded)."""
    lower: Lower
    summaries: dict[int, _Summary]


@dataclass
class _Run:
    """One MES run at increment t, with what the Outcome needs, still in scaled integers."""

    t: int
    winners: list[int]
    total_cost: int
    funded: list[_Funded]
    scale: int
    levels: list[Money]
    level_of: list[int]


class _State:
    """The money of every voter group during a run, as the index of its level of (affine) money.

    Level 0 is "no money left" for every t. Levels are not merged across rounds: two levels may
    hold the same money, which would only cost a little speed, never exactness.
    """

    __slots__ = ("prep", "scale", "levels", "level_of")

    def __init__(self, prep: _Prepared, scale: int, levels: list[Money], level_of: list[int]) -> None:
        self.prep = prep
        self.scale = scale
        self.levels = levels
        self.level_of = level_of

    @classmethod
    def fresh(cls, prep: _Prepared, budget: int, t: int) -> _State:
        """Everyone holds budget / n + t * unit = (budget + t * unit * n) / n: scale n makes it whole."""
        n, unit = prep.n_voters, prep.unit
        return cls(prep, n, [(0, 0), (budget + t * unit * n, unit * n)], [1] * len(prep.group_weight))

    @classmethod
    def restore(cls, prep: _Prepared, checkpoint: _Checkpoint, t: int) -> _State:
        """The checkpoint's state re-valued at increment t (it takes over the checkpoint's data)."""
        shift = t - checkpoint.t0
        levels = [(value + slope * shift, slope) for value, slope in checkpoint.levels]
        return cls(prep, checkpoint.scale, levels, checkpoint.level_of)

    def items(self, j: int) -> Items:
        """(value, slope, voters) of each level holding money of j's supporters (scaled)."""
        level_of = self.level_of
        voters = Counter(map(level_of.__getitem__, self.prep.single[j]))
        for g, w in self.prep.heavy[j]:
            voters[level_of[g]] += w
        voters.pop(0, None)
        levels = self.levels
        return [(*levels[lvl], w) for lvl, w in voters.items()]

    def fund(self, j: int, price: _Price) -> tuple[int, int]:
        """Charge j's supporters min(money, price); returns (payers, capped payers)."""
        payers = capped = 0
        for value, _slope, w in price.items:
            if value > 0:
                payers += w
                if value * price.den < price.num:
                    capped += w
        # The price in units of scale * factor, with the smallest factor that makes it whole.
        common = gcd(price.den, price.num, price.slope_num)
        factor, p_value, p_slope = price.den // common, price.num // common, price.slope_num // common
        if factor != 1:
            self.scale *= factor
            self.levels = [(value * factor, slope * factor) for value, slope in self.levels]
        levels, level_of = self.levels, self.level_of
        moves: dict[int, int] = {}
        for g in self.prep.supporters[j]:
            old = level_of[g]
            if old:
                new = moves.get(old)
                if new is None:
                    value, slope = levels[old]
                    new = 0  # a level below the price pays everything it has
                    if value >= p_value and (value, slope) != (p_value, p_slope):
                        new = len(levels)
                        levels.append((value - p_value, slope - p_slope))
                    moves[old] = new
                level_of[g] = new
        return payers, capped


def _note_same_price(horizon: _Horizon, price: _Price) -> None:
    """Require every supporter level to stay on its side of the price (so p keeps its formula)."""
    if not horizon.wants():
        return
    note, num, slope_num, den = horizon.note, price.num, price.slope_num, price.den
    note(num, slope_num)
    for value, slope, _w in price.items:
        note(value * den - num, slope * den - slope_num)


def _price_above(t0: int, summary: _Summary, cost: int, best: _Price, scale: int,
                 best_cost: int) -> tuple[int, int] | None:
    """Affine condition (< 0 at t0) keeping a project's price above q = rho_best * cost.

    Its price exceeds q exactly when sum(w * min(money, q)) < cost over its supporters (for
    supporters who cannot afford it, both hold). Replacing each min by one of its two terms gives
    an affine upper bound of that sum, valid for every t; taking the term that is smaller makes
    it exact. Keeping the bound below cost keeps the price above q without fixing the price's own
    formula, which would end the interval far more often. The levels may be from an earlier
    round, at a smaller scale, or from an earlier run, at an older t0 (see _Summary); the best's
    price is in `scale` at t0. Everything is multiplied by
    k = best.den * best_cost * (scale / summary.scale) so that q is whole: a level is counted
    below q when value * k <= q_value, found by bisection. Returns None if the bound is not below
    cost at t0 (possible only with levels from an earlier run).
    """
    k = best.den * best_cost * (scale // summary.scale)
    q_value = best.num * cost
    below = bisect_right(summary.values, q_value // k)
    above = summary.weight_sums[-1] - summary.weight_sums[below]
    slope_sum = summary.slope_sums[below]
    value = ((summary.value_sums[below] + slope_sum * (t0 - summary.t0)) * k
             + above * q_value - cost * summary.scale * k)
    if value >= 0:
        return None
    return value, slope_sum * k + above * best.slope_num * cost


class _Runs:
    """Successive MES runs of one election; each may restart from a round of the previous one."""

    def __init__(self, prep: _Prepared, budget: int, skip_ahead: bool) -> None:
        self.prep = prep
        self.budget = budget
        self.skip_ahead = skip_ahead
        self.checkpoints: list[_Checkpoint] = []
        self.funded: list[_Funded] = []

    def _resume(self, t: int) -> tuple[_State, _Horizon, list[int], list[_Funded], Lower,
                                        dict[int, _Summary]]:
        """The latest round of the previous run still valid at t, to start run t from."""
        prep, checkpoints = self.prep, self.checkpoints
        start = len(checkpoints)
        # The limits only decrease from round to round; the rounds before `start` are valid at t.
        while start and not (checkpoints[start - 1].limit is None
                             or checkpoints[start - 1].limit > t):
            start -= 1
        if start == 0:
            checkpoints.clear()
            return (_State.fresh(prep, self.budget, t), _Horizon(t, self.skip_ahead),
                    list(prep.candidates), [], {}, {})
        cp = checkpoints[start - 1]
        del checkpoints[start - 1:]  # its data is taken over; this run writes its own from here
        shift = t - cp.t0
        lower = {j: (num + slope * shift, slope, den) for j, (num, slope, den) in cp.lower.items()}
        return (_State.restore(prep, cp, t), _Horizon(t, True, cp.limit), cp.in_play,
                self.funded[:cp.rounds], lower, cp.summaries)

    def run(self, t: int) -> tuple[_Run, int | None]:
        """One run of MES with every voter starting at budget / n + t, and its horizon's limit.

        Lower bounds of rho. The price p of a project solves sum(w * min(money, p)) = cost over
        its supporters. For any set C of them, min(money, p) <= money in C and <= p outside C, so
        p >= (cost - money of C) / (voters outside C). The formula found for p in one round is of
        that form: re-valued at any t (where the earlier rounds are valid), it is a lower bound
        of the price at t in that round, and so in every later round, as money only shrinks. So
        projects are tried in the order of their bounds, and one whose bound exceeds the best
        rho found so far is not recomputed (pabutools does the same within a run).
        """
        prep, costs, ids = self.prep, self.prep.costs, self.prep.ids
        state, horizon, in_play, funded, lower, summaries = self._resume(t)
        keep = self.skip_ahead

        def order(j: int) -> float:
            bound = lower.get(j)
            return float("-inf") if bound is None else bound[0] / bound[2]

        while in_play:
            if keep:
                self.checkpoints.append(_Checkpoint(
                    t, horizon.limit, state.scale, state.levels.copy(), state.level_of.copy(),
                    in_play.copy(), len(funded), lower.copy(), summaries.copy()))
            scale = state.scale  # the scale prices are expressed in, before fund() rescales
            wants = horizon.wants()
            in_play.sort(key=order)
            best_j, best, best_rho = -1, None, (0, 1)
            fresh: dict[int, tuple[int, int]] = {}  # rho of the projects recomputed this round
            dropped: list[int] = []
            for j in in_play:
                bound = lower.get(j)
                if (best is not None and bound is not None
                        and bound[0] * best_rho[1] > best_rho[0] * bound[2]):
                    continue  # cannot beat (or tie with) the best
                items = state.items(j)
                money = sum([value * w for value, _s, w in items])
                cost = costs[j] * scale
                if money < cost:
                    # Money only shrinks within a run, so j stays unaffordable: dropping it is
                    # final, so it must stay true.
                    horizon.note(money - cost, sum([slope * w for _v, slope, w in items]))
                    dropped.append(j)
                    continue
                price = _price(items, money, cost)
                rho = (price.num, price.den * scale * costs[j])
                fresh[j] = rho
                lower[j] = (price.num, price.slope_num, rho[1])
                if wants:
                    summaries[j] = _summary(price.items, t, scale)
                if best is None or _rho_less(rho, best_rho) or (
                        not _rho_less(best_rho, rho) and ids[j] < ids[best_j]):
                    best_j, best, best_rho = j, price, rho
            if dropped:
                in_play = [j for j in in_play if j not in dropped]
                for j in dropped:
                    lower.pop(j, None)
                    summaries.pop(j, None)
            if best is None:
                break
            if wants:
                self._note_margins(horizon, in_play, best_j, best, fresh, summaries, state)
            payers, capped = state.fund(best_j, best)
            funded.append(_Funded(best_j, t, scale, best.num, best.slope_num, best.den, best.money,
                                  sum([slope * w for _v, slope, w in best.items]), payers, capped))
            in_play.remove(best_j)
            lower.pop(best_j)
            summaries.pop(best_j, None)
        self.funded = funded
        winners = [*prep.free, *(f.project for f in funded)]
        run = _Run(t, winners, sum(costs[j] for j in winners), funded, state.scale, state.levels,
                   state.level_of)
        return run, horizon.limit

    def _note_margins(self, horizon: _Horizon, in_play: list[int], best_j: int, best: _Price,
                      fresh: dict[int, tuple[int, int]], summaries: dict[int, _Summary],
                      state: _State) -> None:
        """Record what keeps best_j the pick of this round: its price formula, and every other
        project's price above the level at which it would beat (or tie with) best_j."""
        costs, scale = self.prep.costs, state.scale
        best_cost = costs[best_j]
        best_rho = (best.num, best.den * scale * best_cost)
        _note_same_price(horizon, best)
        for j in in_play:
            if j == best_j:
                continue
            if not horizon.wants():
                return
            rho = fresh.get(j)
            if rho is not None and not _rho_less(best_rho, rho):
                # Tied at t0: the tie (and so the id order) must persist, which needs both formulas.
                items = state.items(j)
                price = _price(items, sum([value * w for value, _s, w in items]), costs[j] * scale)
                _note_same_price(horizon, price)
                a, b = best.den * best_cost, price.den * costs[j]
                horizon.note(price.num * a - best.num * b, price.slope_num * a - best.slope_num * b)
                continue
            summary = summaries.get(j)
            margin = None if summary is None else _price_above(horizon.t0, summary, costs[j], best,
                                                               scale, best_cost)
            if margin is None:
                # No usable older levels: take j's levels now (its price is above q, as its rho
                # bound exceeds best_rho, or its supporters cannot afford it).
                items = state.items(j)
                items.sort()
                summaries[j] = summary = _summary(items, horizon.t0, scale)
                margin = _price_above(horizon.t0, summary, costs[j], best, scale, best_cost)
                if margin is None:
                    raise RuntimeError(f"equal shares: no price bound for project {j}")
            horizon.note(*margin)


def _funded_steps(prep: _Prepared, budget: int, run: _Run) -> list[Step]:
    """Step records of the funded projects, in order, valued at the run's increment."""
    voter_budget = Fraction(budget, prep.n_voters) + run.t * prep.unit
    steps: list[Step] = []
    spent = 0
    for j in prep.free:
        steps.append(_funded_step(prep, j, budget, spent, _ZERO, _ZERO, (0, 0),
                                  prep.approvals[j] * voter_budget))
    for f in run.funded:
        shift = run.t - f.t0
        num = f.num + f.slope_num * shift
        cost = prep.costs[f.project]
        steps.append(_funded_step(prep, f.project, budget, spent,
                                  Fraction(num, f.den * f.scale * cost), Fraction(num, f.den * f.scale),
                                  (f.payers, f.capped),
                                  Fraction(f.money + f.money_slope * shift, f.scale)))
        spent += cost
    return steps


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
        money = sum(prep.group_weight[g] * run.levels[run.level_of[g]][0]
                    for g in prep.supporters[j])
        steps.append(Step(kind=NOT_AFFORDABLE, project_id=pid, approvals=prep.approvals[j],
                          cost=prep.costs[j], remaining_before=left, remaining_after=left,
                          supporters_money=Fraction(money, run.scale)))
    return steps


def _outcome(prep: _Prepared, budget: int, run: _Run, runs: int, stop: str,
             rejected_cost: int | None) -> Outcome:
    """Assemble the public Outcome of the kept run."""
    steps: list[Step] = []
    voter_budget = Fraction(budget, prep.n_voters) + run.t * prep.unit
    if runs > 1:
        steps.append(Step(
            kind=COMPLETION_INCREMENT,
            remaining_before=budget - run.total_cost,
            remaining_after=budget - run.total_cost,
            initial_voter_budget=Fraction(budget, prep.n_voters),
            voter_budget=voter_budget,
            increments=run.t,
            runs=runs,
            stop_reason=stop,
            rejected_cost=rejected_cost,
        ))
    steps.extend(_funded_steps(prep, budget, run))
    steps.extend(_closing_steps(prep, budget, run))
    return Outcome(rule=RULE_NAME, budget=budget, winners=[prep.ids[j] for j in run.winners],
                   total_cost=run.total_cost, steps=steps, voter_budget=voter_budget,
                   increments=run.t, runs=runs)


def _no_voters(prep: _Prepared, budget: int) -> Outcome:
    """With no ballots nothing is funded (as in pabutools, which returns an empty allocation)."""
    steps = [Step(kind=NO_SUPPORTERS, project_id=pid, cost=cost, remaining_before=budget,
                  remaining_after=budget) for pid, cost in zip(prep.ids, prep.costs, strict=True)]
    return Outcome(rule=RULE_NAME, budget=budget, winners=[], total_cost=0, steps=steps)


def equal_shares(budget: int, projects: Sequence[Project], ballots: Iterable[Collection[str]],
                 *, skip_ahead: bool = True, unit: int = 1, exhaustive_stop: bool = True) -> Outcome:
    """Method of Equal Shares with cost utilities, completed by add-one (see module docstring).

    `unit` is one currency unit in the units of budget and costs (100 when they are in fen or
    grosze): every add-one increment raises each voter's budget by that much, as pabutools'
    `voter_budget_increment=1` does on amounts in currency units.

    `exhaustive_stop=False` is the completion used in Wieliczka (equalshares.net's add1 there;
    pabutools' `exhaustion_by_budget_increase(..., exhaustive_stop=False, budget_step=n * unit)`):
    the increments go on past exhaustive outcomes, up to the last outcome that fits the budget
    (or until every supported project is funded).
    """
    if isinstance(unit, bool) or not isinstance(unit, int) or unit < 1:
        raise ValueError(f"unit must be a positive int, got {unit!r}")
    prep = _prepare(projects, normalise_inputs(budget, projects, ballots))
    prep.unit = unit
    if prep.n_voters == 0:
        return _no_voters(prep, budget)
    runner = _Runs(prep, budget, skip_ahead)
    t, runs = 0, 0
    previous: _Run | None = None
    previous_last_t = 0  # last increment known to give the same outcome as `previous`
    while True:
        run, limit = runner.run(t)
        runs += 1
        if run.total_cost > budget:
            if previous is None:
                # Cannot happen: at t = 0 voters hold exactly the budget and pay costs exactly.
                raise RuntimeError("equal shares overspent on its first run")
            kept = previous
            if previous_last_t != previous.t:
                kept = _rerun_same(prep, budget, previous, previous_last_t)
            return _outcome(prep, budget, kept, runs, STOP_NEXT_OVER_BUDGET, run.total_cost)
        if (_is_exhaustive(prep, budget, run) if exhaustive_stop
                else len(run.winners) == len(prep.candidates) + len(prep.free)):
            # Without the exhaustive stop, a run funding every supported project is final: more
            # money cannot change it.
            return _outcome(prep, budget, run, runs,
                            STOP_NOT_NEEDED if runs == 1 else STOP_EXHAUSTIVE, None)
        previous = run
        # Without a recorded comparison that could flip, fall back to pabutools' +1 stepping.
        t = limit if limit is not None else t + 1
        previous_last_t = t - 1


def _rerun_same(prep: _Prepared, budget: int, run: _Run, t: int) -> _Run:
    """Recompute the kept outcome at increment t, from scratch, so its steps show that run."""
    again, _limit = _Runs(prep, budget, skip_ahead=False).run(t)
    if again.winners != run.winners:
        # The skip-ahead guarantee was violated; refuse to return a possibly wrong result.
        raise RuntimeError(f"equal shares skip-ahead inconsistency at increment {t}")
    return again
