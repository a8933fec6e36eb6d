"""A session's live version: every change that the room, the phones or the console show moves it on
(the services call `bump_live_version` before they audit the change); a conditional poll and an event
stream read it, and nothing else, before answering (see deliberation/core/live.py)."""

from __future__ import annotations

import functools
import re

from flask import Flask, Response
from sqlalchemy import bindparam, select
from werkzeug.datastructures import ETags
from werkzeug.http import parse_etags

from deliberation.communities.models import Community
from deliberation.consultations.models import ConsultationSession, SessionStatus
from deliberation.core import live
from deliberation.core.inputs import INT_MAX
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


def version_answer(slug: str, session_id: int, held: ETags) -> Response | None:
    """The answer to a page polling the session's version (`core.live.version_answer`), or None when there
    is no such public session in that community (a draft is the secretary's alone): then "not found"."""
    found = live_version(session_id)
    if found is None or found[2] != slug or found[1] == SessionStatus.draft:
        return None
    return live.version_answer(found[0], held)


_VERSION_PATH = re.compile(r"/c/(?P<slug>[^/]+)/sessions/(?P<session_id>[0-9]{1,18})/version")


class VersionPolls:
    """WSGI middleware answering the version polls of live pages without an event stream before Flask's
    request machinery: each phone asks every 2 seconds, and a version read is the whole answer. Session
    cookie, user, language, CSRF and rate limits have nothing to decide here (the answer is public and the
    same for everyone), yet they cost a Flask request more than the read itself. Anything else — another
    method, another path, no such session — goes on to the application (`consultations.version` answers
    the same through Flask, and says "not found" in the site's words)."""

    def __init__(self, app: Flask, wsgi_app):
        self.app, self.wsgi_app = app, wsgi_app

    def __call__(self, environ, start_response):
        found = _VERSION_PATH.fullmatch(environ.get("PATH_INFO", ""))
        if found is not None and environ.get("REQUEST_METHOD") == "GET" and int(found["session_id"]) <= INT_MAX:
            with self.app.app_context():
                answer = version_answer(found["slug"], int(found["session_id"]),
                                        parse_etags(environ.get("HTTP_IF_NONE_MATCH")))
            if answer is not None:
                return answer(environ, start_response)
        return self.wsgi_app(environ, start_response)
