"""One entry point for every ballot type and rule: `count(budget, projects, ballots, ...)`.

Vote types (`VOTE_TYPES`) and what a ballot is:

* "approval": a collection of project ids (a set; order ignored); an empty one is valid.
* "choose-1": a collection holding at most one project id.
* "cumulative": a mapping project id -> points (int >= 0); projects with 0 points are not supported.
* "ordinal": a sequence of distinct project ids, best first, at most `max_rank` long.

Every ballot gives each project a score; a project's score is the sum over the ballots:

* approval and choose-1: 1 for each project on the ballot;
* cumulative: the points given;
* ordinal: Borda points counted on the ballot's own length: on a ballot ranking L projects, the
  k-th (k = 1 .. L) gets L - k + 1 points, unranked projects 0 (a full ballot of 3 gives 3, 2, 1;
  a ballot ranking one project gives it 1). Why: the Pabulib format says only that the ordinal
  `scoring_fn` defaults to "Borda", without defining it; pabulib-checker, which Pabulib runs on
  every file it publishes, computes a file's `score` column exactly this way when VOTES has no
  `points` column (pabulib_helpers.utilities.create_points_based_on_vote_length), so this is the
  scoring under which published ordinal files are consistent and under which our exports pass
  the checker. Ordinal files that carry a `points` column (e.g. Ruda Śląska, 4/3/2/1 by position)
  are counted with those points instead (see pabulib.tally_pb). `max_rank` (Pabulib's
  `max_length`) is the most projects a ballot may rank; a longer ballot is refused.

Rules (`RULES`), with Pabulib's names:

* "greedy": rank by score (ties: cheaper first, then smaller id) and fund every project that
  still fits the budget left;
* "greedy-no-skip": the same ranking, but the count stops at the first project that does not fit;
* "greedy-threshold": as "greedy", but projects whose score is below `threshold` (Pabulib's
  `min_project_score_threshold`) are not funded. A threshold given with "greedy" or
  "greedy-no-skip" applies to them too (Gdynia counts with greedy-no-skip and a threshold);
* "equalshares/add1": Method of Equal Shares with cost utilities (a supporter values a project at
  its cost) completed by add-one; a project's supporters are the voters who gave it a positive
  score, whatever the vote type (see equal_shares.py);
* "equalshares/add1-comparison": the variant used in Wieliczka 2023 (Green Budget). Equal
  Shares with cost utilities whose add-one completion does not stop at the first exhaustive
  outcome: it raises every voter's budget by one unit at a time up to the last outcome that fits
  the budget (pabutools: `exhaustion_by_budget_increase(..., exhaustive_stop=False)`); then the
  comparison step (see comparison.py): the plain greedy outcome replaces it when more voters
  prefer greedy's outcome than prefer Equal Shares'. This reproduces Wieliczka's `selected`
  column exactly, while stopping at the first exhaustive outcome does not;
* "equalshares-points/add1": Method of Equal Shares with cardinal utilities: a voter's utility
  for a project is the score their ballot gives it (points for cumulative ballots; 1 for
  approval and choose-1; the Borda points above for ordinal), completed by add-one (see
  equal_shares_points.py). This name is ours: Pabulib has no rule name for it.

Amounts are ints. `unit` is one currency unit in the units of budget and costs (1 when they are
whole yuan, 100 when they are fen): the add-one completion raises every voter's budget by one
currency unit per step, as pabutools and the real elections do.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from .comparison import compare_with_greedy
from .equal_shares import equal_shares
from .equal_shares_points import equal_shares_points
from .explain import Outcome
from .greedy import greedy_walk
from .model import Project, check_projects

APPROVAL = "approval"
CUMULATIVE = "cumulative"
ORDINAL = "ordinal"
CHOOSE_1 = "choose-1"
VOTE_TYPES = (APPROVAL, CUMULATIVE, ORDINAL, CHOOSE_1)

GREEDY = "greedy"
GREEDY_NO_SKIP = "greedy-no-skip"
GREEDY_THRESHOLD = "greedy-threshold"
EQUAL_SHARES = "equalshares/add1"
EQUAL_SHARES_COMPARISON = "equalshares/add1-comparison"
EQUAL_SHARES_POINTS = "equalshares-points/add1"
RULES = (GREEDY, GREEDY_NO_SKIP, GREEDY_THRESHOLD, EQUAL_SHARES, EQUAL_SHARES_COMPARISON,
         EQUAL_SHARES_POINTS)
EQUAL_SHARES_RULES = (EQUAL_SHARES, EQUAL_SHARES_COMPARISON, EQUAL_SHARES_POINTS)


def _check_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, got {value!r}")
    if value < 0:
        raise ValueError(f"{what} must not be negative, got {value}")
    return value


def ballot_utilities(projects: Sequence[Project], ballots: Iterable[Any], vote_type: str,
                     max_rank: int | None = None) -> list[dict[str, int]]:
    """Each ballot as project id -> score it gives (positive entries only); validates ballots."""
    if vote_type not in VOTE_TYPES:
        raise ValueError(f"unknown vote type {vote_type!r}; choose one of {', '.join(VOTE_TYPES)}")
    known = {p.id for p in projects}
    ballots = list(ballots)
    if vote_type == ORDINAL:
        if max_rank is None:
            max_rank = max((len(b) for b in ballots), default=0)
        _check_int(max_rank, "max_rank")
    result: list[dict[str, int]] = []
    for index, ballot in enumerate(ballots):
        if isinstance(ballot, str):
            raise TypeError(f"ballot #{index} must be a collection of project ids, not a str")
        utilities: dict[str, int]
        if vote_type == CUMULATIVE:
            if not isinstance(ballot, Mapping):
                raise TypeError(f"cumulative ballot #{index} must map project ids to points")
            utilities = {pid: _check_int(points, f"points of ballot #{index}")
                         for pid, points in ballot.items() if points != 0}
        elif vote_type == ORDINAL:
            if not isinstance(ballot, Sequence):
                raise TypeError(f"ordinal ballot #{index} must be a sequence, best first")
            if len(set(ballot)) != len(ballot):
                raise ValueError(f"ordinal ballot #{index} ranks a project twice")
            if len(ballot) > max_rank:  # type: ignore[operator]
                raise ValueError(f"ordinal ballot #{index} ranks more than {max_rank} projects")
            utilities = {pid: len(ballot) - k for k, pid in enumerate(ballot)}
        else:
            chosen = frozenset(ballot)
            if vote_type == CHOOSE_1 and len(chosen) > 1:
                raise ValueError(f"choose-1 ballot #{index} chooses {len(chosen)} projects")
            utilities = dict.fromkeys(chosen, 1)
        unknown = set(utilities) - known
        if unknown:
            raise ValueError(f"ballot #{index} names unknown project(s) {sorted(unknown)}")
        result.append(utilities)
    return result


def scores_of(projects: Sequence[Project], utilities: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """Each project's score: the sum of what every ballot gives it (0 when nobody did)."""
    scores = {p.id: 0 for p in projects}
    for ballot in utilities:
        for pid, points in ballot.items():
            scores[pid] += points
    return scores


def count(budget: int, projects: Sequence[Project], ballots: Iterable[Collection[str] | Mapping[str, int]],
          *, vote_type: str = APPROVAL, rule: str = GREEDY, threshold: int | None = None,
          max_rank: int | None = None, unit: int = 1) -> Outcome:
    """Count the ballots of one vote type with one rule (see the module docstring).

    Returns an Outcome whose `rule` is the rule's name and whose steps carry each project's
    score in `Step.approvals` (alias `Step.score`). Raises TypeError/ValueError on bad input.
    """
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; choose one of {', '.join(RULES)}")
    _check_int(budget, "budget")
    check_projects(projects)
    if isinstance(unit, bool) or not isinstance(unit, int) or unit < 1:
        raise ValueError(f"unit must be a positive int, got {unit!r}")
    if rule == GREEDY_THRESHOLD and threshold is None:
        raise ValueError("greedy-threshold needs a threshold (the minimum score)")
    if threshold is not None:
        _check_int(threshold, "threshold")
        if rule in EQUAL_SHARES_RULES:
            raise ValueError(f"{rule} takes no threshold")
    utilities = ballot_utilities(projects, ballots, vote_type, max_rank)
    scores = scores_of(projects, utilities)
    if rule in (GREEDY, GREEDY_NO_SKIP, GREEDY_THRESHOLD):
        return greedy_walk(budget, projects, scores, rule=rule,
                           stop_at_first_misfit=rule == GREEDY_NO_SKIP,
                           threshold=threshold)
    if rule == EQUAL_SHARES_POINTS:
        return _with_scores(equal_shares_points(budget, projects, utilities, unit=unit), scores)
    supports = [frozenset(u) for u in utilities]
    mes = equal_shares(budget, projects, supports, unit=unit,
                       exhaustive_stop=rule != EQUAL_SHARES_COMPARISON)
    outcome = _with_scores(dataclasses.replace(mes, rule=rule), scores)
    if rule == EQUAL_SHARES_COMPARISON:
        fallback = greedy_walk(budget, projects, scores, rule=rule)
        return compare_with_greedy(outcome, fallback, supports)
    return outcome


def _with_scores(outcome: Outcome, scores: Mapping[str, int]) -> Outcome:
    """The outcome with every project step's `approvals` set to the project's score."""
    steps = [step if step.project_id is None else dataclasses.replace(step, approvals=scores[step.project_id])
             for step in outcome.steps]
    return dataclasses.replace(outcome, steps=steps)
