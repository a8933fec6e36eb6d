"""Inbox items, outbox deliveries and per-person notification settings."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from deliberation.core.models import string_enum, utcnow
from deliberation.extensions import db


class Channel(enum.StrEnum):
    inbox = "inbox"
    email = "email"
    sms = "sms"


class DeliveryStatus(enum.StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


class InboxItem(db.Model):
    """One notification in a person's in-app inbox, rendered in their language when written."""

    __tablename__ = "inbox_items"
    __table_args__ = (Index("ix_inbox_items_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    # The event's key and the recipient: the same event never lands twice in one inbox.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)


class OutboxMessage(db.Model):
    """One delivery of one notification over one channel, written in the transaction of the change
    that causes it and delivered by the worker (`flask worker`)."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel: Mapped[Channel] = mapped_column(string_enum(Channel))
    kind: Mapped[str] = mapped_column(String(40))
    # The community whose office sees the failed deliveries (none for site-wide events).
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    # `<event key>:<user id>:<channel>`: a second write of the same event is ignored.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    # The e-mail address or phone number as it was when the notification was written.
    address: Mapped[str] = mapped_column(String(200), default="")
    locale: Mapped[str] = mapped_column(String(10), default="zh_Hans")
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = mapped_column(string_enum(DeliveryStatus), default=DeliveryStatus.pending)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When the worker may next take it: after quiet hours, after a back-off, or after a claim's lease.
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)
    provider_id: Mapped[str] = mapped_column(String(100), default="")
    last_error: Mapped[str] = mapped_column(String(500), default="")
    # An e-mail held for the person's daily digest: sent together with their other held ones.
    digest: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class NotificationSettings(db.Model):
    """A person's e-mail address for notifications and quiet hours (Beijing time)."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    email: Mapped[str] = mapped_column(String(200), default="")
    # When the person opened the link sent to `email`: nothing else is e-mailed to an unproven address.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    quiet_from: Mapped[int] = mapped_column(Integer, default=22)  # hour, Asia/Shanghai
    quiet_until: Mapped[int] = mapped_column(Integer, default=7)
    # E-mails (except emergencies) wait for one message a day at DIGEST_HOUR, Beijing time.
    daily_digest: Mapped[bool] = mapped_column(Boolean, default=False)


class NotificationPreference(db.Model):
    """Which channels a person wants for one kind of event (no row: the kind's defaults)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean, default=True)
    sms: Mapped[bool] = mapped_column(Boolean, default=False)
