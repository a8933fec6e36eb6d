"""Quorum and majority arithmetic of a council: pure functions, exact integer/Fraction maths.

Nothing here imports Flask or the database, so the rules can be tested on their own and the
arithmetic shown to residents is the arithmetic that decided.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from fractions import Fraction


class PassBasis(enum.StrEnum):
    all_members = "all_members"  # yes votes counted against every member of the council
    present = "present"  # yes votes counted against the members present


class Outcome(enum.StrEnum):
    passed = "passed"
    failed = "failed"
    no_quorum = "no_quorum"


@dataclass(frozen=True)
class Threshold:
    """`fraction` of a whole; `strict` means "more than", otherwise "at least"."""

    fraction: Fraction
    strict: bool = True

    def __post_init__(self):
        if not 0 <= self.fraction <= 1:
            raise ValueError("a threshold is a fraction between 0 and 1")

    def required(self, whole: int) -> int:
        """The smallest count that meets the threshold out of `whole`.

        Two thirds of 15 is exactly 10: "at least two thirds" needs 10, "more than two thirds" 11.
        """
        if whole < 0:
            raise ValueError("a count cannot be negative")
        exact = self.fraction * whole
        if self.strict:
            return math.floor(exact) + 1
        return math.ceil(exact)

    def met(self, count: int, whole: int) -> bool:
        return count >= self.required(whole)


TWO_THIRDS = Threshold(Fraction(2, 3), strict=True)
HALF = Threshold(Fraction(1, 2), strict=True)


@dataclass(frozen=True)
class CouncilRules:
    quorum: Threshold = TWO_THIRDS
    pass_basis: PassBasis = PassBasis.all_members
    pass_threshold: Threshold = HALF


@dataclass(frozen=True)
class Tally:
    """Counts at the moment a motion closes. `present` is attendance at closing, so a member who
    signed in after the motion opened counts (and may have voted); one who never came does not."""

    members: int
    present: int
    yes: int
    no: int = 0
    abstain: int = 0

    def __post_init__(self):
        if min(self.members, self.present, self.yes, self.no, self.abstain) < 0:
            raise ValueError("counts cannot be negative")
        if self.present > self.members:
            raise ValueError("more members present than the council has")
        if self.yes + self.no + self.abstain > self.present:
            raise ValueError("more votes than members present")

    @property
    def voted(self) -> int:
        return self.yes + self.no + self.abstain


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    quorum_required: int
    quorum_met: bool
    basis_count: int  # the whole the pass fraction is taken of
    yes_required: int
    tally: Tally
    rules: CouncilRules


def quorum_required(rules: CouncilRules, members: int) -> int:
    """How many members must be present for the meeting to decide anything."""
    if members == 0:
        return 0
    return rules.quorum.required(members)


def decide(rules: CouncilRules, tally: Tally) -> Decision:
    """Passed, failed or no quorum. Abstentions count as present but never as yes: under the
    'members present' basis they therefore weigh like a no, under 'all members' they change nothing."""
    required_present = quorum_required(rules, tally.members)
    quorum_met = tally.members > 0 and tally.present >= required_present
    basis = tally.members if rules.pass_basis == PassBasis.all_members else tally.present
    yes_required = rules.pass_threshold.required(basis)
    if not quorum_met:
        outcome = Outcome.no_quorum
    elif tally.yes >= yes_required and tally.yes > 0:
        outcome = Outcome.passed
    else:
        outcome = Outcome.failed
    return Decision(outcome, required_present, quorum_met, basis, yes_required, tally, rules)


def advisory_decision(tally_yes: int, tally_no: int, abstain: int, present: int) -> Decision:
    """An open consultation or hearing: no quorum, more than half of those present decides."""
    rules = CouncilRules(quorum=Threshold(Fraction(0), strict=False), pass_basis=PassBasis.present)
    tally = Tally(members=present, present=present, yes=tally_yes, no=tally_no, abstain=abstain)
    yes_required = rules.pass_threshold.required(present)
    outcome = Outcome.passed if present and tally_yes >= yes_required else Outcome.failed
    return Decision(outcome, 0, True, present, yes_required, tally, rules)
