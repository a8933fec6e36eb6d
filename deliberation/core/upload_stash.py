"""Photos chosen on a form that is shown again (a typo elsewhere) are kept, not lost.

Each photo that passes the image checks is cleaned and put aside under a random token; the form
carries the token in a hidden field and the token is also remembered in the user's (signed) session
cookie, so only the person who chose the photos can use them. When the form finally succeeds the
photos are handed to the service and the stash is emptied. Stashes live next to the uploads
(shared by every worker) and are swept after a day.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from flask import session

from deliberation.core.errors import DomainError
from deliberation.core.uploads import clean_image, upload_dir

SESSION_KEY = "upload_stashes"
MAX_AGE_SECONDS = 24 * 60 * 60
_TOKEN_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def _folder() -> Path:
    folder = upload_dir() / "pending"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _owned(token: str | None) -> bool:
    return bool(token) and set(token) <= _TOKEN_CHARS and token in session.get(SESSION_KEY, [])


def _paths(token: str | None) -> list[Path]:
    if not _owned(token):
        return []
    return sorted(_folder().glob(f"{token}.*"), key=lambda path: path.name)


def _sweep() -> None:
    cutoff = time.time() - MAX_AGE_SECONDS
    for path in _folder().iterdir():
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


def put_aside(token: str | None, uploads: list[bytes], *, field: str = "photos") -> tuple[str | None,
                                                                                          list[DomainError]]:
    """Clean and keep each acceptable upload; return the stash token and the refusals of the others."""
    errors: list[DomainError] = []
    if not uploads:
        return (token if _owned(token) else None), errors
    if not _owned(token):
        token = secrets.token_urlsafe(18)
        session[SESSION_KEY] = [*session.get(SESSION_KEY, [])[-9:], token]
        _sweep()
    start = len(_paths(token))
    for n, data in enumerate(uploads, start=start):
        try:
            clean = clean_image(data, field=field)
        except DomainError as error:
            errors.append(error)
            continue
        (_folder() / f"{token}.{n:02d}.{clean.extension}").write_bytes(clean.data)
    return token, errors


def names(token: str | None) -> list[str]:
    """The kept photos' names (to show and to let the user drop one)."""
    return [path.name for path in _paths(token)]


def drop(token: str | None, dropped: list[str]) -> None:
    """Forget the kept photos the user unticked."""
    for path in _paths(token):
        if path.name in dropped:
            path.unlink(missing_ok=True)


def contents(token: str | None) -> list[bytes]:
    """The kept photos, in the order they were chosen."""
    return [path.read_bytes() for path in _paths(token)]


def clear(token: str | None) -> None:
    """Empty the stash once the form has succeeded."""
    for path in _paths(token):
        path.unlink(missing_ok=True)
    if token:
        session[SESSION_KEY] = [t for t in session.get(SESSION_KEY, []) if t != token]
