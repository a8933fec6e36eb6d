"""One-time SMS codes that prove a phone number: they flush but never commit, and raise DomainError.

A code has 6 digits, lives `PHONE_CODE_TTL_SECONDS`, is kept only as an HMAC under a server key
(a plain hash of 6 digits is reversed by trying the million of them), allows `PHONE_CODE_MAX_ATTEMPTS`
tries, and is never logged or audited. Each challenge belongs to the browser that started it (it
holds the random token), so a stranger asking for codes for the same number neither replaces nor
uses up the owner's code. Sending is the caller's job, after its commit (see `send`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from deliberation.auth.models import PhoneChallenge, PhonePurpose, User
from deliberation.core import audit
from deliberation.core.errors import DomainError
from deliberation.core.models import utcnow
from deliberation.extensions import db
from deliberation.notifications import sms

log = logging.getLogger(__name__)

CODE_DIGITS = 6
# No hex digest starts with this: the challenge of a number that already has an account matches no code.
_NO_CODE = "!"


@dataclass
class PhoneMessage:
    """An SMS to send once the request's changes are committed."""

    phone: str
    text: str


def mask_phone(phone: str) -> str:
    """138****5678: enough for the owner to recognise the number, in pages and the audit log."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 8 else "****"


def _config(name: str) -> int:
    return int(current_app.config[name])


def _code_key() -> bytes:
    configured = current_app.config.get("PHONE_CODE_KEY")
    if configured:
        return configured.encode()
    # Derived, so that the session-signing key itself never serves as an HMAC key for something else.
    return hmac.new(current_app.config["SECRET_KEY"].encode(), b"phone-code-key", hashlib.sha256).digest()


def _code_hash(challenge: PhoneChallenge, code: str) -> str:
    message = f"{challenge.token}:{challenge.phone}:{code}".encode()
    return hmac.new(_code_key(), message, hashlib.sha256).hexdigest()


def _holder_notice(purpose: PhonePurpose) -> str:
    if purpose == PhonePurpose.register:
        return _("Someone tried to register a new account with this phone number, which already has an "
                 "account. No code was sent and nothing was changed. If it was you, log in with your password.")
    return _("Someone tried to move another account to this phone number, which already has an account. "
             "No code was sent and nothing was changed.")


def _issue(challenge: PhoneChallenge, *, taken: bool) -> PhoneMessage:
    """A fresh code (or, for a taken number, the holder's notice) for the challenge."""
    now = utcnow()
    challenge.sent_at = now
    challenge.expires_at = now + timedelta(seconds=_config("PHONE_CODE_TTL_SECONDS"))
    challenge.resend_at = now + timedelta(seconds=_config("PHONE_CODE_RESEND_SECONDS"))
    challenge.attempts = 0
    if taken:
        challenge.code_hash = _NO_CODE + secrets.token_hex(32)[1:]  # as long as a real one: same comparison time
        text = _holder_notice(challenge.purpose)
    else:
        code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
        challenge.code_hash = _code_hash(challenge, code)
        text = _("Your verification code is %(code)s, valid for %(minutes)d minutes. Never tell it to anyone, "
                 "not even the community office.", code=code, minutes=_config("PHONE_CODE_TTL_SECONDS") // 60)
    return PhoneMessage(challenge.phone, text)


def start_challenge(purpose: PhonePurpose, phone: str, *, user: User | None = None, holder: User | None = None,
                    registration: dict | None = None) -> tuple[PhoneChallenge, PhoneMessage]:
    """A challenge for `phone` and the SMS to send to it: a code, or, when `holder` already has the
    number, a notice to the holder (the caller answers the same either way)."""
    challenge = PhoneChallenge(token=secrets.token_urlsafe(32), purpose=purpose, phone=phone,
                               user_id=user.id if user is not None else None,
                               holder_id=holder.id if holder is not None else None,
                               registration=registration if holder is None else None, sends=1)
    message = _issue(challenge, taken=holder is not None)
    db.session.add(challenge)
    db.session.flush()
    audit.record("phone.code_sent", challenge, actor=user,
                 summary=f"{purpose.value} code for {mask_phone(phone)}")
    return challenge, message


def challenge_for(token: str | None) -> PhoneChallenge | None:
    """The open (not yet used) challenge this browser holds, if any."""
    if not token:
        return None
    challenge = db.session.scalar(select(PhoneChallenge).where(PhoneChallenge.token == token))
    if challenge is None or challenge.used_at is not None:
        return None
    return challenge


def wait_seconds(challenge: PhoneChallenge) -> int:
    """Seconds until a new code may be asked for (0: now)."""
    return max(0, int((challenge.resend_at - utcnow()).total_seconds() + 0.999))


def _at(moment: datetime) -> str:
    return format_time(moment, "HH:mm")


def resend(challenge: PhoneChallenge) -> PhoneMessage:
    """A new code for the same challenge (the old one stops working), once the wait is over."""
    if challenge.used_at is not None:
        raise DomainError(_l("This code was already used."))
    if wait_seconds(challenge) > 0:
        raise DomainError(_l("You can ask for a new code at %(time)s.", time=_at(challenge.resend_at)),
                          status_code=429)
    message = _issue(challenge, taken=challenge.holder_id is not None)
    challenge.sends += 1
    db.session.flush()
    audit.record("phone.code_sent", challenge, actor=None,
                 summary=f"{challenge.purpose.value} code {challenge.sends} for {mask_phone(challenge.phone)}")
    return message


def check_code(challenge: PhoneChallenge, code: str) -> None:
    """Accept the right code once; refuse a wrong, expired, used or exhausted one.

    A refused try still counts: the caller commits after a DomainError here."""
    max_attempts = _config("PHONE_CODE_MAX_ATTEMPTS")
    now = utcnow()
    if challenge.used_at is not None:
        raise DomainError(_l("This code was already used."), field="code")
    if challenge.attempts >= max_attempts:
        raise DomainError(_l("Too many wrong codes. You can ask for a new code at %(time)s.",
                             time=_at(max(challenge.resend_at, now))), field="code", status_code=429)
    if now >= challenge.expires_at:
        raise DomainError(_l("This code has expired. Ask for a new code."), field="code")
    code = "".join(code.split()) if code else ""
    if len(code) != CODE_DIGITS or not code.isascii() or not code.isdigit():
        raise DomainError(_l("Enter the 6 digits of the code."), field="code", status_code=422)
    challenge.attempts += 1
    if not hmac.compare_digest(_code_hash(challenge, code), challenge.code_hash):
        left = max_attempts - challenge.attempts
        if left <= 0:
            # Slow down whoever is guessing: a new code only after a pause (never a lock on the number).
            challenge.resend_at = max(challenge.resend_at,
                                      now + timedelta(seconds=_config("PHONE_CODE_LOCKOUT_SECONDS")))
            db.session.flush()
            raise DomainError(_l("Too many wrong codes. You can ask for a new code at %(time)s.",
                                 time=_at(challenge.resend_at)), field="code", status_code=429)
        db.session.flush()
        raise DomainError(_l("This code is not correct. Attempts left: %(n)d.", n=left), field="code",
                          status_code=422)
    challenge.used_at = now
    db.session.flush()
    audit.record("phone.proven", challenge, actor=None,
                 summary=f"{challenge.purpose.value}: {mask_phone(challenge.phone)} proven")


def start_phone_change(user: User, phone: str) -> tuple[PhoneChallenge, PhoneMessage]:
    """A code to the new number (or to the user's own number, to prove it); a number held by another
    account gets its holder's notice instead, and the user is answered the same way."""
    from deliberation.auth.services import account_for_phone, validate_phone

    phone = validate_phone(phone)
    holder = account_for_phone(phone)
    if holder is not None and holder.id == user.id:
        holder = None
    return start_challenge(PhonePurpose.change_phone, phone, user=user, holder=holder)


def change_phone(user: User, challenge: PhoneChallenge) -> None:
    """Give the user the number the challenge proved (the same number: mark it proven)."""
    if challenge.purpose != PhonePurpose.change_phone or challenge.user_id != user.id or challenge.used_at is None:
        raise DomainError(_l("This code was not sent for your account."), status_code=403)
    from deliberation.auth.services import account_for_phone

    holder = account_for_phone(challenge.phone)
    if holder is not None and holder.id != user.id:
        raise DomainError(_l("This number already belongs to another account."))
    old = user.phone
    if old and user.login == old:
        user.login = challenge.phone  # logins made from the phone number follow it
    user.phone = challenge.phone
    user.phone_verified_at = utcnow()
    db.session.flush()
    summary = (f"phone {mask_phone(old)} proven again" if old == challenge.phone
               else f"phone {mask_phone(old) if old else 'none'} → {mask_phone(challenge.phone)}, proven")
    audit.record("user.phone_changed", user, actor=user, summary=summary)


def send(message: PhoneMessage) -> bool:
    """Hand the SMS to the gateway now (codes never wait in a queue); False if the gateway failed."""
    try:
        sms.get_gateway(current_app).send(message.phone, message.text)
    except sms.SmsError:
        log.warning("SMS to %s could not be sent", mask_phone(message.phone))
        return False
    return True
