"""Data-only records of how a rule reached its outcome; the web app turns them into words.

Money fields are whole currency units (int) when they are real budget amounts, and exact
`Fraction`s when they are shares of a voter's budget under the Method of Equal Shares.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

# Step kinds. Kept as plain strings so they serialise and compare trivially.
FUNDED = "funded"
"""The project was funded; remaining_before/after show the real budget around it."""
SKIPPED_DOES_NOT_FIT = "skipped_does_not_fit"
"""Greedy: the project's cost was more than the budget still left when its turn came."""
NOT_AFFORDABLE = "not_affordable"
"""Equal Shares: at the end, the project's supporters together had less money than its cost."""
NO_SUPPORTERS = "no_supporters"
"""Equal Shares: nobody approved the project, so nobody could pay for it."""
COMPLETION_INCREMENT = "completion_increment"
"""Equal Shares: the per-voter budget was raised by whole units to use up more of the budget."""
BELOW_THRESHOLD = "below_threshold"
"""greedy-threshold: the project's score was below the minimum score, so it was not funded."""
NOT_REACHED = "not_reached"
"""greedy-no-skip: the count stopped at an earlier project that did not fit the budget left."""
COMPARISON = "comparison"
"""equalshares/add1-comparison: voters' preferences between the Equal Shares and greedy outcomes."""

STEP_KINDS = (FUNDED, SKIPPED_DOES_NOT_FIT, NOT_AFFORDABLE, NO_SUPPORTERS, COMPLETION_INCREMENT,
              BELOW_THRESHOLD, NOT_REACHED, COMPARISON)

# Why the add-one completion stopped.
STOP_EXHAUSTIVE = "exhaustive"
"""No further approved project fits the budget that is left."""
STOP_NEXT_OVER_BUDGET = "next_over_budget"
"""Raising the voter budget once more would have selected projects costing more than the budget."""
STOP_NOT_NEEDED = "not_needed"
"""The first run was already exhaustive; no completion was needed."""


@dataclass(frozen=True)
class Step:
    """One event of a count; fields that do not apply to a kind stay None (or 0)."""

    kind: str
    project_id: str | None = None
    approvals: int = 0
    """The project's score (see `score`): approvals, points (cumulative), Borda points (ordinal),
    or votes (choose-1). The name is kept from the approval-only days; `score` reads the same."""
    cost: int = 0
    remaining_before: int = 0
    """Real budget not yet spent before this step (budget minus cost of projects funded so far)."""
    remaining_after: int = 0
    # Equal Shares only -------------------------------------------------------------------------
    rho: Fraction | None = None
    """Share of the project's cost paid by each supporter who paid in full (price / cost)."""
    price: Fraction | None = None
    """Most that any one supporter paid (= rho * cost); supporters with less money paid all they had."""
    payers: int | None = None
    """Supporters who paid a positive amount."""
    capped_payers: int | None = None
    """Payers who had less than `price` left and so paid everything they had."""
    supporters_money: Fraction | None = None
    """Money the supporters had left in total just before this step."""
    # Completion (COMPLETION_INCREMENT) only ------------------------------------------------------
    initial_voter_budget: Fraction | None = None
    """budget / number of voters: each voter's share before any increment."""
    voter_budget: Fraction | None = None
    """Per-voter budget of the run whose outcome was kept."""
    increments: int | None = None
    """How many times every voter's budget was raised by one currency unit."""
    runs: int | None = None
    """How many Equal Shares runs were computed (outcomes that provably repeat are skipped)."""
    stop_reason: str | None = None
    rejected_cost: int | None = None
    """Cost of the next run's outcome that exceeded the budget, when that stopped the completion."""
    # Comparison (COMPARISON) only -------------------------------------------------------------
    prefer_equal_shares: int | None = None
    """Voters with more of their supported projects funded by Equal Shares than by greedy."""
    prefer_greedy: int | None = None
    """Voters with more of their supported projects funded by greedy than by Equal Shares."""
    kept: str | None = None
    """Which outcome was kept: "equal_shares" (also on a tie) or "greedy"."""
    # Thresholds (BELOW_THRESHOLD) only --------------------------------------------------------
    threshold: int | None = None
    """The minimum score a project needed to be funded."""

    @property
    def score(self) -> int:
        """The project's score under the ballot type (stored in `approvals`)."""
        return self.approvals


@dataclass(frozen=True)
class Outcome:
    """Result of a rule: winners in selection order, their total cost and the steps taken."""

    rule: str
    budget: int
    winners: list[str]
    total_cost: int
    steps: list[Step] = field(default_factory=list)
    voter_budget: Fraction | None = None
    """Equal Shares: per-voter budget of the kept run (None when there are no voters)."""
    increments: int = 0
    """Equal Shares: number of add-one increments of the kept run."""
    runs: int = 0
    """Equal Shares: number of runs computed, including a rejected over-budget one."""

    @property
    def remaining(self) -> int:
        """Budget left unspent."""
        return self.budget - self.total_cost
