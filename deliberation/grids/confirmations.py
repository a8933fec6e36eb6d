"""What the request's final buttons say before they act (see deliberation/core/confirm.py)."""

from __future__ import annotations

from flask_babel import gettext as _

from deliberation.core.confirm import Confirmation, confirmation
from deliberation.grids.models import ResidentRequest


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
