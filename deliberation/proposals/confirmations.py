"""What the round's irreversible buttons say before they act (see deliberation/core/confirm.py)."""

from __future__ import annotations

from flask_babel import gettext as _

from deliberation.core.confirm import Confirmation, confirmation
from deliberation.proposals.models import Round, RoundPhase


@confirmation
def advance_round(round_: Round) -> Confirmation:
    """Moving a round on: the question, the consequence and the button depend on the phase it leaves."""
    phase = round_.phase
    if phase == RoundPhase.collecting:
        return Confirmation(_("End collection and start screening?"),
                            _("Residents can no longer propose projects in this round."),
                            _("End collection, start screening"))
    if phase == RoundPhase.screening:
        return Confirmation(_("End screening and send the list to the Party branch?"),
                            _("The screening is final: no proposal can be accepted, rejected or merged any more."),
                            _("End screening, send for review"))
    if phase == RoundPhase.branch_review:
        return Confirmation(_("Approve the list and open voting?"),
                            _("The accepted projects go on the ballot and the ballot rules are locked; "
                              "neither can change afterwards."),
                            _("Approve the list, open voting"))
    if phase == RoundPhase.voting:
        return Confirmation(_("Close voting and count the ballots?"),
                            _("No one can vote any more; the ballots are counted and the results published."),
                            _("Close voting and count"))
    if phase == RoundPhase.publicity:
        return Confirmation(_("End publicity and start implementation?"),
                            _("Residents can no longer object; the funded projects move to implementation."),
                            _("End publicity, start implementation"))
    if phase == RoundPhase.implementing:
        return Confirmation(_("Close the round?"),
                            _("The round is closed and cannot be reopened."),
                            _("Close the round"))
    target = round_.next_phase()
    return Confirmation(_("Move the round to the next phase? This cannot be undone."),
                        _("The round cannot go back to the phase it leaves."),
                        _("Move to: %(phase)s", phase=target.label if target else ""))
