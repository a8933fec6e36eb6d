"""Per-person notification settings: e-mail address, quiet hours, channels per kind of event."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from deliberation.auth.models import User
from deliberation.core import audit
from deliberation.core.errors import DomainError
from deliberation.core.models import insert_unless_duplicate, utcnow
from deliberation.extensions import db
from deliberation.notifications.kinds import EMAIL_CONFIRM, KINDS
from deliberation.notifications.mail import CONFIRM_KIND, confirm_url
from deliberation.notifications.models import (
    Channel,
    DeliveryStatus,
    NotificationPreference,
    NotificationSettings,
    OutboxMessage,
)


@dataclass
class KindChoice:
    kind: str
    label: object
    email: bool
    sms: bool


def settings_of(user: User) -> NotificationSettings:
    """The user's settings row (a new, unsaved one with the defaults if they never saved any)."""
    return db.session.get(NotificationSettings, user.id) or NotificationSettings(
        user_id=user.id, email="", email_confirmed_at=None, quiet_from=22, quiet_until=7, daily_digest=False)


def choices_of(user: User) -> list[KindChoice]:
    """Each kind of event with the channels the user receives it on (saved or default)."""
    saved = {p.kind: p for p in db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user.id))}
    return [KindChoice(kind.name, kind.label, saved[kind.name].email if kind.name in saved else kind.email,
                       saved[kind.name].sms if kind.name in saved else kind.sms)
            for kind in KINDS.values()]


def save_preferences(user: User, *, email: str, quiet_from: int, quiet_until: int,
                     channels: dict[str, tuple[bool, bool]], daily_digest: bool = False) -> None:
    """Save the user's address, quiet hours and (e-mail, SMS) choice per kind of event."""
    if not all(0 <= hour <= 23 for hour in (quiet_from, quiet_until)):
        raise DomainError(_l("Quiet hours are whole hours from 0 to 23."))
    settings = settings_of(user)
    new_address = email != settings.email
    if new_address:  # a new address is unproven until its owner opens the link sent to it
        settings.email_confirmed_at = None
    settings.email, settings.quiet_from, settings.quiet_until = email, quiet_from, quiet_until
    settings.daily_digest = daily_digest
    db.session.add(settings)
    for kind, (by_email, by_sms) in channels.items():
        if kind not in KINDS:
            continue
        _set_channels(user.id, kind, email=by_email, sms=by_sms)
    db.session.flush()
    audit.record("notifications.preferences", user, actor=user,
                 summary="notification preferences changed" + ("; new e-mail address" if new_address else ""))
    if new_address and email:
        send_email_confirmation(user)


def send_email_confirmation(user: User) -> None:
    """Write the e-mail with the link that proves the user's address into the outbox (caller's transaction;
    at most one a minute). Nothing else is e-mailed to the address until the link is opened."""
    from deliberation.notifications.services import render

    settings = settings_of(user)
    if not settings.email or settings.email_confirmed_at is not None:
        return
    now = utcnow()
    locale = user.locale if user.locale in current_app.config["LANGUAGES"] else current_app.config[
        "BABEL_DEFAULT_LOCALE"]
    subject, body = render(EMAIL_CONFIRM, locale, {"address": settings.email,
                                                   "link": confirm_url(user.id, settings.email)})
    db.session.execute(insert_unless_duplicate(OutboxMessage.__table__), [{
        "user_id": user.id, "channel": Channel.email.value, "kind": CONFIRM_KIND, "community_id": None,
        # One a minute per address: a double click sends one, a corrected address gets its own.
        "key": f"email-confirm:{user.id}:{hashlib.sha256(settings.email.encode()).hexdigest()[:16]}:"
               f"{now:%Y%m%dT%H%M}:email", "address": settings.email, "locale": locale,
        "subject": subject, "body": body, "status": DeliveryStatus.pending.value, "attempts": 0,
        "next_attempt_at": now, "delivered_at": None, "provider_id": "", "last_error": "", "digest": False,
        "created_at": now}])
    audit.record("notifications.email_confirmation_sent", user, actor=user, summary="confirmation link e-mailed")


def confirm_email(user: User, address: str) -> None:
    """The user opened the link sent to `address`: it is proven, if it is still their address."""
    settings = db.session.get(NotificationSettings, user.id)
    if settings is None or settings.email != address:
        raise DomainError(_l("This link is for an address that is no longer in your notification settings."))
    if settings.email_confirmed_at is not None:
        return
    settings.email_confirmed_at = utcnow()
    db.session.flush()
    audit.record("notifications.email_confirmed", user, actor=user, summary="e-mail address confirmed")


def unsubscribe_email(user: User, kind: str) -> None:
    """Stop e-mails of `kind` (or of every kind: "*", a digest's link) for `user` (the one-click link in
    every e-mail)."""
    if kind not in KINDS and kind != "*":
        raise DomainError(_l("This link is not valid."))
    for current in choices_of(user):
        if kind in ("*", current.kind):
            _set_channels(user.id, current.kind, email=False, sms=current.sms)
    db.session.flush()
    audit.record("notifications.unsubscribe", user, actor=user, summary=f"no more e-mail for {kind}")


def _set_channels(user_id: int, kind: str, *, email: bool, sms: bool) -> None:
    preference = db.session.get(NotificationPreference, (user_id, kind))
    if preference is None:
        preference = NotificationPreference(user_id=user_id, kind=kind)
        db.session.add(preference)
    preference.email, preference.sms = email, sms
