"""Feeding a round's ballots to the counting package (`deliberation.tally.count`) with the round's vote
type and rule, and keeping the outcome as a `RoundResult`."""

from __future__ import annotations

from collections import Counter
from dataclasses import fields, is_dataclass
from fractions import Fraction

from deliberation.proposals.models import BallotType, CountingRule, Proposal, Round
from deliberation.votes.models import Ballot, RoundResult

# The Pabulib rule name of each counting rule a round may choose.
PB_RULES = {CountingRule.greedy: "greedy", CountingRule.equal_shares: "equalshares/add1"}


def tally_ballots(round_: Round, ballots: list[Ballot]) -> list:
    """The stored ballots in the shape `count` takes for the round's vote type: approval → set of ids,
    cumulative → {id: points}, ordinal → [ids best first] (ids as text)."""
    if round_.ballot_type == BallotType.cumulative:
        return [{str(pid): int(n) for pid, n in b.choices} for b in ballots]
    if round_.ballot_type == BallotType.ranked:
        return [[str(pid) for pid in b.choices] for b in ballots]
    return [{str(pid) for pid in b.choices} for b in ballots]


def scores(round_: Round, ballots: list[Ballot]) -> Counter:
    """Per project id (text): approvals, points given, or — ranked — the number of ballots ranking it."""
    total: Counter = Counter()
    for b in ballots:
        if round_.ballot_type == BallotType.cumulative:
            for pid, n in b.choices:
                total[str(pid)] += int(n)
        else:
            total.update(str(pid) for pid in b.choices)
    return total


def _count(budget: int, projects: list, ballots: list, *, vote_type: str, rule: str):
    from deliberation import tally

    if hasattr(tally, "count"):
        return tally.count(budget, projects, ballots, vote_type=vote_type, rule=rule)
    # Until the counting package's `count` is merged: approval ballots with today's rules.
    approvals = [set(b) for b in ballots]
    return (tally.greedy if rule == "greedy" else tally.equal_shares)(budget, projects, approvals)


def count_round(round_: Round, items: list[Proposal], ballots: list[Ballot]) -> RoundResult:
    """Count the round's ballots with its vote type and rule."""
    from deliberation.tally import Project

    projects = [Project(str(p.id), p.cost, p.title) for p in items]
    outcome = _count(round_.budget, projects, tally_ballots(round_, ballots),
                     vote_type=round_.ballot_type.pb_vote_type, rule=PB_RULES[round_.counting_rule])
    score = scores(round_, ballots)
    supporters = Counter(str(pid if not isinstance(pid, list) else pid[0]) for b in ballots for pid in b.choices)
    return RoundResult(
        round_id=round_.id, rule=round_.counting_rule, ballots_counted=len(ballots),
        approvals={str(p.id): score.get(str(p.id), 0) for p in items},
        winners=[int(w) for w in outcome.winners],
        steps=[_step_json(step) for step in outcome.steps],
        details={"total_cost": outcome.total_cost, "remaining": outcome.remaining,
                 "voter_budget": _fraction(getattr(outcome, "voter_budget", None)),
                 "increments": getattr(outcome, "increments", 0), "runs": getattr(outcome, "runs", 0),
                 "ballot_type": round_.ballot_type.value, "vote_type": round_.ballot_type.pb_vote_type,
                 "pb_rule": PB_RULES[round_.counting_rule],
                 "supporters": {str(p.id): supporters.get(str(p.id), 0) for p in items}},
    )


def _fraction(value) -> str | None:
    if value is None:
        return None
    value = Fraction(value)
    return f"{value.numerator}/{value.denominator}"


def _step_json(step) -> dict:
    data = {}
    for item in fields(step) if is_dataclass(step) else ():
        value = getattr(step, item.name)
        if isinstance(value, Fraction):
            value = _fraction(value)
        elif not isinstance(value, str | int | float | bool | type(None) | list | dict):
            value = str(value)
        data[item.name] = value
    return data
