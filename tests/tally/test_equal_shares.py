"""Method of Equal Shares with add-one completion: real results and hand-worked examples."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import pytest

from deliberation.tally import (
    COMPLETION_INCREMENT,
    FUNDED,
    NO_SUPPORTERS,
    NOT_AFFORDABLE,
    STEP_KINDS,
    STOP_EXHAUSTIVE,
    STOP_NEXT_OVER_BUDGET,
    Outcome,
    Project,
    equal_shares,
    read_pb,
)
from tests.pabulib_files import pabulib_dir

P = Project



def count_file(name: str, **kwargs: bool) -> tuple[Outcome, set[str]]:
    """Equal Shares on a Pabulib file, with the file's own selected set."""
    election = read_pb(pabulib_dir() / name)
    instance = election.instance
    outcome = equal_shares(instance.budget, instance.projects, election.ballots, **kwargs)
    return outcome, election.selected_ids


# Selection order and increments observed with pabutools 1.2.3 (845 runs for Assen, whose
# last one overspent, so the kept run is the 844th, t = 843; 227 runs for Swiecie, t = 226).
REAL = {
    "Netherlands_Assen_2024.pb": (["3", "9", "11", "2", "13", "14", "5", "6", "12"], 843),
    "Poland_Swiecie_2023.pb": (["c12", "c10", "c20", "c21", "c2", "c13", "c3", "c1", "c9", "c11",
                                "c4", "c7", "c19", "c5", "c17", "c18", "c14"], 226),
}


@pytest.mark.parametrize("name", sorted(REAL))
def test_reproduces_real_equal_shares_elections(name: str) -> None:
    outcome, selected = count_file(name)
    order, increments = REAL[name]
    assert set(outcome.winners) == selected
    assert outcome.winners == order
    assert outcome.increments == increments
    assert outcome.total_cost <= outcome.budget
    n_voters = len(read_pb(pabulib_dir() / name).voters)
    assert outcome.voter_budget == Fraction(outcome.budget, n_voters) + increments
    assert_steps_consistent(outcome)


def test_skip_ahead_matches_stepping_every_increment_on_assen() -> None:
    fast, _ = count_file("Netherlands_Assen_2024.pb")
    slow, _ = count_file("Netherlands_Assen_2024.pb", skip_ahead=False)
    assert slow.runs == 845  # pabutools' count: t = 0..844
    assert fast.runs < slow.runs
    assert (fast.winners, fast.increments, fast.voter_budget) == (
        slow.winners, slow.increments, slow.voter_budget)
    assert without_run_counts(fast.steps) == without_run_counts(slow.steps)


def without_run_counts(steps: list) -> list:
    """Steps minus the number of runs, the only field allowed to differ between the two modes."""
    return [dataclasses.replace(step, runs=None) for step in steps]


def assert_steps_consistent(outcome: Outcome) -> None:
    """Steps are data only and agree with the winners, costs and budget."""
    for step in outcome.steps:
        assert step.kind in STEP_KINDS
        for value in dataclasses.astuple(step):
            assert value is None or type(value) in (str, int, Fraction)
    funded = [s for s in outcome.steps if s.kind == FUNDED]
    assert [s.project_id for s in funded] == outcome.winners
    spent = 0
    for step in funded:
        assert step.remaining_before == outcome.budget - spent
        spent += step.cost
        assert step.remaining_after == outcome.budget - spent
        assert step.price == step.rho * step.cost
        assert 0 <= step.capped_payers <= step.payers <= step.approvals
    assert spent == outcome.total_cost


def test_two_rounds_without_completion() -> None:
    # 3 voters x 10. a: 2 supporters pay 10 each (rho 1/2); b: 1 supporter pays 10 (rho 1).
    outcome = equal_shares(30, [P("b", 10), P("a", 20)], [{"a"}, {"a"}, {"b"}])
    assert outcome.winners == ["a", "b"]
    assert (outcome.runs, outcome.increments, outcome.voter_budget) == (1, 0, 10)
    a, b = outcome.steps
    assert (a.rho, a.price, a.payers, a.capped_payers, a.supporters_money) == (
        Fraction(1, 2), 10, 2, 0, 20)
    assert (b.rho, b.price, b.payers, b.remaining_before, b.remaining_after) == (1, 10, 1, 10, 0)
    assert_steps_consistent(outcome)


def test_tie_on_rho_goes_to_smaller_id_as_string_like_pabutools() -> None:
    # Both cost 10 paid by one voter (rho 1). pabutools compares names: "10" < "9".
    outcome = equal_shares(20, [P("9", 10), P("10", 10)], [{"9"}, {"10"}])
    assert outcome.winners == ["10", "9"]


def test_poorer_supporter_pays_what_it_has() -> None:
    # 6 voters x 10. a (36) has 4 supporters: 9 each, rho 1/4; d (15) has 3: rho 1/3.
    # After a, voter 1 has 1 left, so for d: 1 + 2p = 15, p = 7, rho 7/15.
    ballots = [{"a", "d"}, {"d"}, {"d"}, {"a"}, {"a"}, {"a"}]
    outcome = equal_shares(60, [P("d", 15), P("a", 36)], ballots)
    assert outcome.winners == ["a", "d"]
    d = outcome.steps[1]
    assert (d.price, d.rho, d.payers, d.capped_payers, d.supporters_money) == (
        7, Fraction(7, 15), 3, 1, 21)
    assert outcome.total_cost == 51
    assert_steps_consistent(outcome)


def test_unaffordable_project_when_nothing_else_fits_needs_no_completion() -> None:
    # 4 voters x 25. a (60) by voters 1-3 pays 20 each; b (80) has only voter 4's 25.
    outcome = equal_shares(100, [P("a", 60), P("b", 80)], [{"a"}, {"a"}, {"a"}, {"b"}])
    assert outcome.winners == ["a"]
    assert outcome.runs == 1  # 40 left, b costs 80: exhaustive at once
    last = outcome.steps[-1]
    assert (last.kind, last.project_id, last.supporters_money, last.remaining_before) == (
        NOT_AFFORDABLE, "b", 25, 40)


def test_completion_raises_voter_budget_until_exhaustive() -> None:
    # 4 voters x 25. a (60) by voters 1-3; b (40) by voter 4 alone, who needs 40: 15 increments.
    ballots = [{"a"}, {"a"}, {"a"}, {"b"}]
    outcome = equal_shares(100, [P("a", 60), P("b", 40)], ballots)
    assert outcome.winners == ["a", "b"]
    assert (outcome.increments, outcome.voter_budget) == (15, 40)
    completion = outcome.steps[0]
    assert (completion.kind, completion.increments, completion.initial_voter_budget,
            completion.voter_budget, completion.stop_reason, completion.rejected_cost) == (
        COMPLETION_INCREMENT, 15, 25, 40, STOP_EXHAUSTIVE, None)
    assert_steps_consistent(outcome)
    stepped = equal_shares(100, [P("a", 60), P("b", 40)], ballots, skip_ahead=False)
    assert stepped.runs == 16
    assert outcome.runs < stepped.runs
    assert without_run_counts(outcome.steps) == without_run_counts(stepped.steps)


def test_completion_keeps_previous_outcome_when_next_one_overspends() -> None:
    # 2 voters, budget 4. t=0 (2 each): a (8) unaffordable; b, c tie at rho 1, b wins, voter 1
    # is broke, c (2) fits the 2 left but is unaffordable: not exhaustive. t=1: the same.
    # t=2 (4 each): a is affordable at rho 1/2 and is funded: 8 > 4, so t=1 is kept.
    ballots = [{"a", "b", "c"}, {"a"}]
    outcome = equal_shares(4, [P("a", 8), P("b", 2), P("c", 2)], ballots)
    assert outcome.winners == ["b"]
    assert (outcome.increments, outcome.voter_budget) == (1, 3)
    completion, funded_b, lost_a, lost_c = outcome.steps
    assert (completion.stop_reason, completion.rejected_cost) == (STOP_NEXT_OVER_BUDGET, 8)
    assert (funded_b.price, funded_b.supporters_money) == (2, 3)
    assert (lost_a.kind, lost_a.supporters_money) == (NOT_AFFORDABLE, 4)  # 1 + 3 left
    assert (lost_c.kind, lost_c.supporters_money) == (NOT_AFFORDABLE, 1)
    assert_steps_consistent(outcome)


def test_empty_ballots_still_get_a_share_of_the_budget() -> None:
    outcome = equal_shares(30, [P("a", 20)], [{"a"}, {"a"}, set()])
    assert outcome.voter_budget == 10  # 30 / 3 voters, not 30 / 2
    assert outcome.winners == ["a"]


def test_free_projects_are_funded_first_only_if_approved() -> None:
    outcome = equal_shares(10, [P("a", 10), P("free", 0), P("nobody", 0)], [{"a", "free"}])
    assert outcome.winners == ["free", "a"]
    assert [(s.kind, s.project_id) for s in outcome.steps] == [
        (FUNDED, "free"), (FUNDED, "a"), (NO_SUPPORTERS, "nobody")]


def test_no_voters_funds_nothing() -> None:
    outcome = equal_shares(100, [P("a", 10), P("b", 20)], [])
    assert (outcome.winners, outcome.total_cost, outcome.voter_budget) == ([], 0, None)
    assert [(s.kind, s.project_id) for s in outcome.steps] == [
        (NO_SUPPORTERS, "a"), (NO_SUPPORTERS, "b")]


def test_no_projects() -> None:
    outcome = equal_shares(100, [], [set(), set()])
    assert (outcome.winners, outcome.total_cost, outcome.steps, outcome.runs) == ([], 0, [], 1)


def test_invalid_ballot_fails_loudly() -> None:
    with pytest.raises(ValueError, match="unknown project"):
        equal_shares(10, [P("a", 5)], [{"a", "zz"}])
