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


def test_upgrade_signs_the_intact_existing_chain_and_not_earlier_tampering(tmp_path_factory, empty_database_url):
    """Events written before the keyed log keep their hashes (printed fingerprints stay valid), get
    sequence numbers and MACs — but only up to the first event already broken before the upgrade."""
    import hashlib
    import json
    from datetime import datetime

    from sqlalchemy import text

    from deliberation.core.audit_verify import verify_chain

    def plain_hash(prev: str, n: int, summary: str) -> str:
        content = [prev, datetime(2026, 1, 1, 0, 0, n).isoformat(timespec="microseconds"), None, "", None,
                   "old.action", "X", str(n), summary]
        return hashlib.sha256(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()

    app = create_app(make_test_config(tmp_path_factory, SQLALCHEMY_DATABASE_URI=empty_database_url))
    with app.app_context():
        flask_migrate.upgrade(revision="e9fc9741c458")
        prev = "0" * 64
        with db.engine.begin() as connection:
            for n in range(1, 6):
                hash_ = plain_hash(prev, n, f"event {n}")
                connection.execute(text(
                    "INSERT INTO audit_events (created_at, actor_label, action, object_type, object_id, summary, "
                    "prev_hash, hash) VALUES (:at, '', 'old.action', 'X', :n, :summary, :prev, :hash)"),
                    {"at": datetime(2026, 1, 1, 0, 0, n), "n": str(n),
                     "summary": "edited before the upgrade" if n == 4 else f"event {n}", "prev": prev, "hash": hash_})
                prev = hash_
        flask_migrate.upgrade()
        rows = db.session.execute(text("SELECT seq, mac FROM audit_events ORDER BY id")).all()
        assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
        assert [r.mac is not None for r in rows] == [True, True, True, False, False]
        report = verify_chain()
        assert [p.kind for p in report.problems] == ["content", "no_mac"]
        db.session.remove()
        db.engine.dispose()
