"""Static files: served by the app through WhiteNoise, compressed, under content-hashed names.

`url_for('static', filename='css/app.css')` gives `/static/css/app.<hash>.css`; that name never
changes while the file does not, so it is cached for a year ("immutable"), and a changed file
gets a new name. The hashed copies and their gzip variants are built once per content into a
build folder (instance/static-build by default; the names depend only on the content, so
several workers or hosts building side by side agree).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import tempfile
from pathlib import Path

from flask import Flask
from whitenoise import WhiteNoise

HASH_LENGTH = 12
HASHED_NAME = re.compile(rf"\.[0-9a-f]{{{HASH_LENGTH}}}\.[A-Za-z0-9]+$")
COMPRESSIBLE = {".css", ".js", ".svg", ".txt", ".md", ".ico", ".json", ".map"}
YEAR = 365 * 24 * 60 * 60


def hashed_name(relative: str, content: bytes) -> str:
    """`css/app.css` → `css/app.<first 12 hex of sha256>.css`."""
    digest = hashlib.sha256(content).hexdigest()[:HASH_LENGTH]
    stem, dot, suffix = relative.rpartition(".")
    if not dot or "/" in suffix:
        return f"{relative}.{digest}"
    return f"{stem}.{digest}.{suffix}"


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def build_static(source: Path, target: Path) -> dict[str, str]:
    """Copy every file of `source` to `target` under its hashed name (plus a .gz variant when
    that is smaller); return the manifest {original relative name: hashed relative name}."""
    manifest: dict[str, str] = {}
    for path in sorted(source.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        relative = path.relative_to(source).as_posix()
        content = path.read_bytes()
        name = hashed_name(relative, content)
        manifest[relative] = name
        built = target / name
        if built.exists():
            continue
        if path.suffix.lower() in COMPRESSIBLE:
            compressed = gzip.compress(content, compresslevel=9, mtime=0)
            if len(compressed) < len(content) * 0.95:
                _write_atomically(built.with_name(built.name + ".gz"), compressed)
        _write_atomically(built, content)  # last: its presence means the variants are there too
    return manifest


def init_static_files(app: Flask) -> None:
    """Serve static/ through WhiteNoise under hashed names, and make url_for('static') use them."""
    if not app.config.get("STATIC_HASHED", True):
        return
    source = Path(app.static_folder)
    target = Path(app.config.get("STATIC_BUILD_DIR") or Path(app.config["INSTANCE_DIR"]) / "static-build")
    manifest = build_static(source, target)
    app.extensions["static_manifest"] = manifest

    @app.url_defaults
    def hashed_static_names(endpoint: str, values: dict) -> None:
        if endpoint == "static" and values.get("filename") in manifest:
            values["filename"] = manifest[values["filename"]]

    whitenoise = WhiteNoise(
        app.wsgi_app, root=str(target), prefix=app.static_url_path,
        immutable_file_test=lambda path, url: bool(HASHED_NAME.search(url)), max_age=YEAR,
        allow_all_origins=False,
        add_headers_function=_static_security_headers,
    )
    favicon = target / manifest.get("favicon.ico", "") if "favicon.ico" in manifest else None
    if favicon is not None:
        # Browsers ask for /favicon.ico whatever the page says: a day's cache (the name cannot change).
        whitenoise.max_age = 24 * 60 * 60
        whitenoise.add_file_to_dictionary("/favicon.ico", str(favicon))
        whitenoise.max_age = YEAR
    app.wsgi_app = whitenoise


def _static_security_headers(headers, path: str, url: str) -> None:
    headers["X-Content-Type-Options"] = "nosniff"
