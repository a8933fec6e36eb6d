"""Cross-check both rules against pabutools 1.2.3 on seeded random instances.

pabutools is a pinned dev dependency (requirements-dev.txt) and is imported directly: if it is
missing this module errors instead of silently skipping.

Tie-breaking, made explicit so both sides use one deterministic order:
* greedy: pabutools' `greedy_utilitarian_welfare` with `Cost_Sat` ranks projects by total
  satisfaction / cost = (approvals * cost) / cost = approvals, which is our ranking (with
  `Cardinality_Sat` it would rank by approvals / cost instead). Its ties are broken by the
  `tie_breaking` rule, so we pass one keyed on (cost, our id key), i.e. our own tie-break.
* equal shares: pabutools' default `lexico_tie_breaking` (project name = id, as a string) is
  the rule we implement, so it is passed explicitly too.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest
from pabutools.election import ApprovalBallot, ApprovalProfile, Cost_Sat
from pabutools.election import Instance as PabuInstance
from pabutools.election import Project as PabuProject
from pabutools.rules import greedy_utilitarian_welfare, method_of_equal_shares
from pabutools.tiebreaking import TieBreakingRule, lexico_tie_breaking

from deliberation.tally import (
    STOP_EXHAUSTIVE,
    STOP_NEXT_OVER_BUDGET,
    Project,
    equal_shares,
    greedy,
    project_id_key,
)

GREEDY_TIES = TieBreakingRule(lambda instance, profile, project: (project.cost,
                                                                  project_id_key(project.name)))

Election = tuple[int, list[Project], list[frozenset[str]]]


def random_election(rng: random.Random, max_voters: int = 15, max_cost: int = 50,
                    budget_range: tuple[int, int] = (10, 120)) -> Election:
    """3-8 projects, 1..max_voters voters (empty ballots allowed), many exact ties."""
    ids = [str(i) for i in rng.sample(range(1, 30), rng.randint(3, 8))]  # "10" vs "9" orders
    if rng.random() < 0.5:
        costs = [rng.choice([5, 10, 20, 40]) for _ in ids]  # equal costs make ties likely
    else:
        costs = [rng.randint(1, max_cost) for _ in ids]
    density = rng.uniform(0.1, 0.7)
    ballots = [frozenset(i for i in ids if rng.random() < density)
               for _ in range(rng.randint(1, max_voters))]
    return rng.randint(*budget_range), [Project(i, c) for i, c in zip(ids, costs, strict=True)], ballots


def to_pabutools(budget: int, projects: Sequence[Project],
                 ballots: Sequence[frozenset[str]]) -> tuple[PabuInstance, ApprovalProfile]:
    """The same election as pabutools objects."""
    by_id = {p.id: PabuProject(p.id, p.cost) for p in projects}
    instance = PabuInstance(by_id.values(), budget_limit=budget)
    profile = ApprovalProfile([ApprovalBallot([by_id[i] for i in b]) for b in ballots],
                              instance=instance)
    return instance, profile


def pabutools_greedy(election: Election) -> list[str]:
    """pabutools' greedy by approvals, with our tie-break."""
    instance, profile = to_pabutools(*election)
    chosen = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat,
                                        tie_breaking=GREEDY_TIES)
    return [p.name for p in chosen]


def pabutools_mes(election: Election) -> list[str]:
    """pabutools' MES with cost utilities and add-one completion."""
    instance, profile = to_pabutools(*election)
    chosen = method_of_equal_shares(instance, profile, sat_class=Cost_Sat,
                                    voter_budget_increment=1, tie_breaking=lexico_tie_breaking)
    return [p.name for p in chosen]


SMALL = [random_election(random.Random(f"small-{seed}")) for seed in range(200)]
# Larger budgets and electorates: hundreds of add-one increments, to exercise skipping ahead.
MEDIUM = [random_election(random.Random(f"medium-{seed}"), max_voters=40, max_cost=1000,
                          budget_range=(500, 5000)) for seed in range(30)]


@pytest.mark.parametrize("election", SMALL, ids=[f"small-{i}" for i in range(len(SMALL))])
def test_greedy_matches_pabutools(election: Election) -> None:
    assert greedy(*election).winners == pabutools_greedy(election)


@pytest.mark.parametrize("election", SMALL + MEDIUM,
                         ids=[f"small-{i}" for i in range(len(SMALL))]
                         + [f"medium-{i}" for i in range(len(MEDIUM))])
def test_equal_shares_matches_pabutools(election: Election) -> None:
    expected = pabutools_mes(election)
    fast = equal_shares(*election)
    slow = equal_shares(*election, skip_ahead=False)
    assert fast.winners == expected
    assert slow.winners == expected
    assert fast.increments == slow.increments


def test_oracle_instances_exercise_ties_and_completion() -> None:
    # Guard against a generator that stops producing the hard cases.
    outcomes = [equal_shares(*e) for e in SMALL + MEDIUM]
    assert sum(o.increments > 0 for o in outcomes) >= 50
    assert sum(o.increments >= 80 for o in outcomes) >= 3
    # Both ways the completion can stop: an exhaustive run, or a next run that overspends.
    stops = {o.steps[0].stop_reason for o in outcomes if o.runs > 1}
    assert stops == {STOP_EXHAUSTIVE, STOP_NEXT_OVER_BUDGET}
    assert sum(any(not b for b in e[2]) for e in SMALL) >= 20
    assert sum(has_greedy_tie(e) for e in SMALL) >= 50


def has_greedy_tie(election: Election) -> bool:
    """Whether two projects share approvals and cost, so the id decides between them."""
    _budget, projects, ballots = election
    keys = [(sum(p.id in b for b in ballots), p.cost) for p in projects]
    return len(set(keys)) < len(keys)
