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


class _Run:
    """One run at increment t: winners in order and, per funded project, its exact rho.

    Money is kept per "level": level_of[g] is the level of group g, levels[level] its money times
    `scale` (an int); level 0 is no money. Groups that paid the same from the same level move to
    the same new level, so counting a project's supporters per level is a C-speed Counter over
    its groups (those of one voter; heavier groups are added by hand), and rescaling touches the
    levels only.
    """

    def __init__(self, election: _Election, budget: int, unit: int, t: int) -> None:
        e = self.election = election
        n = e.n_voters
        self.t = t
        self.scale = n
        levels = [0, budget + t * unit * n]
        level_of = [1] * len(e.weights)
        costs, ids, lcm = e.costs, e.ids, e.lcm
        in_play = list(e.candidates)
        lower: dict[int, Fraction] = {}
        self.funded: list[tuple[int, Fraction, int, Fraction]] = []
        while in_play:
            in_play.sort(key=lambda j: lower.get(j, -1))
            best_j, best_rho, best_money = -1, None, 0
            dropped = []
            scale = self.scale
            for j in in_play:
                bound = lower.get(j)
                if best_rho is not None and bound is not None and bound > best_rho:
                    continue
                cost = costs[j] * scale
                # Supporters with money: (money, points, voters) per level and points.
                items = []
                for u, singles, heavy in e.by_points[j]:
                    at = Counter(map(level_of.__getitem__, singles))
                    for g, w in heavy:
                        at[level_of[g]] += w
                    at.pop(0, None)
                    items += [(levels[lvl], u, w) for lvl, w in at.items()]
                total = sum([m * w for m, _u, w in items])
                if total < cost:
                    dropped.append(j)
                    continue
                # Poorest first in money per point (m / u, compared as m * (lcm / u), exact ints):
                # they pay all they have if it is below rho * points.
                items.sort(key=lambda item: item[0] * (lcm // item[1]))
                paid, weight_left = 0, sum([u * w for _m, u, w in items])
                for m, u, w in items:
                    if (cost - paid) * u <= m * weight_left:
                        break
                    paid += m * w
                    weight_left -= u * w
                rho = Fraction(cost - paid, weight_left * scale)  # money per point
                lower[j] = rho
                if best_rho is None or rho < best_rho or (rho == best_rho and ids[j] < ids[best_j]):
                    best_j, best_rho, best_money = j, rho, total
            for j in dropped:
                in_play.remove(j)
                lower.pop(j, None)
            if best_rho is None:
                break
            # Charge min(money, rho * points); rescale so that rho * scale is whole.
            factor = best_rho.denominator // gcd(best_rho.denominator, self.scale)
            if factor != 1:
                self.scale *= factor
                levels = [m * factor for m in levels]
            per_point = best_rho * self.scale
            per_point = per_point.numerator // per_point.denominator
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
                            new = len(levels)
                            levels.append(left)
                        moves[old] = new
                    level_of[g] = new
            self.funded.append((best_j, best_rho, payers, Fraction(best_money, scale)))
            in_play.remove(best_j)
            lower.pop(best_j)
        self.money = [levels[level_of[g]] for g in range(len(level_of))]
        self.winners = [*e.free, *(f[0] for f in self.funded)]
        self.total_cost = sum(costs[j] for j in self.winners)


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
                        utilities: Sequence[Mapping[str, int]], *, unit: int = 1) -> Outcome:
    """Equal Shares with each voter's points as utilities, completed by add-one (see module doc).

    `utilities` holds one mapping project id -> points per voter (already validated by `count`).
    """
    e = _Election(projects, utilities)
    if e.n_voters == 0:
        steps = [Step(kind=NO_SUPPORTERS, project_id=pid, cost=cost, remaining_before=budget,
                      remaining_after=budget) for pid, cost in zip(e.ids, e.costs, strict=True)]
        return Outcome(rule=RULE_NAME, budget=budget, winners=[], total_cost=0, steps=steps)
    previous: _Run | None = None
    t = runs = 0
    while True:
        run = _Run(e, budget, unit, t)
        runs += 1
        if run.total_cost > budget:
            if previous is None:
                raise RuntimeError("equal shares overspent on its first run")
            return _outcome(e, budget, unit, previous, runs, STOP_NEXT_OVER_BUDGET, run.total_cost)
        left = budget - run.total_cost
        funded = set(run.winners)
        if not any(e.costs[j] <= left for j in e.candidates if j not in funded):
            return _outcome(e, budget, unit, run, runs,
                            STOP_NOT_NEEDED if runs == 1 else STOP_EXHAUSTIVE, None)
        previous = run
        t += 1
