"""What casting a ballot reads, in one statement that also locks: the hot path while a whole community votes.

A cast needs the round's state and ballot rules, its community's slug (the URL names it), the voter's
verified residency in that community, the projects on the ballot and the round's sealing salt.
`ballot_to_cast` reads all of it in one statement as plain values, not model instances (loading a
round, its community and the voter's residencies as objects cost a cast as much as everything else it
reads), and holds the round open until the transaction ends: on PostgreSQL it locks the round's row
FOR SHARE — closing locks it FOR UPDATE, so closing waits for the ballots being cast, which are then
counted, and a ballot cast later sees voting closed — and then takes the audit writers' lock (the order
every writer takes them in); on SQLite the request's write transaction, which began before, is the
lock. Call it in the transaction that writes the ballot.

It answers only the common case — an open round this verified resident may vote in; anything else (no
such round, the wrong community, voting not open, a resident not verified) gives None, and the caller's
full checks then say exactly what is wrong. Whether this voter (or their household) has voted already
is decided by the unique keys when the participation is written (`services.cast`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import and_, bindparam, func, select

from deliberation.communities.models import Community, Residency, ResidencyStatus
from deliberation.core import audit, secrecy
from deliberation.core import permissions as perm
from deliberation.core.models import dialect_name
from deliberation.extensions import db
from deliberation.proposals.models import BallotType, Proposal, ProposalStatus, Round


class Option(NamedTuple):
    """A project on the ballot, as much of it as checking a ballot needs."""

    id: int
    title: str
    cost: int


class VoterResidency(NamedTuple):
    """The voter's verified residency, as much of it as recording the participation needs."""

    user_id: int
    household_key: str
    building_id: int


@dataclass(frozen=True, slots=True)
class BallotToCast:
    """An open round's ballot rules and options, and the residency of the voter casting in it. It reads
    like a `Round` to the ballot checks (`votes.choices`), which ask only for these attributes."""

    id: int
    community: audit.Ref  # what audit events name; `.id` is the community's id
    slug: str
    ballot_type: BallotType
    ballot_per_household: bool
    max_approvals: int | None
    points_total: int | None
    points_per_project: int | None
    must_fit_budget: bool
    budget: int
    options: list[Option]
    residency: VoterResidency
    salt: bytes | None  # the round's sealing salt, None before its first ballot

    @property
    def community_id(self) -> int:
        return self.community.id


_ROUND, _COMMUNITY, _RESIDENCY, _PROPOSAL = (Round.__table__, Community.__table__, Residency.__table__,
                                             Proposal.__table__)
# The voter's first verified residency in the round's community (the one `services.voter_residency` picks).
_VERIFIED_RESIDENCY = select(func.min(_RESIDENCY.c.id)).where(
    _RESIDENCY.c.user_id == bindparam("user_id"), _RESIDENCY.c.community_id == _ROUND.c.community_id,
    _RESIDENCY.c.status == ResidencyStatus.verified).correlate(_ROUND).scalar_subquery()
# One row per project on the ballot (one row with no project when the ballot is empty), each carrying
# the round, the community's slug, the residency and the salt: a few repeated columns cost less than a
# statement. The round's row is locked FOR SHARE (PostgreSQL; SQLite ignores it).
_BALLOT = (
    select(_ROUND.c.id, _ROUND.c.community_id, _ROUND.c.phase, _ROUND.c.voting_closed_at, _ROUND.c.ballot_type,
           _ROUND.c.ballot_per_household, _ROUND.c.max_approvals, _ROUND.c.points_total,
           _ROUND.c.points_per_project, _ROUND.c.must_fit_budget, _ROUND.c.budget, _COMMUNITY.c.slug,
           _RESIDENCY.c.id.label("residency_id"), _RESIDENCY.c.household_key, _RESIDENCY.c.building_id,
           _PROPOSAL.c.id.label("option_id"), _PROPOSAL.c.title.label("option_title"),
           _PROPOSAL.c.cost.label("option_cost"), secrecy.SALT_OF_SCOPE)
    .join_from(_ROUND, _COMMUNITY, _COMMUNITY.c.id == _ROUND.c.community_id)
    .outerjoin(_RESIDENCY, _RESIDENCY.c.id == _VERIFIED_RESIDENCY)
    .outerjoin(_PROPOSAL, and_(_PROPOSAL.c.round_id == _ROUND.c.id, _PROPOSAL.c.status == ProposalStatus.on_ballot))
    .where(_ROUND.c.id == bindparam("round_id"))
    .order_by(_PROPOSAL.c.id)
    .with_for_update(read=True, of=_ROUND)
)
# PostgreSQL: the same, then the audit writers' lock. The outer column is computed from the subquery's
# rows, which come out only once the round's row is locked: round first, audit second, as every writer
# takes them (the reverse order could deadlock with closing). A later statement of the transaction
# reads the audit head after the lock (`services._participate`).
_BALLOT_AND_AUDIT_LOCK = select(*_BALLOT.subquery().c, audit.LOCK_COLUMN)


def ballot_to_cast(slug: str, round_id: int, user_id: int) -> BallotToCast | None:
    """The ballot this user casts in this round of this community, read and locked in one statement (see
    the module's docstring), or None unless voting is open there and the user is a verified resident."""
    statement = _BALLOT_AND_AUDIT_LOCK if dialect_name() == "postgresql" else _BALLOT
    rows = db.session.connection().execute(
        statement, {"round_id": round_id, "user_id": user_id, "scope": ballot_scope(round_id)}).all()
    if not rows:
        return None
    first = rows[0]
    if first.slug != slug or not perm.is_voting_open(first) or first.residency_id is None:
        return None
    return BallotToCast(
        id=first.id, community=audit.Ref("Community", first.community_id), slug=first.slug,
        ballot_type=first.ballot_type, ballot_per_household=first.ballot_per_household,
        max_approvals=first.max_approvals, points_total=first.points_total,
        points_per_project=first.points_per_project, must_fit_budget=first.must_fit_budget, budget=first.budget,
        options=[Option(row.option_id, row.option_title, row.option_cost) for row in rows
                 if row.option_id is not None],
        residency=VoterResidency(user_id, first.household_key, first.building_id), salt=first.salt)


def ballot_scope(round_id: int) -> str:
    """Where a round's web ballots are sealed until voting closes (`core.secrecy`)."""
    return f"ballots:{round_id}"
