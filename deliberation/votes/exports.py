"""A counted round in Pabulib `.pb` format: the round's data, fed to the counting package's writer."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from deliberation.core.errors import DomainError
from deliberation.proposals.models import BallotType, Round, RoundPhase
from deliberation.votes import services
from deliberation.votes.counting import max_rank, tally_ballots, tally_rule


def _pb_date(moment) -> str | None:
    """A day as Pabulib writes it (dd.mm.yyyy), in the community's time zone."""
    if moment is None:
        return None
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%d.%m.%Y")


def pb_meta(round_: Round, *, costs: int | None = None) -> dict[str, str]:
    """The round's META (the writer adds counts, budget and vote type): what the round was, its ballot
    type's limits, its counting rule and voting days."""
    meta = {"description": round_.title, "country": "China", "unit": round_.community.name,
            "instance": str(round_.id), "rule": tally_rule(round_)}
    # The voting days; a round that never recorded when voting opened falls back to its creation day.
    opened = next((s.started_at for s in round_.steps if s.phase == RoundPhase.voting), None) or round_.created_at
    meta["date_begin"] = _pb_date(opened)
    meta["date_end"] = _pb_date(round_.voting_closed_at or opened)
    if round_.ballot_type in (BallotType.k_approval, BallotType.ranked) and round_.max_approvals:
        meta["max_length"] = str(round_.max_approvals)
    if round_.ballot_type in (BallotType.approval, BallotType.k_approval) and round_.must_fit_budget:
        meta["max_sum_cost"] = str(round_.budget)
    if round_.ballot_type == BallotType.cumulative:
        meta["max_points"] = str(round_.points_per_project)
        meta["max_sum_points"] = str(round_.points_total)
    meta["language"] = "zh"
    meta["currency"] = "CNY"
    if costs is not None and costs <= round_.budget:
        meta["fully_funded"] = "1"  # every project fits: Pabulib flags it rather than call the budget wrong
    return meta


def export_pb(round_: Round) -> str:
    """The closed round in Pabulib format, written by the counting package: projects with their
    supporters (and score for points and ranks), ballots by receipt hash (a cumulative ballot's points in
    the `points` column, a ranked ballot's ids best first), type, rule and `selected` (the final result,
    override included). Ballots that chose nothing are left out of VOTES and counted in a META comment."""
    from deliberation.tally import Project, election_from_ballots, write_pb

    result = services.result_of(round_)
    if result is None:
        raise DomainError(_l("Only a counted round can be exported."))
    items = services.ballot_items_with_outcome(round_)
    ballots = services.round_ballots(round_)
    election = election_from_ballots(
        round_.budget, [Project(str(p.id), p.cost, p.title) for p in items], tally_ballots(round_, ballots),
        vote_type=round_.ballot_type.pb_vote_type, meta=pb_meta(round_, costs=sum(p.cost for p in items)),
        selected={str(w) for w in result.final_winners}, voter_ids=[b.receipt_hash for b in ballots],
        max_rank=max_rank(round_))
    return write_pb(election)
