"""E-mail over SMTP (standard library) with a one-click unsubscribe link in every message."""

from __future__ import annotations

import contextlib
import hashlib
import smtplib
from email.message import EmailMessage
from email.utils import formatdate

from flask import current_app
from flask_babel import force_locale, gettext
from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer

_SALT = "notifications-unsubscribe"
_CONFIRM_SALT = "notifications-email-confirm"
ALL_KINDS = "*"  # an unsubscribe token for every kind of event (a digest's link)
CONFIRM_KIND = "email_confirm"  # the e-mail that proves an address: asked for, so no unsubscribe link
CONFIRM_MAX_AGE = 7 * 24 * 3600  # seconds a confirmation link works


def confirm_token(user_id: int, address: str) -> str:
    """A signed, expiring token that proves `user_id` receives mail at `address`."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_CONFIRM_SALT).dumps([user_id, address])


def read_confirm_token(token: str) -> tuple[int, str] | None:
    """The (user id, address) a confirmation token names, or None if it is not ours or has expired."""
    try:
        user_id, address = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_CONFIRM_SALT).loads(
            token, max_age=CONFIRM_MAX_AGE)
    except (BadSignature, ValueError, TypeError):
        return None
    return (user_id, address) if isinstance(user_id, int) and isinstance(address, str) else None


def confirm_url(user_id: int, address: str) -> str:
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return f"{base}/notifications/confirm-email/{confirm_token(user_id, address)}"


def unsubscribe_token(user_id: int, kind: str) -> str:
    """A signed token that turns off e-mail for one kind of event for one person (no expiry: old
    e-mails keep a working link)."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT).dumps([user_id, kind])


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    """The (user id, kind) a token names, or None if it is not one of ours."""
    try:
        user_id, kind = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    return (user_id, kind) if isinstance(user_id, int) and isinstance(kind, str) else None


def unsubscribe_url(user_id: int, kind: str) -> str:
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return f"{base}/notifications/unsubscribe/{unsubscribe_token(user_id, kind)}"


def build_message(*, to: str, subject: str, body: str, key: str, user_id: int, kind: str, locale: str) -> EmailMessage:
    """The e-mail for one outbox row; its Message-ID comes from the delivery key, so that a resend
    after a crash carries the same id and mail clients show it once."""
    config = current_app.config
    url = None if kind == CONFIRM_KIND else unsubscribe_url(user_id, kind)
    with force_locale(locale):
        footer = (gettext("To stop e-mails like this one: %(url)s", url=url) if url else
                  gettext("You get this e-mail because this address was entered on the site. If that was not "
                          "you, ignore it: nothing more is sent to it."))
    message = EmailMessage()
    message["From"] = config["MAIL_DEFAULT_SENDER"]
    message["To"] = to
    # One line: a subject naming a title posted with a line break would otherwise be refused by the
    # e-mail library (header injection) and the e-mail never sent.
    message["Subject"] = " ".join(subject.split())
    message["Date"] = formatdate(localtime=False)
    domain = config["MAIL_DEFAULT_SENDER"].rpartition("@")[2] or "localhost"
    message["Message-ID"] = f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"
    if url:
        message["List-Unsubscribe"] = f"<{url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058
    message.set_content(f"{body}\n\n--\n{footer}\n")
    return message


def build_digest(rows) -> EmailMessage:
    """One e-mail holding several outbox rows of one person (their daily digest); its unsubscribe
    link turns off e-mail for every kind of event."""
    first = rows[0]
    with force_locale(first.locale):
        subject = gettext("Your daily digest: %(n)d notifications", n=len(rows))
    body = "\n\n".join(f"■ {row.subject}\n{row.body}".rstrip() for row in rows)
    return build_message(to=first.address, subject=subject, body=body, key="digest:" + first.key,
                         user_id=first.user_id, kind=ALL_KINDS, locale=first.locale)


class Mailer:
    """One SMTP connection reused for a batch (opened on first use, closed by `close`)."""

    def __init__(self):
        self.connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        config = current_app.config
        if not config.get("MAIL_SERVER"):
            raise smtplib.SMTPException("MAIL_SERVER is not set")
        cls = smtplib.SMTP_SSL if config.get("MAIL_USE_SSL") else smtplib.SMTP
        connection = cls(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config.get("MAIL_TIMEOUT", 30))
        if config.get("MAIL_USE_TLS") and not config.get("MAIL_USE_SSL"):
            connection.starttls()
        if config.get("MAIL_USERNAME"):
            connection.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        return connection

    def send(self, message: EmailMessage) -> str:
        if self.connection is None:
            self.connection = self._connect()
        try:
            self.connection.send_message(message)
        except (smtplib.SMTPServerDisconnected, OSError):
            self.close()
            raise
        return message["Message-ID"]

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.connection.quit()
            self.connection = None
