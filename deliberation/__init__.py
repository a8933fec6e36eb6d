"""The deliberation platform: create_app builds the Flask application."""

from __future__ import annotations

from flask import Flask, g, session
from flask_babel import get_translations
from flask_babel import lazy_gettext as _l
from werkzeug.middleware.proxy_fix import ProxyFix

from deliberation.config import PROJECT_ROOT, Config, load_or_create_audit_key, load_or_create_secret_key
from deliberation.core import (
    browser_prefs,
    transactions,  # noqa: F401 (SQLite connection settings and transaction begins)
)
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
    if not app.config.get("AUDIT_KEY"):
        app.config["AUDIT_KEY"] = load_or_create_audit_key(app.config["INSTANCE_DIR"])
    if app.config["AUDIT_KEY"] == app.config["SECRET_KEY"]:
        raise RuntimeError("AUDIT_KEY must differ from SECRET_KEY (see the README's security notes).")
    if app.config.get("SESSION_COOKIE_SECURE") is None:
        app.config["SESSION_COOKIE_SECURE"] = not app.debug
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]
    app.config.setdefault("PASSWORD_HASH_METHOD", "scrypt")
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:"):
        if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
            app.config["INSTANCE_DIR"].mkdir(parents=True, exist_ok=True)
        # A database file never drops the connection: no "SELECT 1" before every request.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**app.config["SQLALCHEMY_ENGINE_OPTIONS"], "pool_pre_ping": False}

    from deliberation.core.inputs import BoundedIntConverter, refuse_unstorable_text

    app.url_map.converters["int"] = BoundedIntConverter  # before any route is added
    refuse_unstorable_text(app)
    app.wsgi_app = TrustedProxies(app)
    from deliberation.consultations.live import VersionPolls

    app.wsgi_app = VersionPolls(app, app.wsgi_app)
    _init_extensions(app)
    _register_blueprints(app)
    _register_templates(app)
    _register_security_headers(app)

    from deliberation.core.static_files import init_static_files

    init_static_files(app)

    from deliberation.core.errors import register_error_handlers

    register_error_handlers(app)

    from deliberation.cli import register_cli

    register_cli(app)
    return app


class TrustedProxies:
    """Werkzeug's ProxyFix for `TRUSTED_PROXIES` proxies, read at each request (tests change it):
    the client address is taken from X-Forwarded-For only as far as the trusted proxies wrote it."""

    def __init__(self, app: Flask):
        self.app = app
        self.wsgi_app = app.wsgi_app

    def __call__(self, environ, start_response):
        count = self.app.config["TRUSTED_PROXIES"]
        if count > 0:
            return ProxyFix(self.wsgi_app, x_for=count, x_proto=count)(environ, start_response)
        return self.wsgi_app(environ, start_response)



LANG_PARAM_ALIASES = {"en": "en", "zh": "zh_Hans", "zh_hans": "zh_Hans", "zh-hans": "zh_Hans", "zh-cn": "zh_Hans"}
# The primary Accept-Language subtag and the interface language it means (zh-TW, zh-HK: the
# Simplified Chinese interface is still the closest); anything else gets the default.
ACCEPT_LANGUAGE_PRIMARY = {"zh": "zh_Hans", "en": "en"}


def lang_param() -> str | None:
    """The interface language named by a `?lang=` link (en, zh), if any and available."""
    from flask import current_app, request

    chosen = LANG_PARAM_ALIASES.get((request.args.get("lang") or "").strip().lower())
    return chosen if chosen in current_app.config["LANGUAGES"] else None


def select_locale() -> str:
    """`?lang=` first, then the choice kept in the session (or on the account, copied there at
    login) or in this browser's `locale` cookie (core/browser_prefs.py), then the browser's
    Accept-Language; Simplified Chinese when none of them says."""
    from flask import current_app, has_request_context, request

    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():
        return default
    languages = current_app.config["LANGUAGES"]
    from_link = lang_param()
    if from_link:
        return from_link
    chosen = browser_prefs.chosen_locale()
    if chosen in languages:
        return chosen
    for tag, quality in request.accept_languages:  # highest quality first
        locale = ACCEPT_LANGUAGE_PRIMARY.get(tag.lower().replace("_", "-").split("-")[0])
        if quality > 0 and locale in languages:
            return locale
    return default


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

        user_id, _sep, token = session_id.partition(":")
        if not user_id.isdigit() or len(user_id) > 18 or not token:
            return None
        user = session_user(int(user_id))
        if user is None or not user.has_session_token(token):
            return None
        return user


def _register_blueprints(app: Flask) -> None:
    from deliberation.auth.views import bp as auth_bp
    from deliberation.communities.views import bp as communities_bp
    from deliberation.consultations.views import bp as consultations_bp
    from deliberation.core.uploads import bp as uploads_bp
    from deliberation.councils.views import bp as councils_bp
    from deliberation.evaluations.views import bp as evaluations_bp
    from deliberation.grids.views import bp as grids_bp
    from deliberation.notifications.views import bp as notifications_bp
    from deliberation.proposals.views import bp as proposals_bp
    from deliberation.todo.views import bp as todo_bp
    from deliberation.votes.views import bp as votes_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(communities_bp)
    app.register_blueprint(proposals_bp)
    app.register_blueprint(votes_bp)
    app.register_blueprint(evaluations_bp)
    app.register_blueprint(councils_bp)
    app.register_blueprint(consultations_bp)
    app.register_blueprint(uploads_bp)
    app.register_blueprint(todo_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(grids_bp)

    @app.get("/healthz")
    def healthz():
        """Liveness probe for the reverse proxy and the load benchmark: no database, no session."""
        return {"status": "ok"}


def _register_templates(app: Flask) -> None:
    from flask_babel import format_datetime

    from deliberation.core.audit import head as audit_head
    from deliberation.core.confirm import confirmation_for
    from deliberation.core.forms import page_url, safe_next
    from deliberation.core.permissions import TEMPLATE_FUNCTIONS

    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.install_gettext_callables(  # replaces flask_babel's (same results, found once per request)
        gettext=lambda s: _template_translations().ugettext(s),
        ngettext=lambda s, p, n: _template_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _template_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _template_translations().unpgettext(c, s, p, n),
    )
    app.jinja_env.globals.update(TEMPLATE_FUNCTIONS)
    app.jinja_env.globals["safe_next"] = safe_next
    app.jinja_env.globals["page_url"] = page_url
    app.jinja_env.globals["audit_head"] = audit_head
    app.jinja_env.globals["confirmation"] = confirmation_for
    app.jinja_env.filters["datetime"] = lambda value, fmt="yyyy-MM-dd HH:mm": (
        format_datetime(value, fmt) if value else ""
    )
    app.jinja_env.filters["date"] = lambda value: value.isoformat() if value else ""
    app.jinja_env.filters["yuan"] = format_yuan

    @app.before_request
    def remember_lang_link() -> None:
        """A `?lang=` link keeps its language for the rest of the visit (not saved on the account)."""
        from_link = lang_param()
        if from_link and session.get("locale") != from_link:
            session["locale"] = from_link

    @app.context_processor
    def preferences():
        from flask_babel import get_locale

        locale = get_locale()
        return {
            "large_text": browser_prefs.large_text(),
            "current_locale": str(locale) if locale else app.config["BABEL_DEFAULT_LOCALE"],
            "html_lang": "zh-Hans" if str(locale).startswith("zh") else "en",
        }


def _template_translations():
    """flask_babel's translations for the request's locale, remembered for the rest of the request.

    A template's `_()` otherwise looks them up afresh through half a dozen context proxies each
    time, and a page calls it dozens of times (half the cost of rendering the ballot receipt).
    The memo is kept beside flask_babel's own locale and checked against it, so `refresh()` and
    `force_locale()` (which replace or drop that locale) are followed."""
    ctx = g.get("_flask_babel") if g else None
    if ctx is not None:
        memo = getattr(ctx, "template_translations", None)
        if memo is not None and memo[0] is getattr(ctx, "babel_locale", None):
            return memo[1]
    translations = get_translations()
    ctx = g.get("_flask_babel") if g else None
    locale = getattr(ctx, "babel_locale", None)
    if locale is not None:
        ctx.template_translations = (locale, translations)
    return translations


def format_yuan(amount: int | None) -> str:
    """An integer amount of yuan with thousands separators, in the interface language."""
    from flask_babel import gettext

    if amount is None:
        return ""
    return gettext("%(amount)s yuan", amount=f"{amount:,}")


def _register_security_headers(app: Flask) -> None:
    # Only what the pages load: the app itself, plus the one CDN file when a deployment opts in.
    cdn = app.config["HTMX_CDN_URL"] if app.config["HTMX_USE_CDN"] else ""
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

    # Browsers must come back over HTTPS only when the deployment says it serves HTTPS (secure cookies).
    hsts = f"max-age={app.config['HSTS_MAX_AGE']}" if app.config["SESSION_COOKIE_SECURE"] else None

    @app.after_request
    def security_headers(response):
        if hsts:
            response.headers.setdefault("Strict-Transport-Security", hsts)
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.vary.add("HX-Request")
        response.vary.add("Accept-Language")
        return response
