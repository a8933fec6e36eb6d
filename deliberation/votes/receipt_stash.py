"""The receipt code between the cast (POST) and the receipt page (GET): in this browser only.

The code is never stored in the database, a log or a URL. It is kept in a cookie of its own, encrypted
(AES-GCM under a key derived from SECRET_KEY) and bound to the round, the voter and the time it ends:
the cookie alone does not show it, and it opens only for that voter and round. A cookie of its own, not
the session: writing the signed session cookie again costs a cast more than everything it stores
(bench/cast_profile.py). It is kept for RECEIPT_MINUTES, until the voter says they have noted it or logs
out (or another user logs in at this browser)."""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import os
import time

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Response, after_this_request, current_app, request

RECEIPT_MINUTES = 30
COOKIE_NAME = "receipt"


def now() -> float:
    return time.time()


@functools.lru_cache(maxsize=4)
def _cipher_for(secret: bytes) -> AESGCM:
    return AESGCM(hmac.new(secret, b"deliberation receipt in session", hashlib.sha256).digest())


def _cipher() -> AESGCM:
    secret = current_app.config["SECRET_KEY"]
    return _cipher_for(secret.encode() if isinstance(secret, str) else secret)


def _bound(round_id: int, user_id: int, until: int) -> bytes:
    return f"{round_id}:{user_id}:{until}".encode()


def _set_cookie(value: str, max_age: int) -> None:
    secure = bool(current_app.config.get("SESSION_COOKIE_SECURE"))

    @after_this_request
    def set_cookie(response: Response) -> Response:
        response.set_cookie(COOKIE_NAME, value, max_age=max_age, path="/", secure=secure, httponly=True,
                            samesite="Lax")
        return response


def keep(round_id: int, user_id: int, code: str) -> None:
    """Remember the formatted receipt code for this round and voter (one at a time)."""
    until = int(now()) + RECEIPT_MINUTES * 60
    nonce = os.urandom(12)
    sealed = nonce + _cipher().encrypt(nonce, code.encode(), _bound(round_id, user_id, until))
    # Round and voter in clear say only what the session already says: this browser's user voted here.
    _set_cookie(f"{round_id}.{user_id}.{until}.{base64.urlsafe_b64encode(sealed).decode()}",
                RECEIPT_MINUTES * 60)


def shown(round_id: int, user_id: int) -> str | None:
    """The code kept for this round and voter, or None (none kept, another round or user, expired)."""
    kept = request.cookies.get(COOKIE_NAME, "").split(".")
    if len(kept) != 4 or kept[0] != str(round_id) or kept[1] != str(user_id):
        return None
    try:
        until = int(kept[2])
        if until < now():
            forget()
            return None
        sealed = base64.urlsafe_b64decode(kept[3])
        return _cipher().decrypt(sealed[:12], sealed[12:], _bound(round_id, user_id, until)).decode()
    except (ValueError, binascii.Error, InvalidTag):  # another key, or tampered with: nothing to show
        forget()
        return None


def forget() -> None:
    """Stop showing the kept code in this browser (nothing happens when none is kept)."""
    if COOKIE_NAME in request.cookies:
        _set_cookie("", 0)
