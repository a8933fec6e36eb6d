"""Exports of every vote type pass pabulib-checker, the validator Pabulib runs on its files."""

from __future__ import annotations

import random

import pytest

from deliberation.tally import (
    RULES,
    VOTE_TYPES,
    Project,
    count,
    election_from_ballots,
    read_pb,
    write_pb,
)

checker = pytest.importorskip("pabulib.checker")

GREEDY_RULES = ("greedy", "greedy-no-skip", "greedy-threshold")


def check(text: str) -> dict:
    """The checker's errors and warnings for one file (both empty when it passes)."""
    results = checker.Checker().process_files([text])
    return results[1]["results"]


def as_vote_type(raw: list[list[str]], vote_type: str) -> list:
    return {
        "approval": [set(b) for b in raw],
        "choose-1": [b[:1] for b in raw],
        "cumulative": [{pid: len(b) - i for i, pid in enumerate(b)} for b in raw],
        "ordinal": raw,
    }[vote_type]


def export(budget: int, projects: list[Project], ballots: list, vote_type: str, rule: str,
           threshold: int | None = None, scale: int = 100) -> str:
    outcome = count(budget, projects, ballots, vote_type=vote_type, rule=rule, threshold=threshold,
                    max_rank=3, unit=scale)
    meta = {"description": "第七轮微项目投票", "country": "China", "unit": "幸福里社区", "instance": "7",
            "rule": rule, "date_begin": "01.11.2026", "date_end": "15.11.2026", "language": "zh",
            "currency": "CNY"}
    meta["max_length"] = "1" if vote_type == "choose-1" else "3"
    if vote_type == "cumulative":
        meta["max_sum_points"] = "6"
    if threshold is not None:
        meta["min_project_score_threshold"] = str(threshold)
    election = election_from_ballots(budget, projects, ballots, vote_type=vote_type, meta=meta,
                                     selected=outcome.winners, scale=scale, max_rank=3)
    return write_pb(election)


def random_round(seed: int) -> tuple[int, list[Project], list[list[str]]]:
    """4-8 projects (costs with fen), 5-40 ballots of 0-3 projects, one of them ranking 3."""
    rng = random.Random(seed)
    projects = [Project(str(i), rng.randrange(1000, 40000) * 10 + rng.choice([0, 5]), f"项目 {i}")
                for i in range(1, rng.randrange(5, 9))]
    ids = [p.id for p in projects]
    raw = [rng.sample(ids, rng.randrange(0, 4)) for _ in range(rng.randrange(5, 40))]
    raw.append(rng.sample(ids, 3))
    budget = max(sum(p.cost for p in projects) // 2, max(p.cost for p in projects))
    return budget, projects, raw


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("rule", GREEDY_RULES)
@pytest.mark.parametrize("vote_type", VOTE_TYPES)
def test_greedy_exports_pass_the_checker(vote_type, rule, seed):
    budget, projects, raw = random_round(seed)
    ballots = as_vote_type(raw, vote_type)
    threshold = 2 if rule == "greedy-threshold" else None
    text = export(budget, projects, ballots, vote_type, rule, threshold)
    results = check(text)
    assert results["errors"] == {}, text
    # Its one warning here is about the data, not the format: a project nobody chose.
    assert set(results["warnings"]) <= {"project with no votes"}, text
    # ... and reading the export back gives the same outcome (empty ballots are not exported,
    # which greedy does not notice).
    again = read_pb(text)
    from deliberation.tally import tally_pb
    assert set(tally_pb(text).winners) == again.selected_ids


def test_the_issues_failures_are_gone():
    # date_begin/date_end present, META in the checker's order, no empty vote fields.
    budget, projects, raw = random_round(3)
    raw.append([])
    text = export(budget, projects, as_vote_type(raw, "approval"), "approval", "greedy")
    lines = text.splitlines()
    keys = [line.split(";")[0] for line in lines[2:lines.index("PROJECTS")]]
    assert keys[:13] == ["description", "country", "unit", "instance", "num_projects", "num_votes",
                         "budget", "vote_type", "rule", "date_begin", "date_end", "max_length",
                         "language"]
    votes = lines[lines.index("VOTES") + 2:]
    assert all(line.split(";")[1] for line in votes)
    assert check(text)["errors"] == {}


@pytest.mark.parametrize("vote_type", VOTE_TYPES)
def test_equal_shares_export_passes_the_checker(vote_type):
    projects = [Project("1", 30000, "坡道"), Project("2", 50000, "座椅"), Project("3", 20050, "路灯")]
    raw = [["1", "3"], ["2"], ["2", "1", "3"], ["3"], ["1"], ["2", "3"]]
    rule = "equalshares/add1"
    text = export(80000, projects, as_vote_type(raw, vote_type), vote_type, rule)
    results = check(text)
    assert results["errors"] == {}, text
    # The checker only recomputes Equal Shares for approval ballots and says so for the others.
    assert set(results["warnings"]) <= {"equalshares unsupported vote_type", "project with no votes"}


def test_every_rule_is_a_name_the_checker_knows_or_is_ours():
    ours = {"equalshares-points/add1"}
    assert set(RULES) - ours <= checker.Checker.VALID_RULES
