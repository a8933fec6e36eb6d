"""Per-person notification settings: e-mail address, quiet hours, channels per kind of event."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from deliberation.auth.models import User
from deliberation.core import audit
from deliberation.core.errors import DomainError
from deliberation.extensions import db
from deliberation.notifications.kinds import KINDS
from deliberation.notifications.models import NotificationPreference, NotificationSettings


@dataclass
class KindChoice:
    kind: str
    label: object
    email: bool
    sms: bool


def settings_of(user: User) -> NotificationSettings:
    """The user's settings row (a new, unsaved one with the defaults if they never saved any)."""
    return db.session.get(NotificationSettings, user.id) or NotificationSettings(
        user_id=user.id, email="", quiet_from=22, quiet_until=7, daily_digest=False)


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
    settings.email, settings.quiet_from, settings.quiet_until = email, quiet_from, quiet_until
    settings.daily_digest = daily_digest
    db.session.add(settings)
    for kind, (by_email, by_sms) in channels.items():
        if kind not in KINDS:
            continue
        _set_channels(user.id, kind, email=by_email, sms=by_sms)
    db.session.flush()
    audit.record("notifications.preferences", user, actor=user, summary="notification preferences changed")


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
