"""The one assertion every route-by-role permission matrix makes."""

from __future__ import annotations

ALLOWED_CODES = (200, 303, 422)


def assert_access(response, role: str, allowed: set[str], *, allowed_codes: tuple[int, ...] = ALLOWED_CODES) -> None:
    """Allowed roles get through; anonymous users are sent to log in; everyone else gets 403."""
    location = response.headers.get("Location", "")
    if role in allowed:
        assert response.status_code in allowed_codes, response.status_code
        assert "/login" not in location
    elif role == "anonymous":
        assert response.status_code == 302 and "/login" in location
    else:
        assert response.status_code == 403
