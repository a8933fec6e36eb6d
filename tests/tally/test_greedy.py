"""Greedy approval counting: real Warszawa results and hand-worked examples."""

from __future__ import annotations

from pathlib import Path

import pytest

from deliberation.tally import (
    FUNDED,
    SKIPPED_DOES_NOT_FIT,
    Project,
    greedy,
    project_id_key,
    read_pb,
)
from tests.pabulib_files import pabulib_dir


def warszawa_files() -> list[Path]:
    """All Warszawa elections (counted with greedy in reality); there must be seven or more."""
    files = sorted(pabulib_dir().glob("Poland_Warszawa_*.pb"))
    if len(files) < 7:
        pytest.fail(f"expected the 7 Warszawa files in {pabulib_dir()}, found {len(files)}")
    return files


@pytest.mark.parametrize("path", warszawa_files(), ids=lambda p: p.stem)
def test_greedy_reproduces_warszawa(path: Path) -> None:
    election = read_pb(path)
    instance = election.instance
    outcome = greedy(instance.budget, instance.projects, election.ballots)
    assert set(outcome.winners) == election.selected_ids
    assert outcome.total_cost == sum(p.cost for p in election.projects if p.selected == 1)
    assert outcome.total_cost <= instance.budget


P = Project


def test_over_budget_project_is_skipped_and_cheaper_one_still_funded() -> None:
    ballots = [{"a", "b", "c"}, {"a", "b"}, {"a"}]
    outcome = greedy(100, [P("a", 60), P("b", 50), P("c", 30)], ballots)
    assert outcome.winners == ["a", "c"]
    assert outcome.total_cost == 90
    assert outcome.remaining == 10
    assert [(s.kind, s.project_id, s.approvals, s.remaining_before, s.remaining_after)
            for s in outcome.steps] == [
        (FUNDED, "a", 3, 100, 40),
        (SKIPPED_DOES_NOT_FIT, "b", 2, 40, 40),
        (FUNDED, "c", 1, 40, 10),
    ]


def test_equal_approvals_prefer_cheaper_project() -> None:
    # Both have 2 approvals; only one fits. The cheaper one (y) ranks first.
    outcome = greedy(50, [P("x", 40), P("y", 30)], [{"x", "y"}, {"x", "y"}])
    assert outcome.winners == ["y"]
    assert [s.kind for s in outcome.steps] == [FUNDED, SKIPPED_DOES_NOT_FIT]


def test_equal_approvals_and_cost_prefer_smaller_numeric_id() -> None:
    # As strings "10" < "9"; numerically 9 < 10, and numeric order is the rule for digit ids.
    outcome = greedy(40, [P("10", 30), P("9", 30)], [{"9", "10"}])
    assert outcome.winners == ["9"]


def test_equal_approvals_and_cost_non_digit_ids_compare_as_strings() -> None:
    outcome = greedy(40, [P("b", 30), P("a", 30)], [{"a", "b"}])
    assert outcome.winners == ["a"]


def test_project_id_key_orders_digit_ids_numerically_then_others() -> None:
    ids = ["a", "10", "2b", "9", "007"]
    assert sorted(ids, key=project_id_key) == ["007", "9", "10", "2b", "a"]


def test_zero_approval_project_is_ranked_last_but_funded_if_it_fits() -> None:
    outcome = greedy(100, [P("z", 20), P("a", 50)], [{"a"}])
    assert outcome.winners == ["a", "z"]
    assert outcome.steps[-1].approvals == 0


def test_no_voters_ranks_by_cost_then_id() -> None:
    outcome = greedy(50, [P("2", 30), P("1", 30), P("3", 10)], [])
    assert outcome.winners == ["3", "1"]


def test_no_projects() -> None:
    outcome = greedy(100, [], [set(), set()])
    assert (outcome.winners, outcome.total_cost, outcome.steps) == ([], 0, [])


def test_zero_budget_funds_only_free_projects() -> None:
    outcome = greedy(0, [P("a", 5), P("b", 0)], [{"a"}])
    assert outcome.winners == ["b"]


@pytest.mark.parametrize(
    ("budget", "projects", "ballots", "error"),
    [
        (10, [P("a", 5)], [{"b"}], ValueError),
        (10, [P("a", -1)], [], ValueError),
        (10, [P("a", 5), P("a", 6)], [], ValueError),
        (10, [P("a", 5.0)], [], TypeError),  # type: ignore[arg-type]
        (10.5, [P("a", 5)], [], TypeError),
        (10, [P("a", 5)], ["a"], TypeError),
    ],
    ids=["unknown-id", "negative-cost", "duplicate-id", "float-cost", "float-budget", "str-ballot"],
)
def test_invalid_inputs_fail_loudly(budget, projects, ballots, error) -> None:
    with pytest.raises(error):
        greedy(budget, projects, ballots)
