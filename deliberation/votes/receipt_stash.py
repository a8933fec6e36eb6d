"""The receipt code between the cast (POST) and the receipt page (GET): in this browser's session only.

The code is never stored in the database, a log or a URL. The session is a signed cookie, so the
code is kept in it encrypted (AES-GCM under a key derived from SECRET_KEY, bound to the round and
the voter): the cookie alone does not show it. It is kept for RECEIPT_MINUTES, for this round
and this voter, until the voter says they have noted it or logs out (or another user logs in)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app, session

RECEIPT_MINUTES = 30
SESSION_KEY = "receipt"


def now() -> float:
    return time.time()


def _cipher() -> AESGCM:
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    return AESGCM(hmac.new(secret, b"deliberation receipt in session", hashlib.sha256).digest())


def _bound(round_id: int, user_id: int) -> bytes:
    return f"{round_id}:{user_id}".encode()


def keep(round_id: int, user_id: int, code: str) -> None:
    """Remember the formatted receipt code for this round and voter (one at a time)."""
    nonce = os.urandom(12)
    sealed = nonce + _cipher().encrypt(nonce, code.encode(), _bound(round_id, user_id))
    session[SESSION_KEY] = {"round": round_id, "user": user_id, "until": int(now()) + RECEIPT_MINUTES * 60,
                            "code": base64.urlsafe_b64encode(sealed).decode()}


def shown(round_id: int, user_id: int) -> str | None:
    """The code kept for this round and voter, or None (none kept, another round or user, expired)."""
    kept = session.get(SESSION_KEY)
    if not isinstance(kept, dict) or kept.get("round") != round_id or kept.get("user") != user_id:
        return None
    if not isinstance(kept.get("until"), int) or kept["until"] < now():
        forget()
        return None
    try:
        sealed = base64.urlsafe_b64decode(kept["code"])
        return _cipher().decrypt(sealed[:12], sealed[12:], _bound(round_id, user_id)).decode()
    except Exception:  # a cookie from another key or tampered with: nothing to show
        forget()
        return None


def forget() -> None:
    session.pop(SESSION_KEY, None)
