"""Configuration classes: `Config` for running, `TestConfig` for the test suite."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("DELIBERATION_INSTANCE", PROJECT_ROOT / "instance"))


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_or_create_secret_key(instance_dir: Path) -> str:
    """Return SECRET_KEY from the environment, or one generated once and kept in instance/."""
    from_env = os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    instance_dir.mkdir(parents=True, exist_ok=True)
    key_file = instance_dir / "secret_key"
    if not key_file.exists():
        # O_EXCL so two workers starting together cannot both write a different key.
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
    return key_file.read_text().strip()


def normalise_database_url(url: str) -> str:
    """Make `postgres://` and `postgresql://` URLs use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    """Settings for a real deployment; everything secret comes from the environment."""

    INSTANCE_DIR = INSTANCE_DIR
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'deliberation.sqlite3'}")
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SECRET_KEY: str | None = None  # filled in by create_app from env or instance/secret_key

    # None means "Secure unless the app runs in debug mode" (decided in create_app).
    SESSION_COOKIE_SECURE: bool | None = (
        _env_flag("SESSION_COOKIE_SECURE", True) if "SESSION_COOKIE_SECURE" in os.environ else None
    )
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    HSTS_MAX_AGE = int(os.environ.get("HSTS_MAX_AGE", str(60 * 60 * 24 * 365)))  # sent with secure cookies only
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 24 * 30

    MAX_CONTENT_LENGTH = 8 * 1024 * 1024
    ROLL_MAX_BYTES = 5 * 1024 * 1024

    BABEL_DEFAULT_LOCALE = "zh_Hans"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    BABEL_TRANSLATION_DIRECTORIES = str(PROJECT_ROOT / "translations")
    LANGUAGES = {"zh_Hans": "简体中文", "en": "English"}

    # In-process storage is fine for one process; several workers need a shared store.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour")

    HTMX_VERSION = "2.0.11"
    HTMX_CDN_URL = "https://cdn.jsdelivr.net/npm/htmx.org@2.0.11/dist/htmx.min.js"
    HTMX_CDN_INTEGRITY = "sha384-2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg"
    HTMX_USE_CDN = _env_flag("HTMX_USE_CDN", True)

    DEMO_MODE = _env_flag("DELIBERATION_DEMO", False)
    # A Party branch member who submitted an evaluation may publish it alone only after this many hours.
    EVALUATION_COOLING_OFF_HOURS = int(os.environ.get("EVALUATION_COOLING_OFF_HOURS", "24"))
    WTF_CSRF_TIME_LIMIT = None  # token lives as long as the session: elderly users fill forms slowly


class TestConfig(Config):
    """Settings for the test suite: a throwaway database, no real secrets."""

    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105 (tests only)
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    SESSION_COOKIE_SECURE = False
    RATELIMIT_STORAGE_URI = "memory://"
    HTMX_USE_CDN = False
    DEMO_MODE = False
