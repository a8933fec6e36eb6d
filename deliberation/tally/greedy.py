"""Greedy counting: fund the highest-scoring projects that still fit the budget.

Ranking: higher score (approvals, points, Borda points or votes) first; ties go to the cheaper
project, then to the smaller project id.
Projects that nobody approved are still ranked (last, by cost then id) and funded if they fit:
the Warszawa files in Pabulib have no zero-approval project so they cannot decide this, and
this matches pabutools' `greedy_utilitarian_welfare`, which keeps zero-score projects in its
ranking.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from .explain import BELOW_THRESHOLD, FUNDED, NOT_REACHED, SKIPPED_DOES_NOT_FIT, Outcome, Step
from .model import Project, approval_counts, normalise_inputs


def project_id_key(project_id: str) -> tuple[int, int, str]:
    """Sort key for ids: ASCII-digit ids numerically ("9" < "10"), before all other ids as strings.

    "Numeric when both are digits, else as strings" is not transitive on mixed id sets
    ("2" < "10" < "1a" < "2"), so digit-only ids are put first to keep the order total.
    """
    if project_id.isascii() and project_id.isdigit():
        return (0, int(project_id), project_id)
    return (1, 0, project_id)


def greedy_ranking(projects: Sequence[Project], approvals: dict[str, int]) -> list[Project]:
    """Projects ordered by score (desc), then cost (asc), then id."""
    return sorted(projects, key=lambda p: (-approvals[p.id], p.cost, project_id_key(p.id)))


def greedy_walk(budget: int, projects: Sequence[Project], scores: dict[str, int], *,
                rule: str = "greedy", stop_at_first_misfit: bool = False,
                threshold: int | None = None) -> Outcome:
    """Walk the score ranking and fund every project that still fits the remaining budget.

    `stop_at_first_misfit` (greedy-no-skip): the first project that does not fit ends the count;
    every later project is NOT_REACHED. `threshold` (greedy-threshold): a project whose score is
    below it is not funded (BELOW_THRESHOLD) and uses no budget; the others are walked as usual.
    """
    remaining = budget
    winners: list[str] = []
    steps: list[Step] = []
    stopped = False
    for project in greedy_ranking(projects, scores):
        score = scores[project.id]
        if stopped:
            steps.append(Step(kind=NOT_REACHED, project_id=project.id, approvals=score,
                              cost=project.cost, remaining_before=remaining, remaining_after=remaining))
            continue
        if threshold is not None and score < threshold:
            steps.append(Step(kind=BELOW_THRESHOLD, project_id=project.id, approvals=score,
                              cost=project.cost, remaining_before=remaining, remaining_after=remaining,
                              threshold=threshold))
            continue
        fits = project.cost <= remaining
        after = remaining - project.cost if fits else remaining
        steps.append(
            Step(
                kind=FUNDED if fits else SKIPPED_DOES_NOT_FIT,
                project_id=project.id,
                approvals=score,
                cost=project.cost,
                remaining_before=remaining,
                remaining_after=after,
            )
        )
        if fits:
            winners.append(project.id)
        elif stop_at_first_misfit:
            stopped = True
        remaining = after
    return Outcome(
        rule=rule,
        budget=budget,
        winners=winners,
        total_cost=budget - remaining,
        steps=steps,
    )


def greedy(budget: int, projects: Sequence[Project], ballots: Iterable[Collection[str]]) -> Outcome:
    """Walk the approval ranking and fund every project whose cost still fits the remaining budget."""
    approved = normalise_inputs(budget, projects, ballots)
    return greedy_walk(budget, projects, approval_counts(projects, approved))
