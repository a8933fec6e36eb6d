"""Turn the counting rule's data-only steps into sentences in the interface language."""

from __future__ import annotations

from fractions import Fraction

from flask_babel import gettext as _

from deliberation.votes.models import RoundResult


def _yuan(amount) -> str:
    return _("%(amount)s yuan", amount=f"{int(amount):,}")


def _money(fraction_text: str | None) -> str:
    """A Fraction stored as 'n/d', shown to the fen (0.01 yuan)."""
    if fraction_text is None:
        return "—"
    value = Fraction(fraction_text)
    return _("%(amount)s yuan", amount=f"{float(value):,.2f}")


def describe(result: RoundResult, titles: dict[int, str]) -> list[str]:
    """One sentence per step, saying why each project was funded or not."""
    sentences = []
    for step in result.steps:
        title = titles.get(int(step["project_id"]), step["project_id"]) if step.get("project_id") else ""
        kind = step["kind"]
        if kind == "funded" and result.rule == "greedy":
            sentences.append(_("%(title)s: %(n)d approvals, costs %(cost)s; %(left)s were left, so it is funded "
                               "(%(after)s remain).", title=title, n=step["approvals"], cost=_yuan(step["cost"]),
                               left=_yuan(step["remaining_before"]), after=_yuan(step["remaining_after"])))
        elif kind == "skipped_does_not_fit":
            sentences.append(_("%(title)s: %(n)d approvals, but it costs %(cost)s and only %(left)s were left, "
                               "so it is skipped.", title=title, n=step["approvals"], cost=_yuan(step["cost"]),
                               left=_yuan(step["remaining_before"])))
        elif kind == "funded":
            sentences.append(_("%(title)s: its %(n)d supporters share the cost of %(cost)s; each pays at most "
                               "%(price)s. Funded (%(after)s of the budget remain).", title=title,
                               n=step["approvals"], cost=_yuan(step["cost"]), price=_money(step.get("price")),
                               after=_yuan(step["remaining_after"])))
        elif kind == "not_affordable":
            sentences.append(_("%(title)s: %(n)d supporters, but together they had only %(money)s left of their "
                               "equal shares, less than its cost of %(cost)s. Not funded.", title=title,
                               n=step["approvals"], money=_money(step.get("supporters_money")),
                               cost=_yuan(step["cost"])))
        elif kind == "no_supporters":
            sentences.append(_("%(title)s: nobody approved it, so it is not funded.", title=title))
        elif kind == "completion_increment":
            sentences.append(_("Each voter's equal share started at %(start)s; it was raised by whole yuan "
                               "%(k)d times to %(end)s so that more of the budget is used.",
                               start=_money(step.get("initial_voter_budget")), k=step.get("increments") or 0,
                               end=_money(step.get("voter_budget"))))
    return sentences


def rule_summary(result: RoundResult) -> str:
    if result.rule == "greedy":
        return _("Projects are taken in order of approvals (ties: the cheaper first); each one is funded if it "
                 "still fits in the budget that is left, otherwise it is skipped.")
    return _("Method of Equal Shares: the budget is split equally among the voters; a project is funded when its "
             "supporters can pay for it from their shares, cheapest per supporter first.")
