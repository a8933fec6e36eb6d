"""Every carried real election, counted with the rule and vote type its META names, funds exactly
the projects its `selected` column marks 1 (source of each file: tests/data/pabulib/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from deliberation.tally import read_pb, scores_from_pb, tally_pb
from tests.pabulib_files import pabulib_dir

FILES = sorted(pabulib_dir().glob("*.pb"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_the_meta_rule_reproduces_the_real_outcome(path: Path) -> None:
    election = read_pb(path)
    outcome = tally_pb(path)
    assert set(outcome.winners) == election.selected_ids
    assert outcome.rule == election.meta["rule"]
    assert outcome.total_cost <= election.budget


@pytest.mark.parametrize("path", [p for p in FILES if any(x.score is not None for x in read_pb(p).projects)],
                         ids=lambda p: p.stem)
def test_scores_computed_from_the_ballots_match_the_files_score_column(path: Path) -> None:
    election = read_pb(path)
    assert dict(scores_from_pb(election)) == {p.id: p.score for p in election.projects}


def test_the_carried_files_cover_every_vote_type_and_rule_we_could_find() -> None:
    seen = {(read_pb(p).vote_type, read_pb(p).meta["rule"]) for p in FILES}
    assert {vote_type for vote_type, _rule in seen} == {"approval", "cumulative", "choose-1"}
    assert {rule for _vote_type, rule in seen} == {
        "greedy", "greedy-no-skip", "greedy-threshold", "equalshares/add1", "equalshares/add1-comparison"}


def test_thresholds_decide_real_outcomes() -> None:
    # Without Gdynia's threshold (50 votes) greedy-no-skip would also fund 0006 (49 votes) and 0010.
    gdynia = pabulib_dir() / "Poland_Gdynia_2023_Kamienna_Gora__small.pb"
    election = read_pb(gdynia)
    from deliberation.tally import count
    instance = election.instance
    without = count(instance.budget, instance.projects, election.ballots, rule="greedy-no-skip")
    assert set(without.winners) != election.selected_ids
    # Bydgoszcz Jachcice (choose-1): project 395 fits the budget but has 16 votes, under 30.
    jachcice = read_pb(pabulib_dir() / "Poland_Bydgoszcz_2025_Jachcice.pb")
    assert jachcice.selected_ids == {"147"}
    instance = jachcice.instance
    assert set(count(instance.budget, instance.projects, jachcice.ballots, vote_type="choose-1",
                     rule="greedy-no-skip").winners) == {"147", "395"}


def test_wieliczka_needs_the_completion_to_the_last_affordable_outcome() -> None:
    # Stopping the add-one completion at the first exhaustive outcome (equalshares/add1) does not
    # give Wieliczka's result; going on to the last affordable one (its add1-comparison) does.
    path = pabulib_dir() / "Poland_Wieliczka_2023_Green_Budget.pb"
    election = read_pb(path)
    assert set(tally_pb(path, "equalshares/add1").winners) != election.selected_ids
    assert set(tally_pb(path, "equalshares/add1-comparison").winners) == election.selected_ids
