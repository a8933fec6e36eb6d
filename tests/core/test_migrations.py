"""`flask db upgrade` on an empty database gives exactly the models' schema."""

from __future__ import annotations

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from deliberation import create_app
from deliberation.extensions import db
from tests.conftest import make_test_config


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
