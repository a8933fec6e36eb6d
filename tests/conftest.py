"""Shared fixtures: one app per session, one rolled-back transaction per test."""

from __future__ import annotations

import os
import secrets
import uuid

import pytest
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from jinja2 import StrictUndefined
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import scoped_session, sessionmaker

from deliberation import create_app
from deliberation.config import TestConfig
from deliberation.core.audit_anchors import write_daily_anchor
from deliberation.extensions import db, limiter

from .factories import World, build_world


def test_database_url(tmp_path_factory) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def make_test_config(tmp_path_factory, **overrides) -> type:
    """TestConfig pointed at this run's database and a temporary instance folder."""
    settings = {
        "SQLALCHEMY_DATABASE_URI": test_database_url(tmp_path_factory),
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast in tests; production uses scrypt
        "INSTANCE_DIR": tmp_path_factory.mktemp("instance"),
        # Rate limits count in a real Redis when the suite has one (scripts/run_tests.py starts it).
        "RATELIMIT_STORAGE_URI": os.environ.get("TEST_REDIS_URL") or "memory://",
        **overrides,
    }
    return type("RunTestConfig", (TestConfig,), settings)


class FreshContextClient(FlaskClient):
    """Each request gets its own app context (and so its own `g`), as in production,
    even though the test body holds one open for database access.

    The test's pending setup is committed first (each request's teardown rolls back what that
    request did not commit). POSTs carry a valid CSRF token, as a browser with the form would, unless `csrf=False`.
    """

    def open(self, *args, csrf: bool = True, **kwargs):
        if csrf and kwargs.get("method") == "POST":
            data = kwargs.get("data") or {}
            if isinstance(data, dict):
                kwargs["data"] = {"csrf_token": self.csrf_token(), **data}
        # What the test body set up is in the database before the request, as in real life.
        db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        """A token valid for this client's session (what Flask-WTF's generate_csrf would give)."""
        with self.session_transaction() as session:
            raw = session.setdefault("csrf_token", secrets.token_hex(20))
        return URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token").dumps(raw)


class _TestSession(scoped_session):
    """Ending a request rolls back what it did not commit, like closing a real session would,
    but keeps the test's objects attached (they reload on next access)."""

    def remove(self) -> None:
        if self.registry.has():
            self.registry().rollback()


@pytest.fixture
def empty_database_url(tmp_path):
    """A new, empty database on the test database's server (or a new SQLite file): for migrations, and for
    concurrency tests that need real commits seen by several connections."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    name = f"migrations_{uuid.uuid4().hex[:12]}"
    admin = create_engine(make_url(base).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    app = create_app(make_test_config(tmp_path_factory))
    app.jinja_env.undefined = StrictUndefined
    app.test_client_class = FreshContextClient
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def committing_app(app):
    """The app for tests that commit for real from several threads (outside the per-test
    transaction); the schema is dropped and recreated afterwards so later tests start clean."""
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.create_all()


@pytest.fixture
def db_session(app):
    """Run the test inside a transaction that is rolled back at the end."""
    with app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        original = db.session
        # expire_on_commit stays on here (unlike production): requests share this session's identity
        # map with the test body, and expiring keeps each request's view of the data fresh.
        db.session = _TestSession(sessionmaker(bind=connection, join_transaction_mode="create_savepoint"))
        limiter.reset()
        try:
            yield db.session
        finally:
            db.session.registry().close()
            db.session = original
            transaction.rollback()
            connection.close()


@pytest.fixture
def client(app, db_session):
    return app.test_client()


@pytest.fixture
def world(db_session) -> World:
    """Two communities with residents in every role (see factories.build_world), and today's audit
    anchor, which the notice board's first view of a day would otherwise write (query counts stay fixed)."""
    world = build_world()
    write_daily_anchor()
    return world


def login_as(client: FlaskClient, user) -> None:
    """Log the client in as `user` without going through the (rate-limited) form."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


@pytest.fixture
def as_user(client):
    def _login(user):
        if user is not None:
            login_as(client, user)
        return client

    return _login


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, *args, **kwargs):
        self.count += 1


@pytest.fixture
def count_queries(app):
    """Context manager factory: `with count_queries() as counter: ...; counter.count`."""
    from contextlib import contextmanager

    from sqlalchemy import event

    @contextmanager
    def _count():
        counter = QueryCounter()
        event.listen(db.engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(db.engine, "before_cursor_execute", counter)

    return _count
