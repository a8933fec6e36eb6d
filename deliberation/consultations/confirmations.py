"""What the meeting's irreversible buttons say before they act (deliberation/core/confirm.py)."""

from __future__ import annotations

from flask_babel import gettext as _

from deliberation.consultations.models import ConsultationSession, Motion
from deliberation.core.confirm import Confirmation, confirmation


@confirmation
def notice_session(session: ConsultationSession) -> Confirmation:
    """Publishing the notice: it reaches the notice board and the members and cannot be withdrawn."""
    return Confirmation(_("Publish the notice of %(title)s?", title=session.title),
                        _("The notice goes on the notice board and to every member at once and cannot be "
                          "withdrawn; the notice period starts now."),
                        _("Publish the notice"))


@confirmation
def cancel_session(session: ConsultationSession) -> Confirmation:
    """Cancelling: the session will not take place."""
    return Confirmation(_("Cancel %(title)s?", title=session.title),
                        _("The session will not take place and cannot be reopened; the cancellation and its reason "
                          "stay public and everyone told of the notice is told."),
                        _("Cancel the session"))


@confirmation
def adjourn_session(session: ConsultationSession) -> Confirmation:
    """Adjourning: the meeting ends."""
    return Confirmation(_("Adjourn the session?"),
                        _("The meeting ends: no one can sign in, speak or vote any more, and no motion can be "
                          "opened."),
                        _("Adjourn the session"))


@confirmation
def close_motion(motion: Motion) -> Confirmation:
    """Closing voting on a motion."""
    return Confirmation(_("Close voting on this motion and count?"),
                        _("No one can vote on it any more; the outcome follows from the council's rules and "
                          "cannot be changed."),
                        _("Close voting and show the outcome"))


@confirmation
def publish_minutes(session: ConsultationSession) -> Confirmation:
    """Publishing the minutes: afterwards only a public correction changes them."""
    return Confirmation(_("Publish the minutes?"),
                        _("Everyone can read them at once; afterwards they can only be corrected with a public "
                          "reason."),
                        _("Publish the minutes"))
