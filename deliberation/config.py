"""Configuration classes: `Config` for running, `TestConfig` for the test suite."""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("DELIBERATION_INSTANCE", PROJECT_ROOT / "instance"))


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _load_or_create_key(env_name: str, key_file: Path) -> str:
    """The key in the environment variable, or one generated once into `key_file` (mode 0600)."""
    from_env = os.environ.get(env_name)
    if from_env:
        return from_env
    key_file.parent.mkdir(parents=True, exist_ok=True)
    if not key_file.exists():
        # O_EXCL so two workers starting together cannot both write a different key.
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
            logging.getLogger(__name__).warning(
                "Generated a new %s in %s: if this deployment had one before, restore it.", env_name, key_file)
    return key_file.read_text().strip()


def load_or_create_secret_key(instance_dir: Path) -> str:
    """Return SECRET_KEY from the environment, or one generated once and kept in instance/."""
    return _load_or_create_key("SECRET_KEY", instance_dir / "secret_key")


def load_or_create_audit_key(instance_dir: Path) -> str:
    """Return AUDIT_KEY from the environment, or one generated once and kept in instance/audit_key.

    It signs every audit event (core/audit.py) and lives outside the database, so that whoever can
    write to the database alone cannot rewrite the log unnoticed. Separate from SECRET_KEY: rotating
    the session key must not make the audit log unverifiable.
    """
    return _load_or_create_key("AUDIT_KEY", instance_dir / "audit_key")


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
    AUDIT_KEY: str | None = None  # filled in by create_app from env or instance/audit_key

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

    # How many reverse proxies in front of the app append to X-Forwarded-For (and set -Proto). 0: the
    # header is ignored and the client is the peer address, as a forged header must not pick it.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))

    # In-process storage is fine for one process; several workers or hosts need Redis
    # (redis://host:6379/0), so that every worker counts the same failures.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # While Redis cannot be reached, each process keeps counting in memory instead of letting everything through.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # Failed logins only (a success never counts). Per client address: generous, since a help-to-vote
    # desk or a mobile carrier's NAT puts many people behind one address.
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "30 per minute;300 per hour")
    # Failed logins per client address and account: guessing one account's password is slowed to
    # this; the owner logging in from any other address is not affected.
    LOGIN_ACCOUNT_RATE_LIMIT = os.environ.get("LOGIN_ACCOUNT_RATE_LIMIT", "5 per minute;20 per hour")
    # New accounts per client address (each one tells its maker whether a phone number was free).
    REGISTER_RATE_LIMIT = os.environ.get("REGISTER_RATE_LIMIT", "10 per hour;30 per day")
    # One-time SMS codes that prove a phone number (auth/phone_codes.py).
    PHONE_CODE_TTL_SECONDS = int(os.environ.get("PHONE_CODE_TTL_SECONDS", "600"))
    PHONE_CODE_MAX_ATTEMPTS = int(os.environ.get("PHONE_CODE_MAX_ATTEMPTS", "5"))
    PHONE_CODE_RESEND_SECONDS = int(os.environ.get("PHONE_CODE_RESEND_SECONDS", "60"))
    PHONE_CODE_LOCKOUT_SECONDS = int(os.environ.get("PHONE_CODE_LOCKOUT_SECONDS", "300"))
    PHONE_CODE_KEY = os.environ.get("PHONE_CODE_KEY")  # default: derived from SECRET_KEY
    # SMS sent per client address and number: repeated requests for one number from one place slow
    # down. There is no limit per number alone: a stranger could use it up and keep the owner from
    # ever getting a code.
    PHONE_CODE_RATE_LIMIT = os.environ.get("PHONE_CODE_RATE_LIMIT", "2 per minute;6 per hour")
    # SMS sent per client address, whatever the number (a carrier's NAT holds many people: generous).
    PHONE_CODE_ADDRESS_RATE_LIMIT = os.environ.get("PHONE_CODE_ADDRESS_RATE_LIMIT", "20 per hour;100 per day")
    SMS_BACKEND = os.environ.get("SMS_BACKEND", "file")
    SMS_FILE = os.environ.get("SMS_FILE") or None  # default: instance/sms.log

    HTMX_VERSION = "2.0.11"
    HTMX_CDN_URL = "https://cdn.jsdelivr.net/npm/htmx.org@2.0.11/dist/htmx.min.js"
    HTMX_CDN_INTEGRITY = "sha384-2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg"
    # The vendored copy by default: a hanging CDN would hold every page for half a minute.
    HTMX_USE_CDN = _env_flag("HTMX_USE_CDN", False)
    # Hashed, gzip-compressed copies of static/ are built here once per content (see core/static_files.py).
    STATIC_BUILD_DIR = os.environ.get("STATIC_BUILD_DIR") or None

    DEMO_MODE = _env_flag("DELIBERATION_DEMO", False)
    # A Party branch member who submitted an evaluation may publish it alone only after this many hours.
    EVALUATION_COOLING_OFF_HOURS = int(os.environ.get("EVALUATION_COOLING_OFF_HOURS", "24"))
    WTF_CSRF_TIME_LIMIT = None  # token lives as long as the session: elderly users fill forms slowly

    # Notifications (deliberation/notifications): links in e-mails and SMS start with this address.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")  # empty: e-mails wait in the outbox, marked failed
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = _env_flag("MAIL_USE_TLS", False)  # STARTTLS
    MAIL_USE_SSL = _env_flag("MAIL_USE_SSL", False)  # SMTP over TLS (port 465)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "noreply@localhost")
    MAIL_TIMEOUT = int(os.environ.get("MAIL_TIMEOUT", "30"))
    SMS_BACKEND = os.environ.get("SMS_BACKEND", "file")  # file | aliyun
    SMS_ALIYUN_ENDPOINT = os.environ.get("SMS_ALIYUN_ENDPOINT", "https://dysmsapi.aliyuncs.com/")
    SMS_ALIYUN_ACCESS_KEY_ID = os.environ.get("SMS_ALIYUN_ACCESS_KEY_ID", "")
    SMS_ALIYUN_ACCESS_KEY_SECRET = os.environ.get("SMS_ALIYUN_ACCESS_KEY_SECRET", "")
    SMS_ALIYUN_SIGN_NAME = os.environ.get("SMS_ALIYUN_SIGN_NAME", "")
    # An approved template with one variable, ${content}, that carries the whole message.
    SMS_ALIYUN_TEMPLATE_CODE = os.environ.get("SMS_ALIYUN_TEMPLATE_CODE", "")
    SMS_TIMEOUT = int(os.environ.get("SMS_TIMEOUT", "15"))
    NOTIFY_MAX_ATTEMPTS = int(os.environ.get("NOTIFY_MAX_ATTEMPTS", "6"))
    # Live meetings (core/live.py). Server-Sent Events hold one connection per open page: they need a
    # server that serves many connections at once (gunicorn --worker-class gthread or gevent, or the
    # threaded Flask dev server). "auto": streams only where the server says it is multithreaded
    # (wsgi.multithread; gunicorn's sync workers are not); "1" always, "0" never. Without streams the
    # pages poll conditionally (304 while nothing changed).
    LIVE_EVENTS = os.environ.get("LIVE_EVENTS", "auto")
    LIVE_CHECK_SECONDS = float(os.environ.get("LIVE_CHECK_SECONDS", "1"))  # a stream's database check
    LIVE_HEARTBEAT_SECONDS = float(os.environ.get("LIVE_HEARTBEAT_SECONDS", "15"))
    LIVE_STREAM_SECONDS = float(os.environ.get("LIVE_STREAM_SECONDS", "300"))  # then the browser reconnects
    LIVE_RETRY_MS = int(os.environ.get("LIVE_RETRY_MS", "1000"))  # the browser's reconnection delay
    # Redis (redis://host:6379/0) wakes streams at once on every host; without it they check the database.
    REDIS_URL = os.environ.get("REDIS_URL", "")

    NOTIFY_BACKOFF_SECONDS = int(os.environ.get("NOTIFY_BACKOFF_SECONDS", "60"))  # doubles after each failure
    # A claimed delivery whose worker died is taken again after this; longer than any send's timeout.
    NOTIFY_LEASE_SECONDS = int(os.environ.get("NOTIFY_LEASE_SECONDS", "300"))
    NOTIFY_BATCH_SIZE = int(os.environ.get("NOTIFY_BATCH_SIZE", "100"))
    DIGEST_HOUR = int(os.environ.get("DIGEST_HOUR", "8"))  # Beijing time, for those who chose a daily digest


class TestConfig(Config):
    """Settings for the test suite: a throwaway database, no real secrets."""

    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105 (tests only)
    AUDIT_KEY = "test-audit-key-not-for-production"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    SESSION_COOKIE_SECURE = False
    RATELIMIT_STORAGE_URI = "memory://"
    HTMX_USE_CDN = False
    DEMO_MODE = False
    LIVE_EVENTS = "1"  # the test client is not multithreaded
    LIVE_STREAM_SECONDS = 0  # an event stream answers once and ends (tests read it to the end)
    REDIS_URL = ""
    # Content-addressed names: every test app can share one build folder.
    STATIC_BUILD_DIR = Path(tempfile.gettempdir()) / f"deliberation-static-test-{os.getuid()}"
