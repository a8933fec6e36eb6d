"""A session's live version: every change that the room, the phones or the console show moves it on
(the services call `bump_live_version` before they audit the change); a conditional poll and an event
stream read it, and nothing else, before answering (see deliberation/core/live.py)."""

from __future__ import annotations

import functools

from sqlalchemy import bindparam, select

from deliberation.communities.models import Community
from deliberation.consultations.models import ConsultationSession, SessionStatus
from deliberation.core import live
from deliberation.extensions import db


def bump_live_version(session: ConsultationSession) -> None:
    """Every change that the room, the phones or the console show moves the session's version on, in the
    changing transaction and as one atomic increment (two changes at once both count): the live partials'
    ETag and the events streamed to open pages follow it (core/live.py)."""
    session.live_version = ConsultationSession.live_version + 1
    db.session.flush()
    live.announce(live_topic(session.id))


def live_topic(session_id: int) -> str:
    return f"session:{session_id}"


def live_version(session_id: int) -> tuple[int, SessionStatus, str] | None:
    """(version, status, community slug) of a session in one indexed read, or None: all a conditional
    poll or an event stream reads before answering."""
    # On the session's connection, past the ORM: this runs on every poll and every stream check.
    row = db.session.connection().execute(_live_version_query(), {"session_id": session_id}).first()
    return None if row is None else (row[0], row[1], row[2])


@functools.cache
def _live_version_query():
    # Built once: a constant statement reuses its compiled SQL.
    return (select(ConsultationSession.live_version, ConsultationSession.status, Community.slug)
            .join(Community, Community.id == ConsultationSession.community_id)
            .where(ConsultationSession.id == bindparam("session_id")))
