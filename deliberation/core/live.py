"""Live updates without re-rendering on every tick: conditional GETs (ETag → 304) and Server-Sent Events.

A live object (a meeting, say) carries a version in the database that every change bumps in the
changing transaction. Its partials answer `If-None-Match` with 304 after reading only that version,
and an event stream tells the open pages when it moved, so that they fetch the partial once. The
version lives in the database, so several hosts agree on it; when `REDIS_URL` is set, a bump is also
published after the commit so that streams wake at once instead of at their next check.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections.abc import Callable, Iterator

from flask import Response, current_app, request, session
from flask_babel import get_locale
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.datastructures import ETags
from werkzeug.http import quote_etag

log = logging.getLogger(__name__)
_PENDING = "live_topics"  # Session.info key: topics bumped in the open transaction


def etag_for(*parts) -> str:
    """A strong ETag (its value, unquoted) from what decides a partial's bytes (object, version, viewer,
    language)."""
    return "-".join(str(p) for p in (*parts, get_locale()))


def viewer_key() -> str | None:
    """Whom a personalised partial is for, from the session cookie alone (no query): a digest of the login
    session, "anon" for a visitor, or None when only loading the user can tell (a remember-me cookie
    without a session). A login ended elsewhere keeps its key until the next change, so a page may show
    for up to that long what it already showed: never anything new."""
    login = session.get("_user_id")
    if login is None:
        remember = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
        return None if remember in request.cookies else "anon"
    return hashlib.blake2b(str(login).encode(), digest_size=8, key=current_app.secret_key.encode()[:64]).hexdigest()


def not_modified(etag: str) -> Response | None:
    """A bodiless 304 when the client already holds `etag`, else None. A pending flash message is news:
    then the partial renders, so the message shows with it."""
    if session.get("_flashes") or etag not in request.if_none_match:
        return None
    return conditional(Response(status=304), etag)


def version_etag(version: int) -> str:
    """The ETag (quoted, as in the header) of a live object's version as `version_answer` gives it."""
    return quote_etag(f"v{version}")


def version_answer(version: int, held: ETags) -> Response:
    """What a polling page asks every few seconds: the live object's version, as its ETag; a bodiless 304
    while it is the one the page holds (`held`: the request's If-None-Match). The same for every viewer —
    the version says only that something changed — so nothing is read but the version: no user, no
    language, no rendering. When it moved, the page fetches its own copy of the partial once, as on a
    streamed `version` event."""
    response = Response(status=304) if f"v{version}" in held else Response(str(version), mimetype="text/plain")
    response.set_etag(f"v{version}")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def conditional(response: Response, etag: str) -> Response:
    """Tag a partial so the next poll can be answered with 304; never cached by shared caches."""
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.add("HX-Request")
    response.vary.add("Cookie")
    return response


# --- after-commit publication (Redis pub/sub, optional) -----------------------------------

def announce(topic: str) -> None:
    """Publish `topic` to the streams once the transaction commits (no-op without Redis)."""
    from deliberation.extensions import db

    db.session.info.setdefault(_PENDING, set()).add(topic)


@event.listens_for(Session, "after_commit")
def _publish(db_session: Session) -> None:
    if db_session.in_nested_transaction():  # a savepoint: the change is not committed yet
        return
    topics = db_session.info.pop(_PENDING, None)
    if not topics:
        return
    client = redis_client()
    if client is None:
        return
    try:
        for topic in topics:
            client.publish(_channel(topic), "1")
    except Exception:  # a stream still notices at its next database check
        log.warning("live: publishing %s to Redis failed", sorted(topics), exc_info=True)


@event.listens_for(Session, "after_rollback")
def _forget(db_session: Session) -> None:
    db_session.info.pop(_PENDING, None)


def _channel(topic: str) -> str:
    return f"live:{topic}"


_clients: dict[str, object] = {}


def redis_client():
    """One Redis client per URL and process, or None when REDIS_URL is not configured."""
    try:
        url = current_app.config.get("REDIS_URL")
    except RuntimeError:  # outside an application context (a script's own session)
        return None
    if not url:
        return None
    if url not in _clients:
        import redis

        _clients[url] = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
    return _clients[url]


# --- Server-Sent Events -------------------------------------------------------------------

def events_supported() -> bool:
    """Whether this server may hold event streams open (LIVE_EVENTS: "auto" asks the WSGI server)."""
    setting = str(current_app.config["LIVE_EVENTS"]).strip().lower()
    if setting == "auto":
        return bool(request.environ.get("wsgi.multithread"))
    return setting in ("1", "true", "yes", "on")


def last_event_id() -> int | None:
    """The version a reconnecting EventSource saw last (its Last-Event-ID), if any."""
    value = request.headers.get("Last-Event-ID", "") or request.args.get("last", "")
    return int(value) if value.isdigit() and len(value) < 18 else None


def event_stream(topic: str, read_version: Callable[[], int | None], *, since: int | None) -> Iterator[str]:
    """Yield a `version` event (id = the version) whenever the version differs from the last one sent, a
    `ping` event as a heartbeat, and end after LIVE_STREAM_SECONDS so the browser reconnects (with
    Last-Event-ID) and no worker is held for ever. A reconnecting page that missed a change gets it at
    once, since the version is compared with the one it names. `read_version` runs outside the request
    (it opens its own application context) and returns None when the object is gone or no longer live:
    the stream then says `end` and stops. Settings are read now, in the request."""
    config = current_app.config
    check, heartbeat = config["LIVE_CHECK_SECONDS"], config["LIVE_HEARTBEAT_SECONDS"]
    lifetime, retry = config["LIVE_STREAM_SECONDS"], int(config["LIVE_RETRY_MS"])
    client = redis_client()
    return _stream(topic, read_version, since, client, check=check, heartbeat=heartbeat, lifetime=lifetime,
                   retry=retry)


def _stream(topic, read_version, since, client, *, check, heartbeat, lifetime, retry) -> Iterator[str]:
    deadline = time.monotonic() + lifetime
    pubsub = None
    if client is not None:
        try:
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(_channel(topic))
            check = heartbeat  # Redis wakes the stream; the database check is the safety net
        except Exception:
            log.warning("live: Redis unavailable, streams check the database", exc_info=True)
            pubsub = None
    sent = since
    yield f"retry: {retry}\n\n"
    last_beat = time.monotonic()
    try:
        while True:
            version = read_version()
            if version is None:
                yield "event: end\ndata: end\n\n"
                return
            if version != sent:
                sent = version
                last_beat = time.monotonic()
                yield f"id: {version}\nevent: version\ndata: {version}\n\n"
            now = time.monotonic()
            if now >= deadline:
                return
            if now - last_beat >= heartbeat:
                last_beat = now
                yield "event: ping\ndata: \n\n"  # an event, not a comment: the page sees the stream is alive
            _wait(pubsub, min(check, max(deadline - now, 0.01)))
    finally:
        if pubsub is not None:
            with contextlib.suppress(Exception):  # closing a broken connection
                pubsub.close()


def _wait(pubsub, seconds: float) -> None:
    if pubsub is None:
        time.sleep(seconds)
        return
    try:
        pubsub.get_message(timeout=seconds)
        while pubsub.get_message(timeout=0) is not None:  # several bumps at once: one check
            pass
    except Exception:
        time.sleep(seconds)


def stream_response(stream: Iterator[str]) -> Response:
    """The text/event-stream response (unbuffered through nginx-like proxies)."""
    response = Response(stream, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    return response
