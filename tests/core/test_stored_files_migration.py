"""The upgrade to stored_files copies the photos and evidence that rows name from the instance folder
into the database, once: running the import again copies nothing twice."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import flask_migrate
from sqlalchemy import text

from deliberation import create_app
from deliberation.extensions import db
from tests.conftest import make_test_config
from tests.proposals.factories import jpeg_bytes, png_bytes

REVISION = "d4e8f2a6b1c3"
MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "versions" / f"{REVISION}_stored_files.py"


def _migration():
    spec = importlib.util.spec_from_file_location("stored_files_migration", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rows_naming(connection, public: list[str], evidence: list[str]) -> None:
    """Photo rows as the old version wrote them (their parents do not matter here)."""
    # No foreign key checks: before any transaction begins on SQLite, in this session on PostgreSQL.
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET session_replication_role = replica"))
    else:
        connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")
    for n, name in enumerate(public, start=1):
        connection.execute(text("INSERT INTO photos (id, proposal_id, filename, width, height, created_at) "
                                "VALUES (:id, 1, :name, 8, 8, CURRENT_TIMESTAMP)"), {"id": n, "name": name})
    for n, name in enumerate(evidence, start=1):
        connection.execute(text("INSERT INTO evaluation_photos (id, evaluation_id, filename, content_type, width, "
                                "height, size, caption, created_at) VALUES (:id, 1, :name, 'image/png', 8, 8, 1, "
                                "'', CURRENT_TIMESTAMP)"), {"id": n, "name": name})


def test_files_on_disk_move_into_the_database_once(tmp_path_factory, empty_database_url):
    instance = tmp_path_factory.mktemp("old-host")
    folder = instance / "uploads"
    (folder / "evaluations").mkdir(parents=True)
    photo, evidence, orphan = jpeg_bytes(), png_bytes(), jpeg_bytes(color=(0, 0, 200))
    (folder / "public-photo.jpg").write_bytes(photo)
    (folder / "evaluations" / "evidence.png").write_bytes(evidence)
    (folder / "orphan.jpg").write_bytes(orphan)  # written by a request that failed: no row names it
    app = create_app(make_test_config(tmp_path_factory, SQLALCHEMY_DATABASE_URI=empty_database_url,
                                      INSTANCE_DIR=instance))
    with app.app_context():
        flask_migrate.upgrade(revision="a7c3e9f1b2d4")
        with db.engine.connect() as connection:
            _rows_naming(connection, ["public-photo.jpg", "missing.jpg"], ["evidence.png"])
            connection.commit()
        db.engine.dispose()  # the next connections check foreign keys again
        flask_migrate.upgrade(revision=REVISION)
        with db.engine.begin() as connection:
            stored = {row.name: row for row in connection.execute(
                text("SELECT name, area, content_type, size, data FROM stored_files"))}
            assert set(stored) == {"public-photo.jpg", "evidence.png"}
            assert (stored["public-photo.jpg"].area, stored["public-photo.jpg"].content_type) == ("public", "image/jpeg")
            assert bytes(stored["public-photo.jpg"].data) == photo
            assert (stored["evidence.png"].area, bytes(stored["evidence.png"].data)) == ("evidence", evidence)
            assert stored["evidence.png"].size == len(evidence)
            # Again (a second host's folder, or the same one): nothing is copied twice.
            assert _migration().import_files(connection, folder) == 0
            assert connection.scalar(text("SELECT COUNT(*) FROM stored_files")) == 2
        with app.test_client() as client:
            served = client.get("/uploads/public-photo.jpg")
            assert served.status_code == 200 and served.data == photo
        assert (folder / "public-photo.jpg").exists()  # left on disk until every host runs this version
        db.engine.dispose()
