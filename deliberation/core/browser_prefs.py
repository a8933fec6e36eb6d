"""The interface language and the text size a browser chose, kept in cookies of their own.

Not in the session: a session made permanent to keep them (as it once was) keeps the login too, so that
closing the browser no longer logs out someone who did not ask to stay logged in — at a computer shared at
the office's help desk, the next person would be them. The session stays a browser-session cookie.
"""

from __future__ import annotations

from flask import Response, current_app, request, session

LOCALE_COOKIE = "locale"
LARGE_TEXT_COOKIE = "large_text"


def chosen_locale() -> str | None:
    """The language chosen in this visit (a `?lang=` link, the account's at login), else this browser's."""
    return session.get("locale") or request.cookies.get(LOCALE_COOKIE)


def large_text() -> bool:
    return request.cookies.get(LARGE_TEXT_COOKIE) == "1"


def keep(response: Response, name: str, value: str) -> Response:
    """Remember a choice in this browser for as long as a session may last (30 days by default)."""
    response.set_cookie(name, value, max_age=int(current_app.permanent_session_lifetime.total_seconds()),
                        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")), httponly=True,
                        samesite="Lax")
    return response
