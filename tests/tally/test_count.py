"""`count(...)`: every vote type with every rule, on hand-worked elections."""

from __future__ import annotations

import pytest

from deliberation.tally import (
    BELOW_THRESHOLD,
    COMPARISON,
    NOT_REACHED,
    RULES,
    SKIPPED_DOES_NOT_FIT,
    VOTE_TYPES,
    Project,
    count,
    equal_shares,
    greedy,
)

P = Project
PROJECTS = [P("a", 60), P("b", 50), P("c", 30), P("d", 20)]


def test_the_published_names():
    assert VOTE_TYPES == ("approval", "cumulative", "ordinal", "choose-1")
    assert RULES == ("greedy", "greedy-no-skip", "greedy-threshold", "equalshares/add1",
                     "equalshares/add1-comparison", "equalshares-points/add1")


def test_approval_greedy_and_equal_shares_are_the_old_wrappers():
    ballots = [{"a"}, {"a", "b"}, {"b", "c"}, {"c", "d"}, {"d"}, set()]
    assert count(100, PROJECTS, ballots).winners == greedy(100, PROJECTS, ballots).winners
    assert (count(100, PROJECTS, ballots, rule="equalshares/add1").winners
            == equal_shares(100, PROJECTS, ballots).winners)


def test_cumulative_greedy_ranks_by_points_not_by_voters():
    # c has three supporters with 1 point each; a has one voter giving it 5 points.
    ballots = [{"a": 5}, {"c": 1, "d": 1}, {"c": 1}, {"c": 1, "b": 2}]
    outcome = count(100, PROJECTS, ballots, vote_type="cumulative")
    assert outcome.winners == ["a", "c"]
    assert {s.project_id: s.score for s in outcome.steps} == {"a": 5, "c": 3, "b": 2, "d": 1}


def test_ordinal_scores_are_borda_points_on_each_ballots_length():
    ballots = [["b", "a", "c"], ["a", "b"], ["c"]]
    outcome = count(200, PROJECTS, ballots, vote_type="ordinal", max_rank=3)
    # b: 3 + 1, a: 2 + 2, c: 1 + 1, d: 0; a and b tie at 4, the cheaper b goes first.
    assert [(s.project_id, s.score) for s in outcome.steps] == [("b", 4), ("a", 4), ("c", 2), ("d", 0)]


def test_ordinal_ballot_longer_than_max_rank_is_refused():
    with pytest.raises(ValueError, match="more than 2"):
        count(100, PROJECTS, [["a", "b", "c"]], vote_type="ordinal", max_rank=2)
    with pytest.raises(ValueError, match="twice"):
        count(100, PROJECTS, [["a", "a"]], vote_type="ordinal")


def test_choose_1_takes_at_most_one_project():
    assert count(100, PROJECTS, [["a"], ["a"], ["d"], []], vote_type="choose-1").winners == ["a", "d"]
    with pytest.raises(ValueError, match="chooses 2"):
        count(100, PROJECTS, [["a", "b"]], vote_type="choose-1")


def test_greedy_no_skip_stops_at_the_first_project_that_does_not_fit():
    ballots = [{"a", "b", "d"}, {"a", "b"}, {"b", "c"}]
    assert count(90, PROJECTS, ballots).winners == ["b", "d"]  # a (60) skipped, d fits
    outcome = count(90, PROJECTS, ballots, rule="greedy-no-skip")
    assert outcome.winners == ["b"]
    assert [s.kind for s in outcome.steps][1:] == [SKIPPED_DOES_NOT_FIT, NOT_REACHED, NOT_REACHED]


def test_greedy_threshold_funds_only_projects_with_the_minimum_score():
    ballots = [{"a", "c"}, {"a", "c"}, {"d"}]
    outcome = count(200, PROJECTS, ballots, rule="greedy-threshold", threshold=2)
    assert outcome.winners == ["c", "a"]
    assert {s.project_id for s in outcome.steps if s.kind == BELOW_THRESHOLD} == {"b", "d"}
    with pytest.raises(ValueError, match="threshold"):
        count(200, PROJECTS, ballots, rule="greedy-threshold")


def test_equal_shares_points_values_points_not_cost():
    # Two voters: one puts all 10 points on the expensive a, the other spreads over c and d.
    ballots = [{"a": 10}, {"c": 5, "d": 5}]
    outcome = count(100, PROJECTS, ballots, vote_type="cumulative", rule="equalshares-points/add1")
    assert set(outcome.winners) == {"c", "d"}
    assert outcome.rule == "equalshares-points/add1"


def test_comparison_keeps_greedy_when_more_voters_prefer_it():
    projects = [P("big", 90), P("x", 10), P("y", 10)]
    # 3 voters want big; x and y each have one voter. MES funds... greedy funds big + x.
    ballots = [{"big"}, {"big"}, {"big", "x"}, {"y"}, {"x"}]
    outcome = count(100, projects, ballots, rule="equalshares/add1-comparison")
    first = outcome.steps[0]
    assert first.kind == COMPARISON
    assert first.kept in {"greedy", "equal_shares"}
    mes = count(100, projects, ballots, rule="equalshares/add1").winners
    gre = count(100, projects, ballots, rule="greedy").winners
    assert outcome.winners == (gre if first.prefer_greedy > first.prefer_equal_shares else mes)


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="unknown rule"):
        count(100, PROJECTS, [], rule="borda")
    with pytest.raises(ValueError, match="unknown vote type"):
        count(100, PROJECTS, [], vote_type="scoring")
    with pytest.raises(ValueError, match="unknown project"):
        count(100, PROJECTS, [{"z": 1}], vote_type="cumulative")
    with pytest.raises(ValueError, match="negative"):
        count(100, PROJECTS, [{"a": -1}], vote_type="cumulative")


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("vote_type", VOTE_TYPES)
def test_every_rule_counts_every_vote_type_within_budget(rule, vote_type):
    raw = [["a", "c"], ["b"], ["c", "d"], ["d"], []]
    ballots = {
        "approval": [set(b) for b in raw],
        "choose-1": [b[:1] for b in raw],
        "cumulative": [{pid: i + 1 for i, pid in enumerate(b)} for b in raw],
        "ordinal": raw,
    }[vote_type]
    outcome = count(100, PROJECTS, ballots, vote_type=vote_type, rule=rule,
                    threshold=1 if rule.startswith("greedy") else None)
    assert outcome.total_cost <= 100
    assert outcome.rule == rule
    assert outcome.total_cost == sum(p.cost for p in PROJECTS if p.id in outcome.winners)


def test_unit_scales_the_add_one_increment():
    # Amounts in fen with unit=100 give the same winners as amounts in yuan with unit=1.
    ballots = [{"a"}, {"a", "b"}, {"b", "c"}, {"c", "d"}, {"d"}, {"b"}, {"c"}]
    in_fen = [P(p.id, p.cost * 100) for p in PROJECTS]
    for rule in ("equalshares/add1", "equalshares-points/add1"):
        yuan = count(100, PROJECTS, ballots, rule=rule)
        fen = count(10000, in_fen, ballots, rule=rule, unit=100)
        assert fen.winners == yuan.winners and fen.increments == yuan.increments
