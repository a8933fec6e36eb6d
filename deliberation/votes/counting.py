"""Feeding a round's ballots to the counting package (`deliberation.tally.count`) with the round's vote
type and rule, and keeping the outcome as a `RoundResult`."""

from __future__ import annotations

from collections import Counter
from dataclasses import fields, is_dataclass
from fractions import Fraction

from deliberation.proposals.models import BallotType, CountingRule, Proposal, Round
from deliberation.votes.models import Ballot, RoundResult

# The counting package's rule for each counting rule a round may choose; cumulative points are shared
# with cardinal utilities (a voter pays in proportion to the points they gave).
PB_RULES = {CountingRule.greedy: "greedy", CountingRule.equal_shares: "equalshares/add1"}


def tally_rule(round_: Round) -> str:
    """The counting package's name of the rule that counts this round."""
    if round_.counting_rule == CountingRule.equal_shares and round_.ballot_type == BallotType.cumulative:
        return "equalshares-points/add1"
    return PB_RULES[round_.counting_rule]


def tally_ballots(round_: Round, ballots: list[Ballot]) -> list:
    """The stored ballots in the shape `count` takes for the round's vote type: approval → set of ids,
    cumulative → {id: points}, ordinal → [ids best first] (ids as text)."""
    if round_.ballot_type == BallotType.cumulative:
        return [{str(pid): int(n) for pid, n in b.choices} for b in ballots]
    if round_.ballot_type == BallotType.ranked:
        return [[str(pid) for pid in b.choices] for b in ballots]
    return [{str(pid) for pid in b.choices} for b in ballots]


def max_rank(round_: Round) -> int | None:
    """The most projects a ranked ballot may rank (its k); Borda points follow each ballot's own length."""
    return round_.max_approvals if round_.ballot_type == BallotType.ranked else None


def count_round(round_: Round, items: list[Proposal], ballots: list[Ballot]) -> RoundResult:
    """Count the round's ballots with its vote type and rule (`deliberation.tally.count`). The result's
    `approvals` hold each project's score: approvals, points given, or Borda points of the rankings."""
    from deliberation.tally import Project, ballot_utilities, count, scores_of

    projects = [Project(str(p.id), p.cost, p.title) for p in items]
    shaped = tally_ballots(round_, ballots)
    vote_type = round_.ballot_type.pb_vote_type
    outcome = count(round_.budget, projects, shaped, vote_type=vote_type, rule=tally_rule(round_),
                    max_rank=max_rank(round_))
    utilities = ballot_utilities(projects, shaped, vote_type, max_rank(round_))
    score = scores_of(projects, utilities)
    supporters = Counter(pid for ballot in utilities for pid in ballot)
    return RoundResult(
        round_id=round_.id, rule=round_.counting_rule, ballots_counted=len(ballots),
        approvals={str(p.id): score.get(str(p.id), 0) for p in items},
        winners=[int(w) for w in outcome.winners],
        steps=[_step_json(step) for step in outcome.steps],
        details={"total_cost": outcome.total_cost, "remaining": outcome.remaining,
                 "voter_budget": _fraction(getattr(outcome, "voter_budget", None)),
                 "increments": getattr(outcome, "increments", 0), "runs": getattr(outcome, "runs", 0),
                 "ballot_type": round_.ballot_type.value, "vote_type": vote_type, "pb_rule": tally_rule(round_),
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
