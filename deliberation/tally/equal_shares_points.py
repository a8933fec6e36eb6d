"""Method of Equal Shares with cardinal utilities (a voter's points), completed by add-one.

Rule name "equalshares-points/add1". Semantics are those of pabutools 1.2.3
`method_of_equal_shares(instance, profile, sat_class=Additive_Cardinal_Sat,
voter_budget_increment=1)` on a cumulative profile, where a voter's satisfaction from a project is
the number of points they gave it:

* Each of the n voters (voters who gave no points included) starts with budget / n, exactly.
* In every round, for each project c still in play, find the smallest rho such that the
  supporters (voters who gave c points), each paying min(money left, rho * points given to c),
  cover cost(c). The project with the smallest rho (money per point) is funded; ties go to the
  smallest project id as a string (pabutools' lexicographic tie-breaking). A project whose
  supporters together have less money than its cost is dropped for the rest of the run.
* Projects nobody gave points to are never funded; zero-cost projects with points are funded
  up front.
* Completion (add-one): while some supported, unfunded project fits the real remaining budget,
  rerun with every voter's starting budget raised by one currency unit (`unit`); stop at the
  first run that is exhaustive (keep it) or that costs more than the budget (keep the previous).

With approval ballots (one point per approved project) this is Equal Shares with cardinality
utilities: a voter counts each funded project they approved as one unit of satisfaction, whatever
its cost; with cost utilities ("equalshares/add1") a voter values a project by its cost.

Money is exact: every amount is an int over one common denominator per run (the voter count,
multiplied by the reduced denominator of each funded project's rho). Voters with identical
ballots are merged into weighted groups. Within a run money only shrinks, so a project's rho
only grows; as in pabutools, a project is not recomputed when the rho it had in an earlier round
already exceeds the best rho found in this round.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import gcd

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
from .model import Project

RULE_NAME = "equalshares-points/add1"


class _Election:
    """Projects by index and voters merged into groups: supporters[j] = [(group, points)]."""

    def __init__(self, projects: Sequence[Project], utilities: Sequence[Mapping[str, int]]) -> None:
        self.ids = [p.id for p in projects]
        self.costs = [p.cost for p in projects]
        position = {pid: i for i, pid in enumerate(self.ids)}
        self.n_voters = len(utilities)
        grouped = Counter(tuple(sorted((position[pid], u) for pid, u in ballot.items() if u > 0))
                          for ballot in utilities)
        grouped.pop((), None)
        self.weights: list[int] = []
        self.supporters: list[list[tuple[int, int]]] = [[] for _ in self.ids]
        self.points = [0] * len(self.ids)
        self.voters = [0] * len(self.ids)
        for g, (ballot, weight) in enumerate(grouped.items()):
            self.weights.append(weight)
            for j, u in ballot:
                self.supporters[j].append((g, u))
                self.points[j] += weight * u
                self.voters[j] += weight
        # Per project, its supporter groups by points given: (points, one-voter groups, (group, voters)).
        self.by_points: list[list[tuple[int, tuple[int, ...], tuple[tuple[int, int], ...]]]] = []
        for supporters in self.supporters:
            points_given = sorted({u for _g, u in supporters})
            self.by_points.append([
                (u, tuple(g for g, v in supporters if v == u and self.weights[g] == 1),
                 tuple((g, self.weights[g]) for g, v in supporters if v == u and self.weights[g] > 1))
                for u in points_given])
        self.lcm = 1  # least common multiple of all points given, for exact integer sort keys
        for ballot in grouped:
            for _j, u in ballot:
                self.lcm = self.lcm * u // gcd(self.lcm, u)
        self.candidates = [j for j in range(len(self.ids)) if self.points[j] > 0 and self.costs[j] > 0]
        self.free = [j for j in range(len(self.ids)) if self.points[j] > 0 and self.costs[j] == 0]


@dataclass
class _Checkpoint:
    """A run's state at the start of one of its rounds, at increment t0, and the limit (horizon) of
    the rounds before it: any run below the limit makes the same choices up to this round."""

    t0: int
    limit: int | None
    scale: int
    levels: dict[int, int]
    slopes: dict[int, int]
    members: dict[int, int]
    next_level: int
    level_of: list[int]
    in_play: list[int]
    lower: dict[int, tuple[int, int, int]]
    funded: list[tuple[int, Fraction, int, Fraction]]


class _Run:
    """One run at increment t: winners in order and, per funded project, its exact rho.

    Money is kept per "level": level_of[g] is the level of group g, levels[level] its money times
    `scale` (an int) at t, and slopes[level] how much that grows per unit of t (every amount is an
    affine function of t: a voter starts with budget / n + t * unit, and each payment is rho times
    points, rho being (cost - money of the supporters who pay all they have) / (points of the
    others)); level 0 is no money. Groups that paid the same from the same level move to the same
    new level, so counting a project's supporters per level is a C-speed Counter over its groups
    (those of one voter; heavier groups are added by hand), and rescaling touches the levels only.

    `horizon` is the first increment after t at which some choice this run made could go the
    other way (None: none can): which projects are dropped as unaffordable, which supporters of
    each funded project pay all they have, and that the funded project's rho stays below (or
    tied with, ties kept) every other project's rho or lower bound of rho (see `equal_shares_points`).
    """

    def __init__(self, election: _Election, budget: int, unit: int, t: int,
                 checkpoints: list[_Checkpoint] | None = None) -> None:
        e = self.election = election
        n = e.n_voters
        self.t = t
        costs, ids, lcm = e.costs, e.ids, e.lcm
        note = self._note
        start = len(checkpoints) if checkpoints else 0
        # The rounds before a checkpoint are valid up to its limit (limits only decrease).
        while start and not (checkpoints[start - 1].limit is None or checkpoints[start - 1].limit > t):
            start -= 1
        if start:
            cp = checkpoints[start - 1]
            del checkpoints[start - 1:]  # its data is taken over; this run writes its own from here
            shift = t - cp.t0
            self.horizon, self.scale, slopes, level_of = cp.limit, cp.scale, cp.slopes, cp.level_of
            levels = {lvl: m + slopes[lvl] * shift for lvl, m in cp.levels.items()}
            members, next_level = cp.members, cp.next_level
            in_play = cp.in_play
            lower = {j: (num + slope * shift, slope, den) for j, (num, slope, den) in cp.lower.items()}
            self.funded = cp.funded
        else:
            if checkpoints:
                checkpoints.clear()
            self.scale = n
            self.horizon: int | None = None
            levels = {0: 0, 1: budget + t * unit * n}
            slopes = {0: 0, 1: unit * n}
            members, next_level = {1: len(e.weights)}, 2  # groups per level (but level 0)
            level_of = [1] * len(e.weights)
            in_play = list(e.candidates)
            # Lower bounds of rho per project, as exact (numerator, its slope, denominator) ints: the
            # rho found in an earlier round of this run (money only shrinks, so rho only grows).
            lower: dict[int, tuple[int, int, int]] = {}
            self.funded: list[tuple[int, Fraction, int, Fraction]] = []
        while in_play:
            if checkpoints is not None:
                checkpoints.append(_Checkpoint(t, self.horizon, self.scale, levels.copy(), slopes.copy(),
                                               members.copy(), next_level, level_of.copy(), in_play.copy(),
                                               lower.copy(), self.funded.copy()))
            in_play.sort(key=lambda j: lower[j][0] / lower[j][2] if j in lower else -1.0)
            best_j, best_rho, best_money, best_items = -1, None, 0, []
            dropped, beaten = [], []
            scale = self.scale
            for j in in_play:
                bound = lower.get(j)
                if best_rho is not None and bound is not None and bound[0] * best_rho[2] > best_rho[0] * bound[2]:
                    beaten.append(bound)
                    continue
                cost = costs[j] * scale
                # Supporters with money: (money, its slope, points, voters) per level and points.
                items = []
                for u, singles, heavy in e.by_points[j]:
                    at = Counter(map(level_of.__getitem__, singles))
                    for g, w in heavy:
                        at[level_of[g]] += w
                    at.pop(0, None)
                    items += [(levels[lvl], slopes[lvl], u, w) for lvl, w in at.items()]
                total = sum([m * w for m, _s, _u, w in items])
                if total < cost:
                    note(total - cost, sum([s * w for _m, s, _u, w in items]))
                    dropped.append(j)
                    continue
                # Poorest first in money per point (m / u, compared as m * (lcm / u), exact ints):
                # they pay all they have if it is below rho * points.
                items.sort(key=lambda item: item[0] * (lcm // item[2]))
                paid, paid_slope, weight_left = 0, 0, sum([u * w for _m, _s, u, w in items])
                for m, s, u, w in items:
                    if (cost - paid) * u <= m * weight_left:
                        break
                    paid += m * w
                    paid_slope += s * w
                    weight_left -= u * w
                rho = (cost - paid, -paid_slope, weight_left * scale)  # money per point
                lower[j] = rho
                if best_rho is None:
                    better = True
                else:
                    left, right = rho[0] * best_rho[2], best_rho[0] * rho[2]
                    better = left < right or (left == right and ids[j] < ids[best_j])
                if better:
                    if best_rho is not None:
                        beaten.append(best_rho)
                    best_j, best_rho, best_money = j, rho, total
                    best_items = items
                else:
                    beaten.append(rho)
            for j in dropped:
                in_play.remove(j)
                lower.pop(j, None)
            if best_rho is None:
                break
            # Every other project's rho (or a lower bound of it) stays on its side of the best's.
            num, num_slope, den = best_rho
            for other_num, other_slope, other_den in beaten:
                note(other_num * den - num * other_den, other_slope * den - num_slope * other_den)
            # The funded project's supporters who pay all they have stay the same.
            weight_left = den // scale
            for m, s, u, _w in best_items:
                note(m * weight_left - num * u, s * weight_left - num_slope * u)
            # Charge min(money, rho * points); rescale so that rho * scale (and its slope) is whole.
            rho_exact = Fraction(num, den)
            factor = weight_left // gcd(weight_left, num, num_slope)
            if factor != 1:
                self.scale *= factor
                levels = {lvl: m * factor for lvl, m in levels.items()}
                slopes = {lvl: s * factor for lvl, s in slopes.items()}
            per_point, per_point_slope = num * factor // weight_left, num_slope * factor // weight_left
            payers = 0
            for u, singles, heavy in e.by_points[best_j]:
                moves: dict[int, int] = {}
                for g, w in [*((g, 1) for g in singles), *heavy]:
                    old = level_of[g]
                    if not old:
                        continue
                    payers += w
                    new = moves.get(old)
                    if new is None:
                        left = levels[old] - per_point * u
                        new = 0
                        if left > 0:
                            new, next_level = next_level, next_level + 1
                            levels[new] = left
                            slopes[new] = slopes[old] - per_point_slope * u
                            members[new] = 0
                        moves[old] = new
                    level_of[g] = new
                    members[old] -= 1
                    if new:
                        members[new] += 1
                for old in moves:
                    if not members[old]:  # no group left there
                        del members[old], levels[old], slopes[old]
            self.funded.append((best_j, rho_exact, payers, Fraction(best_money, scale)))
            in_play.remove(best_j)
            lower.pop(best_j)
        self.money = [levels[level_of[g]] for g in range(len(level_of))]
        self.winners = [*e.free, *(f[0] for f in self.funded)]
        self.total_cost = sum(costs[j] for j in self.winners)

    def _note(self, value: int, slope: int) -> None:
        """Keep the sign of value + slope * (t' - t) for t' from t up to the horizon."""
        if not slope or (value and (value > 0) == (slope > 0)):
            return
        end = self.t + 1 if not value else self.t - (-abs(value) // abs(slope))
        if self.horizon is None or end < self.horizon:
            self.horizon = end


def _outcome(e: _Election, budget: int, unit: int, run: _Run, runs: int, stop: str,
             rejected: int | None) -> Outcome:
    voter_budget = Fraction(budget, e.n_voters) + run.t * unit
    left = budget - run.total_cost
    steps: list[Step] = []
    if runs > 1:
        steps.append(Step(kind=COMPLETION_INCREMENT, remaining_before=left, remaining_after=left,
                          initial_voter_budget=Fraction(budget, e.n_voters), voter_budget=voter_budget,
                          increments=run.t, runs=runs, stop_reason=stop, rejected_cost=rejected))
    spent = 0
    for j in e.free:
        steps.append(Step(kind=FUNDED, project_id=e.ids[j], approvals=e.points[j], cost=0,
                          remaining_before=budget - spent, remaining_after=budget - spent,
                          rho=Fraction(0), payers=0, capped_payers=0,
                          supporters_money=e.voters[j] * voter_budget))
    for j, rho, payers, money in run.funded:
        cost = e.costs[j]
        steps.append(Step(kind=FUNDED, project_id=e.ids[j], approvals=e.points[j], cost=cost,
                          remaining_before=budget - spent, remaining_after=budget - spent - cost,
                          rho=rho, payers=payers, supporters_money=money))
        spent += cost
    funded = set(run.winners)
    for j, pid in enumerate(e.ids):
        if j in funded:
            continue
        if e.points[j] == 0:
            steps.append(Step(kind=NO_SUPPORTERS, project_id=pid, cost=e.costs[j],
                              remaining_before=left, remaining_after=left))
        else:
            money = sum(e.weights[g] * run.money[g] for g, _u in e.supporters[j])
            steps.append(Step(kind=NOT_AFFORDABLE, project_id=pid, approvals=e.points[j],
                              cost=e.costs[j], remaining_before=left, remaining_after=left,
                              supporters_money=Fraction(money, run.scale)))
    return Outcome(rule=RULE_NAME, budget=budget, winners=[e.ids[j] for j in run.winners],
                   total_cost=run.total_cost, steps=steps, voter_budget=voter_budget,
                   increments=run.t, runs=runs)


def equal_shares_points(budget: int, projects: Sequence[Project],
                        utilities: Sequence[Mapping[str, int]], *, unit: int = 1,
                        skip_ahead: bool = True) -> Outcome:
    """Equal Shares with each voter's points as utilities, completed by add-one (see module doc).

    `utilities` holds one mapping project id -> points per voter (already validated by `count`).
    With `skip_ahead`, the runs up to a run's horizon (see `_Run`), which would fund the same
    projects, are not computed: the next run computed is the horizon's. A run kept although it was
    skipped over (the one before a run that overspends) is then computed, and must fund the same
    projects. `skip_ahead=False` computes every run, like pabutools; the tests check both agree.
    """
    e = _Election(projects, utilities)
    if e.n_voters == 0:
        steps = [Step(kind=NO_SUPPORTERS, project_id=pid, cost=cost, remaining_before=budget,
                      remaining_after=budget) for pid, cost in zip(e.ids, e.costs, strict=True)]
        return Outcome(rule=RULE_NAME, budget=budget, winners=[], total_cost=0, steps=steps)
    checkpoints: list[_Checkpoint] | None = [] if skip_ahead else None

    def fresh(run: _Run) -> _Run:
        """The kept run computed from scratch (a restarted run's steps are valued at older t)."""
        if not skip_ahead:
            return run
        again = _Run(e, budget, unit, run.t)
        if again.winners != run.winners:
            # The skip-ahead guarantee was violated; refuse to return a possibly wrong result.
            raise RuntimeError(f"equal shares skip-ahead inconsistency at increment {run.t}")
        return again

    previous: _Run | None = None
    t = 0
    while True:
        run = _Run(e, budget, unit, t, checkpoints)
        runs = t + 1  # as many runs as pabutools makes
        if run.total_cost > budget:
            if previous is None:
                raise RuntimeError("equal shares overspent on its first run")
            # The kept run is t - 1, computed from scratch (fresh), which funds what `previous` funds.
            previous.t = t - 1
            return _outcome(e, budget, unit, fresh(previous), runs, STOP_NEXT_OVER_BUDGET, run.total_cost)
        left = budget - run.total_cost
        funded = set(run.winners)
        if not any(e.costs[j] <= left for j in e.candidates if j not in funded):
            return _outcome(e, budget, unit, fresh(run), runs,
                            STOP_NOT_NEEDED if runs == 1 else STOP_EXHAUSTIVE, None)
        previous = run
        t = run.horizon if skip_ahead and run.horizon is not None else t + 1
