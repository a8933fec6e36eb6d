"""Input types shared by the counting rules: projects, instances and approval ballots."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

# An approval ballot is the set of project ids a voter approved; an empty set is a valid ballot
# (the voter still counts when the budget is split between voters).
ApprovalBallot = frozenset[str]


@dataclass(frozen=True)
class Project:
    """A project on the ballot; cost is an int of the election's money unit (yuan, fen, ...)."""

    id: str
    cost: int
    name: str = ""


@dataclass
class Instance:
    """A budget (an int, in the same unit as the costs) and the projects competing for it."""

    budget: int
    projects: list[Project] = field(default_factory=list)


def _check_whole_number(value: object, what: str) -> None:
    """Reject anything but a non-negative int (bool is excluded on purpose)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int of currency units, got {value!r}")
    if value < 0:
        raise ValueError(f"{what} must not be negative, got {value}")


def normalise_inputs(
    budget: int, projects: Sequence[Project], ballots: Iterable[Collection[str]]
) -> list[ApprovalBallot]:
    """Validate the inputs of a rule and return the ballots as frozensets."""
    _check_whole_number(budget, "budget")
    seen = check_projects(projects)
    result: list[ApprovalBallot] = []
    for index, ballot in enumerate(ballots):
        if isinstance(ballot, str):
            # A bare string would silently be read as a set of characters.
            raise TypeError(f"ballot #{index} must be a collection of project ids, not a str")
        approved = frozenset(ballot)
        unknown = approved - seen
        if unknown:
            raise ValueError(f"ballot #{index} approves unknown project(s) {sorted(unknown)}")
        result.append(approved)
    return result


def check_projects(projects: Sequence[Project]) -> set[str]:
    """Validate ids (distinct strs) and costs (ints >= 0); returns the set of ids."""
    seen: set[str] = set()
    for project in projects:
        if not isinstance(project.id, str):
            raise TypeError(f"project id must be a str, got {project.id!r}")
        _check_whole_number(project.cost, f"cost of project {project.id!r}")
        if project.id in seen:
            raise ValueError(f"duplicate project id {project.id!r}")
        seen.add(project.id)
    return seen


def approval_counts(projects: Sequence[Project], ballots: Iterable[ApprovalBallot]) -> dict[str, int]:
    """Number of ballots approving each project (zero for projects nobody approved)."""
    counts = {project.id: 0 for project in projects}
    for ballot in ballots:
        for project_id in ballot:
            counts[project_id] += 1
    return counts
