"""Greedy approval counting: fund the most-approved projects that still fit the budget.

Ranking: more approvals first; ties go to the cheaper project, then to the smaller project id.
Projects that nobody approved are still ranked (last, by cost then id) and funded if they fit:
the Warszawa files in Pabulib have no zero-approval project so they cannot decide this, and
this matches pabutools' `greedy_utilitarian_welfare`, which keeps zero-score projects in its
ranking.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from .explain import FUNDED, SKIPPED_DOES_NOT_FIT, Outcome, Step
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
    """Projects ordered by approvals (desc), then cost (asc), then id."""
    return sorted(projects, key=lambda p: (-approvals[p.id], p.cost, project_id_key(p.id)))


def greedy(budget: int, projects: Sequence[Project], ballots: Iterable[Collection[str]]) -> Outcome:
    """Walk the approval ranking and fund every project whose cost still fits the remaining budget."""
    approved = normalise_inputs(budget, projects, ballots)
    approvals = approval_counts(projects, approved)
    remaining = budget
    winners: list[str] = []
    steps: list[Step] = []
    for project in greedy_ranking(projects, approvals):
        fits = project.cost <= remaining
        after = remaining - project.cost if fits else remaining
        steps.append(
            Step(
                kind=FUNDED if fits else SKIPPED_DOES_NOT_FIT,
                project_id=project.id,
                approvals=approvals[project.id],
                cost=project.cost,
                remaining_before=remaining,
                remaining_after=after,
            )
        )
        if fits:
            winners.append(project.id)
        remaining = after
    return Outcome(
        rule="greedy",
        budget=budget,
        winners=winners,
        total_cost=budget - remaining,
        steps=steps,
    )
