"""Photos chosen on a form that is shown again (a typo elsewhere) are kept, not lost.

Each photo that passes the image checks is cleaned and put aside under a random token; the form
carries the token in a hidden field and the token is also remembered in the user's (signed) session
cookie, so only the person who chose the photos can use them. When the form finally succeeds the
photos are handed to the service and the stash is emptied in the same transaction. Stashes are
stored in the database (core/uploads.py, area "pending"), so that the next try may reach another
host; the view commits them on their own, since the form shown again commits nothing else. Stashes
are swept after a day.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import session
from sqlalchemy import delete, select

from deliberation.core.errors import DomainError
from deliberation.core.models import utcnow
from deliberation.core.uploads import PENDING, StoredFile, clean_image, store_clean
from deliberation.extensions import db

SESSION_KEY = "upload_stashes"
MAX_AGE_SECONDS = 24 * 60 * 60
_TOKEN_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def _owned(token: str | None) -> bool:
    return bool(token) and set(token) <= _TOKEN_CHARS and token in session.get(SESSION_KEY, [])


def _in_stash(token: str):
    return (StoredFile.area == PENDING) & StoredFile.name.startswith(f"{token}.", autoescape=True)


def _sweep() -> None:
    cutoff = utcnow() - timedelta(seconds=MAX_AGE_SECONDS)
    db.session.execute(delete(StoredFile).where(StoredFile.area == PENDING, StoredFile.created_at < cutoff))


def put_aside(token: str | None, uploads: list[bytes], *, field: str = "photos") -> tuple[str | None,
                                                                                          list[DomainError]]:
    """Clean and keep each acceptable upload; return the stash token and the refusals of the others.
    The kept photos are added to the session: the caller commits."""
    errors: list[DomainError] = []
    if not uploads:
        return (token if _owned(token) else None), errors
    if not _owned(token):
        token = secrets.token_urlsafe(18)
        session[SESSION_KEY] = [*session.get(SESSION_KEY, [])[-9:], token]
        _sweep()
    start = len(names(token))
    for n, data in enumerate(uploads, start=start):
        try:
            clean = clean_image(data, field=field)
        except DomainError as error:
            errors.append(error)
            continue
        store_clean(clean, PENDING, name=f"{token}.{n:02d}.{clean.extension}")
    db.session.flush()
    return token, errors


def names(token: str | None) -> list[str]:
    """The kept photos' names (to show and to let the user drop one)."""
    if not _owned(token):
        return []
    return list(db.session.scalars(select(StoredFile.name).where(_in_stash(token)).order_by(StoredFile.name)))


def drop(token: str | None, dropped: list[str]) -> None:
    """Forget the kept photos the user unticked."""
    if _owned(token) and dropped:
        db.session.execute(delete(StoredFile).where(_in_stash(token), StoredFile.name.in_(dropped)))


def contents(token: str | None) -> list[bytes]:
    """The kept photos, in the order they were chosen."""
    if not _owned(token):
        return []
    return list(db.session.scalars(select(StoredFile.data).where(_in_stash(token)).order_by(StoredFile.name)))


def clear(token: str | None) -> None:
    """Empty the stash (in the transaction that stores the form's photos for good)."""
    if _owned(token):
        db.session.execute(delete(StoredFile).where(_in_stash(token)))
    if token:
        session[SESSION_KEY] = [t for t in session.get(SESSION_KEY, []) if t != token]
