"""The request side of one-time SMS codes: sending after the commit, and the rate limits on sending
(per client address and number, and per address).

Only requests that really sent an SMS are counted (`g.phone_code_sent`). There is deliberately no
limit per number alone: anyone could use it up and keep the owner from ever getting a code."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, flash, g, make_response, request, session
from flask_babel import format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address

from deliberation.auth import phone_codes
from deliberation.auth.models import PhoneChallenge
from deliberation.core.errors import render_error
from deliberation.core.text import normalise_phone
from deliberation.extensions import limiter

CHALLENGE_SESSION_KEY = "phone_challenge"


def _number_limit() -> str:
    return current_app.config["PHONE_CODE_RATE_LIMIT"]


def _address_limit() -> str:
    return current_app.config["PHONE_CODE_ADDRESS_RATE_LIMIT"]


def _code_sent(response) -> bool:
    return bool(g.get("phone_code_sent"))


def _phone_of_request() -> str:
    """The number a code goes to: the form's, or (for a new code) that of this browser's challenge."""
    if request.form.get("phone"):
        return normalise_phone(request.form["phone"])
    challenge = phone_codes.challenge_for(session.get(CHALLENGE_SESSION_KEY))
    return challenge.phone if challenge is not None else ""


def _address_and_number_key() -> str:
    return f"sms|{get_remote_address()}|{_phone_of_request()}"


def _address_key() -> str:
    return f"sms|{get_remote_address()}"


def _breached(limit):
    """The 429 page says when a code may be asked for again (the window's end, in local time)."""
    reset = datetime.fromtimestamp(limit.reset_at, UTC).replace(tzinfo=None)
    return make_response(render_error(429, _l("Too many codes were asked for from this address. You can ask "
                                              "again at %(time)s.", time=format_time(reset, "HH:mm"))))


def phone_code_limits(view):
    """Limit the POSTs of `view` that send an SMS; every such view counts against the same limits."""
    view = limiter.shared_limit(_address_limit, "sms-address", methods=["POST"], key_func=_address_key,
                                deduct_when=_code_sent, on_breach=_breached)(view)
    return limiter.shared_limit(_number_limit, "sms-number", methods=["POST"], key_func=_address_and_number_key,
                                deduct_when=_code_sent, on_breach=_breached)(view)


def send_phone_code(challenge: PhoneChallenge, message: phone_codes.PhoneMessage) -> None:
    """After the commit: this browser holds the challenge, the SMS goes out at once, counted by the limits."""
    session[CHALLENGE_SESSION_KEY] = challenge.token
    g.phone_code_sent = True
    if phone_codes.send(message):
        flash(_("We sent a 6-digit code by SMS to %(phone)s.", phone=phone_codes.mask_phone(challenge.phone)), "info")
    else:
        flash(_("The SMS could not be sent just now. Ask for a new code in a minute."), "error")
