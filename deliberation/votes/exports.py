"""A counted round in Pabulib `.pb` format: the round's data, fed to the counting package's writer."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from deliberation.core.errors import DomainError
from deliberation.proposals.models import BallotType, Round, RoundPhase
from deliberation.votes import choices as ballot_choices
from deliberation.votes import services
from deliberation.votes.counting import tally_rule


def _pb_date(moment) -> str | None:
    """A day as Pabulib writes it (dd.mm.yyyy), in the community's time zone."""
    if moment is None:
        return None
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%d.%m.%Y")


def pb_meta(round_: Round, *, projects: int, votes: int, costs: int | None = None) -> dict[str, str]:
    """The META section: what the round was, its ballot type with its limits, and its counting rule."""
    meta = {"description": round_.title, "country": "China", "unit": round_.community.name,
            "instance": str(round_.id), "num_projects": str(projects), "num_votes": str(votes),
            "budget": str(round_.budget), "vote_type": round_.ballot_type.pb_vote_type,
            "rule": tally_rule(round_)}
    opened = next((s.started_at for s in round_.steps if s.phase == RoundPhase.voting), None)
    for key, moment in (("date_begin", opened), ("date_end", round_.voting_closed_at)):
        if _pb_date(moment):
            meta[key] = _pb_date(moment)
    if round_.ballot_type in (BallotType.k_approval, BallotType.ranked) and round_.max_approvals:
        meta["max_length"] = str(round_.max_approvals)
    if round_.ballot_type == BallotType.ranked:
        meta["scoring_fn"] = "Borda"
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
    """The closed round in Pabulib format: projects, ballots by receipt hash, type, rule and `selected`.
    A cumulative ballot's points go in the VOTES `points` column, in the order of its `vote` ids; a
    ranked ballot's `vote` lists its ids best first."""
    from deliberation.tally import PbElection, PbProject, PbVoter, write_pb

    result = services.result_of(round_)
    if result is None:
        raise DomainError(_l("Only a counted round can be exported."))
    items = services.ballot_items_with_outcome(round_)
    ballots = services.round_ballots(round_)
    selected = set(result.final_winners)
    supporters = (result.details or {}).get("supporters") or result.approvals
    voters = []
    for b in ballots:
        if round_.ballot_type == BallotType.cumulative:
            voters.append(PbVoter(b.receipt_hash, tuple(str(pid) for pid, _n in b.choices),
                                  {"points": ",".join(str(n) for _pid, n in b.choices)}))
        else:
            voters.append(PbVoter(b.receipt_hash, tuple(str(pid) for pid in b.choices)))
    projects = []
    for p in items:
        extra = {}
        if not ballot_choices.is_approval(round_):
            extra["score"] = str(result.approvals.get(str(p.id), 0))
        projects.append(PbProject(str(p.id), p.cost, p.title, supporters.get(str(p.id), 0), int(p.id in selected),
                                  extra))
    election = PbElection(meta=pb_meta(round_, projects=len(items), votes=len(ballots),
                                                costs=sum(p.cost for p in items)), projects=projects,
                          voters=voters)
    return write_pb(election)
