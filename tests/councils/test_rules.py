"""Quorum and majority arithmetic."""

from __future__ import annotations

from fractions import Fraction

import pytest

from deliberation.councils.rules import (
    HALF,
    TWO_THIRDS,
    CouncilRules,
    Outcome,
    PassBasis,
    Tally,
    Threshold,
    advisory_decision,
    decide,
    quorum_required,
)

DEFAULT = CouncilRules()
PRESENT_BASIS = CouncilRules(pass_basis=PassBasis.present)


def test_two_thirds_of_fifteen_is_ten_and_more_than_two_thirds_needs_eleven():
    assert Threshold(Fraction(2, 3), strict=False).required(15) == 10
    assert TWO_THIRDS.required(15) == 11
    assert quorum_required(DEFAULT, 15) == 11


@pytest.mark.parametrize(("members", "at_least", "more_than"), [(9, 6, 7), (10, 7, 7), (12, 8, 9), (20, 14, 14)])
def test_two_thirds_for_other_council_sizes(members, at_least, more_than):
    assert Threshold(Fraction(2, 3), strict=False).required(members) == at_least
    assert TWO_THIRDS.required(members) == more_than


def test_more_than_half_of_fifteen_is_eight_and_of_fourteen_is_eight():
    assert HALF.required(15) == 8
    assert HALF.required(14) == 8
    assert Threshold(Fraction(1, 2), strict=False).required(14) == 7


def test_quorum_exactly_at_the_threshold_decides_and_one_fewer_does_not():
    assert decide(DEFAULT, Tally(members=15, present=11, yes=8, no=3)).outcome == Outcome.passed
    decision = decide(DEFAULT, Tally(members=15, present=10, yes=10))
    assert decision.outcome == Outcome.no_quorum
    assert (decision.quorum_required, decision.quorum_met) == (11, False)


def test_all_members_basis_counts_yes_against_every_member():
    decision = decide(DEFAULT, Tally(members=15, present=12, yes=7, no=2, abstain=3))
    assert decision.outcome == Outcome.failed
    assert (decision.basis_count, decision.yes_required) == (15, 8)
    assert decide(DEFAULT, Tally(members=15, present=12, yes=8, no=4)).outcome == Outcome.passed


def test_present_basis_counts_yes_against_those_present():
    decision = decide(PRESENT_BASIS, Tally(members=15, present=12, yes=7, no=5))
    assert (decision.basis_count, decision.yes_required) == (12, 7)
    assert decision.outcome == Outcome.passed


def test_abstentions_weigh_as_no_under_present_basis_and_not_at_all_under_all_members():
    # 12 present: 6 yes, 2 no, 4 abstain. Present basis needs 7 yes: abstentions sink it.
    tally = Tally(members=15, present=12, yes=6, no=2, abstain=4)
    assert decide(PRESENT_BASIS, tally).outcome == Outcome.failed
    # Same yes count with no abstentions and fewer present: 6 of 11 present passes.
    assert decide(PRESENT_BASIS, Tally(members=15, present=11, yes=6, no=2)).outcome == Outcome.passed
    # Under "all members" only yes votes matter, abstaining or voting no makes no difference.
    assert decide(DEFAULT, Tally(members=15, present=12, yes=8, abstain=4)).outcome == Outcome.passed
    assert decide(DEFAULT, Tally(members=15, present=12, yes=8, no=4)).outcome == Outcome.passed


def test_zero_present_has_no_quorum_and_zero_members_never_passes():
    assert decide(DEFAULT, Tally(members=15, present=0, yes=0)).outcome == Outcome.no_quorum
    assert decide(DEFAULT, Tally(members=0, present=0, yes=0)).outcome == Outcome.no_quorum
    assert advisory_decision(0, 0, 0, 0).outcome == Outcome.failed


def test_members_who_sign_in_after_the_motion_opened_count_at_closing():
    # At opening 10 of 15 were present (no quorum); two more signed in and voted before closing.
    before = decide(DEFAULT, Tally(members=15, present=10, yes=8, no=2))
    after = decide(DEFAULT, Tally(members=15, present=12, yes=9, no=3))
    assert before.outcome == Outcome.no_quorum
    assert after.outcome == Outcome.passed


def test_a_tally_cannot_hold_more_votes_than_members_present():
    with pytest.raises(ValueError):
        Tally(members=15, present=10, yes=8, no=3)
    with pytest.raises(ValueError):
        Tally(members=15, present=16, yes=0)


def test_advisory_votes_pass_with_more_than_half_of_those_present():
    assert advisory_decision(21, 10, 9, 40).outcome == Outcome.passed
    assert advisory_decision(20, 10, 10, 40).outcome == Outcome.failed
