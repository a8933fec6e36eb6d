"""What the request's final buttons say before they act (see deliberation/core/confirm.py)."""

from __future__ import annotations

from flask_babel import gettext as _

from deliberation.core.confirm import Confirmation, confirmation
from deliberation.grids.models import HandlingUnit, ResidentRequest


@confirmation
def answer_request(req: ResidentRequest) -> Confirmation:
    """Answering ends the handling: the resident is asked to rate it."""
    return Confirmation(_("Send this answer to the resident?"),
                        _("The request is then answered: it cannot be handled further, and the resident is asked "
                          "to say whether it was resolved."),
                        _("Send the answer"))


@confirmation
def close_request(req: ResidentRequest, callback: bool = False) -> Confirmation:
    """The resident's outcome (or the office's call-back) closes the request for good."""
    return Confirmation(_("Record this call-back?") if callback else _("Send your rating?"),
                        _("The request is closed with this outcome, which cannot be changed afterwards."),
                        _("Record the call-back") if callback else _("Send my rating"))


@confirmation
def deactivate_unit(unit: HandlingUnit, open_requests: int = 0) -> Confirmation:
    """A deactivated unit is no longer offered for whistling; what it handled stays."""
    consequence = _("Grid workers can no longer whistle requests to it. Its requests, timeline and rates stay, "
                    "and you can list it again later.")
    if open_requests:
        consequence += " " + _("%(n)d open requests are with it now: they stay with it until a grid worker "
                               "whistles them elsewhere.", n=open_requests)
    return Confirmation(_("Deactivate %(unit)s?", unit=unit.name), consequence, _("Deactivate the unit"))
