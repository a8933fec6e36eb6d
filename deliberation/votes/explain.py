"""Turn the counting rule's data-only steps into sentences in the interface language."""

from __future__ import annotations

from fractions import Fraction

from flask_babel import gettext as _

from deliberation.proposals.models import BallotType, Round
from deliberation.votes.models import RoundResult

# The results spreadsheet's column for what each project received.
SCORE_COLUMN = {BallotType.approval: "赞成票", BallotType.k_approval: "赞成票", BallotType.cumulative: "积分",
                BallotType.ranked: "排序得分"}


def _yuan(amount) -> str:
    return _("%(amount)s yuan", amount=f"{int(amount):,}")


def _money(fraction_text: str | None) -> str:
    """A Fraction stored as 'n/d', shown to the fen (0.01 yuan)."""
    if fraction_text is None:
        return "—"
    value = Fraction(fraction_text)
    return _("%(amount)s yuan", amount=f"{float(value):,.2f}")


def score_label(round_: Round):
    """How the results page says what one project received: approvals, points or ranking points."""
    if round_.ballot_type == BallotType.cumulative:
        return lambda n: _("%(n)d points", n=n)
    if round_.ballot_type == BallotType.ranked:
        return lambda n: _("%(n)d ranking points", n=n)
    return lambda n: _("%(n)d approvals", n=n)


def _score(step: dict, scores: dict[str, int], round_: Round | None) -> int:
    """What the project received on the ballots: the result's score for points and ranks, the step's
    approvals (supporters) otherwise."""
    if round_ is not None and round_.ballot_type in (BallotType.cumulative, BallotType.ranked):
        return int(scores.get(str(step["project_id"]), step.get("approvals") or 0))
    return int(step.get("approvals") or 0)


def _approval_sentence(kind: str, title: str, step: dict) -> str:
    if kind == "funded":
        return _("%(title)s: %(n)d approvals, costs %(cost)s; %(left)s were left, so it is funded "
                 "(%(after)s remain).", title=title, n=step["approvals"], cost=_yuan(step["cost"]),
                 left=_yuan(step["remaining_before"]), after=_yuan(step["remaining_after"]))
    return _("%(title)s: %(n)d approvals, but it costs %(cost)s and only %(left)s were left, "
             "so it is skipped.", title=title, n=step["approvals"], cost=_yuan(step["cost"]),
             left=_yuan(step["remaining_before"]))


def describe(result: RoundResult, titles: dict[int, str], round_: Round | None = None) -> list[str]:
    """One sentence per step, saying why each project was funded or not."""
    sentences = []
    supporters = (result.details or {}).get("supporters") or {}
    scored = round_ is not None and round_.ballot_type in (BallotType.cumulative, BallotType.ranked)
    got = score_label(round_) if round_ is not None else (lambda n: _("%(n)d approvals", n=n))
    for step in result.steps:
        title = titles.get(int(step["project_id"]), step["project_id"]) if step.get("project_id") else ""
        kind = step["kind"]
        received = got(_score(step, result.approvals, round_)) if step.get("project_id") else ""
        # Equal Shares speaks of supporters (who gave the project anything), whatever the ballot's scores.
        backers = int(supporters.get(str(step.get("project_id")), step.get("approvals") or 0))
        if kind in ("funded", "skipped_does_not_fit") and result.rule == "greedy" and not scored:
            sentences.append(_approval_sentence(kind, title, step))
        elif kind == "funded" and result.rule == "greedy":
            sentences.append(_("%(title)s: %(received)s, costs %(cost)s; %(left)s were left, so it is funded "
                               "(%(after)s remain).", title=title, received=received, cost=_yuan(step["cost"]),
                               left=_yuan(step["remaining_before"]), after=_yuan(step["remaining_after"])))
        elif kind == "skipped_does_not_fit":
            sentences.append(_("%(title)s: %(received)s, but it costs %(cost)s and only %(left)s were left, "
                               "so it is skipped.", title=title, received=received, cost=_yuan(step["cost"]),
                               left=_yuan(step["remaining_before"])))
        elif kind == "funded":
            sentences.append(_("%(title)s: its %(n)d supporters share the cost of %(cost)s; each pays at most "
                               "%(price)s. Funded (%(after)s of the budget remain).", title=title,
                               n=backers, cost=_yuan(step["cost"]), price=_money(step.get("price")),
                               after=_yuan(step["remaining_after"])))
        elif kind == "not_affordable":
            sentences.append(_("%(title)s: %(n)d supporters, but together they had only %(money)s left of their "
                               "equal shares, less than its cost of %(cost)s. Not funded.", title=title,
                               n=backers, money=_money(step.get("supporters_money")),
                               cost=_yuan(step["cost"])))
        elif kind == "no_supporters":
            sentences.append(_("%(title)s: nobody approved it, so it is not funded.", title=title))
        elif kind == "completion_increment":
            sentences.append(_("Each voter's equal share started at %(start)s; it was raised by whole yuan "
                               "%(k)d times to %(end)s so that more of the budget is used.",
                               start=_money(step.get("initial_voter_budget")), k=step.get("increments") or 0,
                               end=_money(step.get("voter_budget"))))
    return sentences


def rule_summary(result: RoundResult, round_: Round | None = None) -> str:
    """The counting rule in plain words, for the round's ballot type."""
    kind = round_.ballot_type if round_ is not None else BallotType.approval
    if result.rule == "greedy":
        if kind == BallotType.cumulative:
            return _("Projects are taken in order of the points they received (ties: the cheaper first); each one "
                     "is funded if it still fits in the budget that is left, otherwise it is skipped.")
        if kind == BallotType.ranked:
            return _("A ballot that ranks n projects gives its first choice n ranking points, its second n − 1, and so "
                     "on down to 1 for its last (Borda). Projects are taken in order of their ranking points "
                     "(ties: the cheaper first); each one is funded if it still fits in the budget that is left, "
                     "otherwise it is skipped.")
        return _("Projects are taken in order of approvals (ties: the cheaper first); each one is funded if it "
                 "still fits in the budget that is left, otherwise it is skipped.")
    if kind == BallotType.cumulative:
        return _("Method of Equal Shares: the budget is split equally among the voters; a project is funded when "
                 "the voters who gave it points can pay for it from their shares, each paying in proportion to "
                 "the points they gave; the project that costs its supporters least per point goes first.")
    return _("Method of Equal Shares: the budget is split equally among the voters; a project is funded when its "
             "supporters can pay for it from their shares, cheapest per supporter first.")
