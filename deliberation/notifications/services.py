"""Write notifications: inbox items and outbox deliveries, in the caller's transaction."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from deliberation.auth.models import User
from deliberation.core import audit
from deliberation.core.errors import DomainError
from deliberation.core.models import insert_unless_duplicate, utcnow
from deliberation.extensions import db
from deliberation.notifications.kinds import KINDS, Kind
from deliberation.notifications.models import (
    Channel,
    DeliveryStatus,
    InboxItem,
    NotificationPreference,
    NotificationSettings,
    OutboxMessage,
)

log = logging.getLogger(__name__)
BEIJING = ZoneInfo("Asia/Shanghai")
_CHUNK = 2000  # recipients per query: well under SQLite's bound-parameter limit
# Only plain values reach a message: no ORM object (a ballot, a survey answer) can leak its choices.
_PLAIN = (str, int, float, date, datetime)


def notify(recipients: Iterable[User | int], kind: str, *, key: str, link: str = "", context: dict | None = None,
           community_id: int | None = None, emergency: bool = False) -> int:
    """Write one inbox item per recipient and one outbox row per channel they receive `kind` on.

    Flushes into the caller's transaction and never commits: a rolled-back change sends nothing, a
    committed one loses nothing. `key` names the event; the same event written twice is ignored.
    Returns the number of outbox rows written."""
    spec = KINDS[kind]
    context = dict(context or {})
    for name, value in context.items():
        if not isinstance(value, _PLAIN):
            raise TypeError(f"notification context {name!r} must be plain text or a number")
    ids = sorted({r if isinstance(r, int) else r.id for r in recipients})
    if not ids:
        return 0
    db.session.flush()
    now = utcnow()
    rendered: dict[str, tuple[str, str]] = {}  # one rendering per language, not per recipient
    written = 0
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        inbox_rows, outbox_rows = [], []
        for user_id, locale, phone, email, confirmed, quiet_from, quiet_until, digest, pref_email, pref_sms in (
                _recipients(chunk, kind)):
            locale = locale if locale in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]
            if locale not in rendered:
                rendered[locale] = render(spec, locale, context)
            subject, body = rendered[locale]
            row_key = f"{key}:{user_id}"
            inbox_rows.append({"user_id": user_id, "kind": kind, "key": row_key, "title": subject, "body": body,
                               "link": link, "created_at": now, "read_at": None})
            common = {"user_id": user_id, "kind": kind, "community_id": community_id, "locale": locale,
                      "subject": subject, "body": _with_link(body, link), "attempts": 0, "provider_id": "",
                      "last_error": "", "created_at": now, "delivered_at": None, "digest": False}
            # The inbox is delivered by this very transaction: its time is the notice's in-app time.
            outbox_rows.append({**common, "channel": Channel.inbox.value, "key": f"{row_key}:inbox", "address": "",
                                "status": DeliveryStatus.sent.value, "next_attempt_at": now, "delivered_at": now})
            due = now if emergency else after_quiet_hours(now, quiet_from, quiet_until)
            wants_email = spec.email if pref_email is None else pref_email
            wants_sms = spec.sms if pref_sms is None else pref_sms
            if email and confirmed and wants_email:  # only to an address proven by its link
                held = bool(digest) and not emergency
                outbox_rows.append({**common, "channel": Channel.email.value, "key": f"{row_key}:email",
                                    "address": email, "status": DeliveryStatus.pending.value, "digest": held,
                                    "next_attempt_at": next_digest_at(now) if held else due})
            if phone and (wants_sms or emergency):
                outbox_rows.append({**common, "channel": Channel.sms.value, "key": f"{row_key}:sms",
                                    "address": phone, "status": DeliveryStatus.pending.value, "next_attempt_at": due})
        if inbox_rows:
            db.session.execute(insert_unless_duplicate(InboxItem.__table__), inbox_rows)
        if outbox_rows:
            db.session.execute(insert_unless_duplicate(OutboxMessage.__table__), outbox_rows)
        written += len(outbox_rows)
    log.info("notification %s (%s) written for %s recipients", kind, key, len(ids))
    return written


def _recipients(user_ids: list[int], kind: str):
    """(id, locale, phone, e-mail, when it was proven, quiet hours, digest, e-mail and SMS preference for
    `kind`) in one query."""
    settings, pref = NotificationSettings, NotificationPreference
    return db.session.execute(
        select(User.id, User.locale, User.phone, settings.email, settings.email_confirmed_at, settings.quiet_from,
               settings.quiet_until, settings.daily_digest, pref.email, pref.sms)
        .outerjoin(settings, settings.user_id == User.id)
        .outerjoin(pref, (pref.user_id == User.id) & (pref.kind == kind))
        .where(User.id.in_(user_ids), User.active.is_(True))
    ).all()


def render(spec: Kind, locale: str, context: dict) -> tuple[str, str]:
    """The subject and body of a `spec` message in `locale`, from its translated template."""
    env = current_app.jinja_env
    template = env.get_template(spec.template)
    with force_locale(locale):
        values = template.new_context(context)
        subject = "".join(template.blocks["subject"](values)).strip()
        body = "".join(template.blocks["body"](values)).strip()
    return subject[:200], body


def _with_link(body: str, link: str) -> str:
    if not link:
        return body
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    return f"{body}\n\n{base}{link}"


def after_quiet_hours(now: datetime, quiet_from: int | None, quiet_until: int | None) -> datetime:
    """`now` (naive UTC), or the end of the person's quiet hours (Beijing time) if `now` falls in them."""
    quiet_from = 22 if quiet_from is None else quiet_from
    quiet_until = 7 if quiet_until is None else quiet_until
    if quiet_from == quiet_until:
        return now
    local = now.replace(tzinfo=ZoneInfo("UTC")).astimezone(BEIJING)
    hour = local.hour
    quiet = (quiet_from <= hour or hour < quiet_until) if quiet_from > quiet_until else quiet_from <= hour < quiet_until
    if not quiet:
        return now
    end = local.replace(hour=quiet_until, minute=0, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def next_digest_at(now: datetime) -> datetime:
    """The next DIGEST_HOUR o'clock, Beijing time, after `now` (naive UTC)."""
    local = now.replace(tzinfo=ZoneInfo("UTC")).astimezone(BEIJING)
    at = local.replace(hour=current_app.config["DIGEST_HOUR"], minute=0, second=0, microsecond=0)
    if at <= local:
        at += timedelta(days=1)
    return at.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


# --- the inbox ---------------------------------------------------------------------------------

def unread_count(user: User) -> int:
    """How many inbox items `user` has not read (one indexed count)."""
    return db.session.scalar(
        select(func.count()).select_from(InboxItem).where(InboxItem.user_id == user.id, InboxItem.read_at.is_(None))
    ) or 0


def inbox_of(user: User, *, limit: int = 100) -> list[InboxItem]:
    """The newest inbox items of `user`."""
    return list(db.session.scalars(
        select(InboxItem).where(InboxItem.user_id == user.id)
        .order_by(InboxItem.created_at.desc(), InboxItem.id.desc()).limit(limit)))


def mark_read(user: User, *, item_id: int | None = None) -> int:
    """Mark one of `user`'s inbox items (or all of them) read; returns how many changed."""
    statement = (update(InboxItem).where(InboxItem.user_id == user.id, InboxItem.read_at.is_(None))
                 .values(read_at=utcnow()))
    if item_id is not None:
        statement = statement.where(InboxItem.id == item_id)
    return db.session.execute(statement).rowcount


def deliveries_of(key: str) -> list[OutboxMessage]:
    """Every delivery of the event `key`, by recipient and channel (notice proof)."""
    return list(db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.key.startswith(f"{key}:", autoescape=True))
        .order_by(OutboxMessage.user_id, OutboxMessage.channel)))


def failed_deliveries(community_id: int, *, limit: int = 200) -> list[OutboxMessage]:
    """The community's deliveries that gave up, newest first, for the office to follow up."""
    return list(db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.community_id == community_id,
                                    OutboxMessage.status == DeliveryStatus.failed)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()).limit(limit)))


def retry_delivery(message: OutboxMessage, *, community, actor: User) -> None:
    """Put a failed delivery back in the queue with fresh attempts (the office fixed the address, say)."""
    if message.status != DeliveryStatus.failed:
        raise DomainError(_l("Only a failed delivery can be tried again."))
    message.status, message.attempts, message.next_attempt_at = DeliveryStatus.pending, 0, utcnow()
    db.session.flush()
    audit.record("notifications.retry", message, actor=actor, community=community,
                 summary=f"{message.channel} {message.kind}")
