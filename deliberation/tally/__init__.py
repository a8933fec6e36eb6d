"""Counting rules for participatory budgeting: pure Python, standard library only.

Imports inside this package are relative on purpose, so it never pulls in the web app.
"""

from .equal_shares import equal_shares
from .explain import (
    COMPLETION_INCREMENT,
    FUNDED,
    NO_SUPPORTERS,
    NOT_AFFORDABLE,
    SKIPPED_DOES_NOT_FIT,
    STEP_KINDS,
    STOP_EXHAUSTIVE,
    STOP_NEXT_OVER_BUDGET,
    STOP_NOT_NEEDED,
    Outcome,
    Step,
)
from .greedy import greedy, greedy_ranking, project_id_key
from .model import ApprovalBallot, Instance, Project, approval_counts
from .pabulib import (
    RULES,
    PbElection,
    PbFormatError,
    PbProject,
    PbVoter,
    election_from_ballots,
    parse_whole_number,
    read_pb,
    tally_pb,
    winners_from_pb,
    write_pb,
)

__all__ = [
    "COMPLETION_INCREMENT",
    "FUNDED",
    "NO_SUPPORTERS",
    "NOT_AFFORDABLE",
    "RULES",
    "SKIPPED_DOES_NOT_FIT",
    "STEP_KINDS",
    "STOP_EXHAUSTIVE",
    "STOP_NEXT_OVER_BUDGET",
    "STOP_NOT_NEEDED",
    "ApprovalBallot",
    "Instance",
    "Outcome",
    "PbElection",
    "PbFormatError",
    "PbProject",
    "PbVoter",
    "Project",
    "Step",
    "approval_counts",
    "election_from_ballots",
    "equal_shares",
    "greedy",
    "greedy_ranking",
    "parse_whole_number",
    "project_id_key",
    "read_pb",
    "tally_pb",
    "winners_from_pb",
    "write_pb",
]
