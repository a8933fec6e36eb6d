"""stored files: uploaded photos and evidence in the database, imported from the instance folder

Revision ID: d4e8f2a6b1c3
Revises: a7c3e9f1b2d4
Create Date: 2026-11-30 02:15:00

Until this revision photos were files: public ones in <instance>/uploads (or UPLOAD_DIR), evidence in
<instance>/uploads/evaluations. The upgrade copies every file that a row still names into
stored_files (files no row names were orphans and are left alone); a name already imported is
skipped, so running the upgrade again after a downgrade, or on a second host's folder, imports only
what is missing. The files stay on disk: delete the folders once every host runs this version.
"""
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from flask import current_app, has_app_context


# revision identifiers, used by Alembic.
revision = 'd4e8f2a6b1c3'
down_revision = 'd4e8b1c7a9f2'
branch_labels = None
depends_on = None


CONTENT_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}

stored_files = sa.table('stored_files', sa.column('name', sa.String), sa.column('area', sa.String),
                        sa.column('content_type', sa.String), sa.column('size', sa.Integer),
                        sa.column('data', sa.LargeBinary), sa.column('created_at', sa.DateTime))


def legacy_upload_dir() -> Path | None:
    """Where this deployment kept its uploads (the app's settings at the time of this revision)."""
    if not has_app_context():
        return None
    config = current_app.config
    return Path(config.get("UPLOAD_DIR") or Path(config["INSTANCE_DIR"]) / "uploads")


def import_files(connection, folder: Path) -> int:
    """Copy into stored_files every file of `folder` (public photos) and `folder`/evaluations (evidence)
    that a row names and that is not imported yet; return how many were copied."""
    now = datetime.now(UTC).replace(tzinfo=None)
    present = set(connection.scalars(sa.select(stored_files.c.name)))
    wanted = [(name, "public", folder, None)
              for name in connection.scalars(sa.text("SELECT DISTINCT filename FROM photos"))]
    wanted += [(name, "evidence", folder / "evaluations", content_type) for name, content_type in
               connection.execute(sa.text("SELECT DISTINCT filename, content_type FROM evaluation_photos"))]
    copied = 0
    for name, area, directory, content_type in wanted:
        path = directory / Path(name).name
        if name in present or not path.is_file():
            continue
        data = path.read_bytes()
        content_type = content_type or CONTENT_TYPES.get(path.suffix.lstrip(".").lower(), "application/octet-stream")
        connection.execute(stored_files.insert().values(name=name, area=area, content_type=content_type,
                                                        size=len(data), data=data, created_at=now))
        present.add(name)
        copied += 1
    return copied


def upgrade():
    op.create_table('stored_files',
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('area', sa.String(length=20), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_stored_files'))
    )
    with op.batch_alter_table('stored_files', schema=None) as batch_op:
        batch_op.create_index('ix_stored_files_area_created_at', ['area', 'created_at'], unique=False)

    folder = legacy_upload_dir()
    if folder is not None:
        import_files(op.get_bind(), folder)


def downgrade():
    # Photos stored after the upgrade exist only in this table and are lost with it.
    with op.batch_alter_table('stored_files', schema=None) as batch_op:
        batch_op.drop_index('ix_stored_files_area_created_at')

    op.drop_table('stored_files')
