"""`flask db upgrade` on an empty database gives exactly the models' schema."""

from __future__ import annotations

import os
import uuid

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from deliberation import create_app
from deliberation.extensions import db
from tests.conftest import make_test_config


@pytest.fixture
def empty_database_url(tmp_path):
    """A new, empty database on the same server as the test database (or a new SQLite file)."""
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


def test_upgrade_creates_exactly_the_models_schema(tmp_path_factory, empty_database_url):
    app = create_app(make_test_config(tmp_path_factory, SQLALCHEMY_DATABASE_URI=empty_database_url))
    with app.app_context():
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
        tables = set(db.inspect(db.engine).get_table_names())
        db.engine.dispose()
    assert differences == []
    assert {"users", "communities", "residencies", "role_grants", "roll_entries", "audit_events"} <= tables


def test_downgrade_to_base_and_upgrade_again(tmp_path_factory, empty_database_url):
    app = create_app(make_test_config(tmp_path_factory, SQLALCHEMY_DATABASE_URI=empty_database_url))
    with app.app_context():
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="base")
        assert set(db.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        flask_migrate.upgrade()
        db.engine.dispose()
