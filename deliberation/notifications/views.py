"""The inbox, notification preferences, one-click unsubscribe and the office's failed deliveries."""

from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from deliberation.auth.models import User
from deliberation.communities.loaders import get_community
from deliberation.core import live
from deliberation.core.errors import DomainError
from deliberation.core.forms import safe_next
from deliberation.core.htmx import redirect_to, render_page
from deliberation.core.permissions import can_see_failed_deliveries, require
from deliberation.extensions import csrf, db
from deliberation.notifications import preferences, services
from deliberation.notifications.forms import SettingsForm
from deliberation.notifications.kinds import KINDS
from deliberation.notifications.mail import ALL_KINDS, read_confirm_token, read_unsubscribe_token
from deliberation.notifications.models import OutboxMessage

bp = Blueprint("notifications", __name__)


@bp.get("/inbox")
@login_required
def inbox():
    """My notifications, newest first."""
    return render_page("notifications/inbox.html", "notifications/_inbox_list.html",
                       items=services.inbox_of(current_user), unread=services.unread_count(current_user))


@bp.get("/inbox/unread")
@login_required
def unread():
    """The unread count for the header (loaded and refreshed by htmx): 304 while it is unchanged."""
    unread = services.unread_count(current_user)
    etag = live.etag_for("unread", current_user.id, unread)
    if (unchanged := live.not_modified(etag)) is not None:
        return unchanged
    return live.conditional(render_page("notifications/_unread_badge.html", "notifications/_unread_badge.html",
                                        unread=unread), etag)


@bp.post("/inbox/<int:item_id>/read")
@login_required
def read(item_id: int):
    """Mark one of my notifications read and open what it is about."""
    from deliberation.notifications.models import InboxItem

    item = db.get_or_404(InboxItem, item_id)
    if item.user_id != current_user.id:
        abort(404)
    services.mark_read(current_user, item_id=item.id)
    db.session.commit()
    return redirect_to(safe_next(item.link, url_for("notifications.inbox")))


@bp.post("/inbox/read-all")
@login_required
def read_all():
    """Mark all my notifications read."""
    services.mark_read(current_user)
    db.session.commit()
    return redirect_to(url_for("notifications.inbox"))


@bp.route("/notifications/preferences", methods=["GET", "POST"])
@login_required
def settings():
    """My e-mail address, quiet hours and the channels for each kind of event."""
    saved = preferences.settings_of(current_user)
    form = SettingsForm(obj=saved)
    choices = preferences.choices_of(current_user)
    if form.validate_on_submit():
        channels = {kind: (f"email_{kind}" in request.form, f"sms_{kind}" in request.form) for kind in KINDS}
        try:
            preferences.save_preferences(current_user, email=(form.email.data or "").strip(),
                                         quiet_from=form.quiet_from.data, quiet_until=form.quiet_until.data,
                                         channels=channels, daily_digest=form.daily_digest.data)
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "error")
        else:
            db.session.commit()
            flash(_("Notification preferences saved."), "success")
            return redirect_to(url_for("notifications.settings"))
    status = 422 if request.method == "POST" else 200
    return render_page("notifications/preferences.html", "notifications/preferences.html", status_code=status,
                       form=form, choices=choices, saved=saved)


@bp.post("/notifications/confirm-email/resend")
@login_required
def resend_confirmation():
    """E-mail the confirmation link again (at most one a minute)."""
    preferences.send_email_confirmation(current_user)
    db.session.commit()
    flash(_("We sent the link again. Open it from your mailbox."), "success")
    return redirect_to(url_for("notifications.settings"))


@bp.route("/notifications/confirm-email/<token>", methods=["GET", "POST"])
def confirm_email(token: str):
    """The link in the confirmation e-mail: asks once (mail scanners open links), the POST proves the address."""
    named = read_confirm_token(token)
    user = db.session.get(User, named[0]) if named else None
    if user is None:
        return render_page("notifications/confirm_email.html", "notifications/confirm_email.html", address="",
                           token=token, done=False, invalid=True, status_code=404)
    done = False
    if request.method == "POST":
        try:
            preferences.confirm_email(user, named[1])
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "error")
        else:
            db.session.commit()
            done = True
    return render_page("notifications/confirm_email.html", "notifications/confirm_email.html", address=named[1],
                       token=token, done=done, invalid=False)


@bp.get("/notifications/unsubscribe/<token>")
def unsubscribe_page(token: str):
    """Ask once before stopping e-mails (mail scanners follow links; only a POST unsubscribes)."""
    _user, kind = _from_token(token)
    return render_page("notifications/unsubscribe.html", "notifications/unsubscribe.html",
                       token=token, label=_kind_label(kind), done=False)


@bp.post("/notifications/unsubscribe/<token>")
@csrf.exempt  # RFC 8058 one-click: the mail client posts without a form; the signed token is the proof
def unsubscribe(token: str):
    """Stop e-mails of one kind for the person the signed token names."""
    user, kind = _from_token(token)
    preferences.unsubscribe_email(user, kind)
    db.session.commit()
    return render_page("notifications/unsubscribe.html", "notifications/unsubscribe.html",
                       token=token, label=_kind_label(kind), done=True)


def _kind_label(kind: str):
    return KINDS[kind].label if kind in KINDS else _("all notifications")


def _from_token(token: str) -> tuple[User, str]:
    named = read_unsubscribe_token(token)
    if named is None or (named[1] not in KINDS and named[1] != ALL_KINDS):
        abort(404)
    user = db.session.get(User, named[0])
    if user is None:
        abort(404)
    return user, named[1]


@bp.get("/c/<slug>/admin/deliveries")
@login_required
def failed(slug: str):
    """The community's notifications that could not be delivered."""
    community = get_community(slug)
    require(can_see_failed_deliveries(current_user, community))
    return render_page("notifications/failed.html", "notifications/failed.html", community=community,
                       messages=services.failed_deliveries(community.id))


@bp.post("/c/<slug>/admin/deliveries/<int:message_id>/retry")
@login_required
def retry(slug: str, message_id: int):
    """Try a failed delivery again."""
    community = get_community(slug)
    require(can_see_failed_deliveries(current_user, community))
    message = db.get_or_404(OutboxMessage, message_id)
    if message.community_id != community.id:
        abort(404)
    try:
        services.retry_delivery(message, community=community, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("The delivery will be tried again."), "success")
    return redirect_to(url_for("notifications.failed", slug=slug))
