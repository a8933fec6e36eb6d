"""Fixtures for notifications: a real local SMTP server (aiosmtpd) and users with e-mail addresses."""

from __future__ import annotations

import socket
import threading
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from deliberation.core.models import utcnow
from deliberation.extensions import db
from deliberation.notifications.models import NotificationSettings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """aiosmtpd handler that keeps every message; `refuse` answers the next N messages with 451."""

    def __init__(self):
        self.messages = []
        self.refuse = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.refuse:
                self.refuse -= 1
                return "451 Try again later"
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def to(self, address: str):
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def smtp(app, monkeypatch):
    """A local SMTP server the app's mailer is pointed at; yields its `Inbox`."""
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    monkeypatch.setitem(app.config, "MAIL_USE_TLS", False)
    monkeypatch.setitem(app.config, "MAIL_USERNAME", "")
    try:
        yield handler
    finally:
        controller.stop()


def with_email(user, address: str | None = None, **settings) -> str:
    """Give `user` a proven e-mail address for notifications; returns it. No quiet hours unless given, so
    that deliveries do not depend on the hour the tests run at."""
    address = address or f"{user.login}@example.org"
    settings = {"quiet_from": 0, "quiet_until": 0, "email_confirmed_at": utcnow(), **settings}
    db.session.add(NotificationSettings(user_id=user.id, email=address, **settings))
    db.session.flush()
    return address
