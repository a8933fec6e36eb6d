"""The deliberation platform: create_app builds the Flask application."""

from __future__ import annotations

from flask import Flask, session
from flask_babel import lazy_gettext as _l

from deliberation.config import PROJECT_ROOT, Config, load_or_create_secret_key
from deliberation.core import transactions  # noqa: F401 (SQLite connection settings and transaction begins)
from deliberation.extensions import babel, csrf, db, limiter, login_manager, migrate


def create_app(config: type | dict | None = None) -> Flask:
    """Build the app from `Config`, a config class, or a mapping of overrides."""
    app = Flask(
        __name__,
        instance_path=str(Config.INSTANCE_DIR),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_or_create_secret_key(app.config["INSTANCE_DIR"])
    if app.config.get("SESSION_COOKIE_SECURE") is None:
        app.config["SESSION_COOKIE_SECURE"] = not app.debug
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]
    app.config.setdefault("PASSWORD_HASH_METHOD", "scrypt")
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:"):
        if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
            app.config["INSTANCE_DIR"].mkdir(parents=True, exist_ok=True)
        # A database file never drops the connection: no "SELECT 1" before every request.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**app.config["SQLALCHEMY_ENGINE_OPTIONS"], "pool_pre_ping": False}

    _init_extensions(app)
    _register_blueprints(app)
    _register_templates(app)
    _register_security_headers(app)

    from deliberation.core.errors import register_error_handlers

    register_error_handlers(app)

    from deliberation.cli import register_cli

    register_cli(app)
    return app


def select_locale() -> str:
    from flask import current_app, has_request_context

    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("locale")
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True,
                     compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.login_message_category = "info"

    # Import every model so that metadata (and Alembic autogenerate) sees the whole schema.
    from deliberation import models  # noqa: F401

    @login_manager.user_loader
    def load_user(session_id: str):
        from deliberation.auth.services import session_user

        user_id, _sep, version = session_id.partition(":")
        if not user_id.isdigit() or not version.isdigit():
            return None
        user = session_user(int(user_id))
        if user is None or user.auth_version != int(version):
            return None
        return user


def _register_blueprints(app: Flask) -> None:
    from deliberation.auth.views import bp as auth_bp
    from deliberation.communities.views import bp as communities_bp
    from deliberation.consultations.views import bp as consultations_bp
    from deliberation.core.uploads import bp as uploads_bp
    from deliberation.councils.views import bp as councils_bp
    from deliberation.evaluations.views import bp as evaluations_bp
    from deliberation.proposals.views import bp as proposals_bp
    from deliberation.votes.views import bp as votes_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(communities_bp)
    app.register_blueprint(proposals_bp)
    app.register_blueprint(votes_bp)
    app.register_blueprint(evaluations_bp)
    app.register_blueprint(councils_bp)
    app.register_blueprint(consultations_bp)
    app.register_blueprint(uploads_bp)

    @app.get("/healthz")
    def healthz():
        """Liveness probe for the reverse proxy and the load benchmark: no database, no session."""
        return {"status": "ok"}


def _register_templates(app: Flask) -> None:
    from flask_babel import format_datetime

    from deliberation.core.confirm import confirmation_for
    from deliberation.core.forms import safe_next
    from deliberation.core.permissions import TEMPLATE_FUNCTIONS

    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals.update(TEMPLATE_FUNCTIONS)
    app.jinja_env.globals["safe_next"] = safe_next
    app.jinja_env.globals["confirmation"] = confirmation_for
    app.jinja_env.filters["datetime"] = lambda value, fmt="yyyy-MM-dd HH:mm": (
        format_datetime(value, fmt) if value else ""
    )
    app.jinja_env.filters["date"] = lambda value: value.isoformat() if value else ""
    app.jinja_env.filters["yuan"] = format_yuan

    @app.context_processor
    def preferences():
        from flask_babel import get_locale

        locale = get_locale()
        return {
            "large_text": bool(session.get("large_text")),
            "current_locale": str(locale) if locale else app.config["BABEL_DEFAULT_LOCALE"],
            "html_lang": "zh-Hans" if str(locale).startswith("zh") else "en",
        }


def format_yuan(amount: int | None) -> str:
    """An integer amount of yuan with thousands separators, in the interface language."""
    from flask_babel import gettext

    if amount is None:
        return ""
    return gettext("%(amount)s yuan", amount=f"{amount:,}")


def _register_security_headers(app: Flask) -> None:
    cdn = app.config["HTMX_CDN_URL"].split("/npm/")[0] if app.config["HTMX_USE_CDN"] else ""
    policy = "; ".join([
        "default-src 'self'",
        f"script-src 'self' {cdn}".strip(),
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
    ])

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.vary.add("HX-Request")
        return response
