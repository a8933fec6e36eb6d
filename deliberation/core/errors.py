"""DomainError and the error pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RoutingException


class DomainError(Exception):
    """A rule of the domain refused an action; the message is shown to the user."""

    status_code = 409

    def __init__(self, message, *, field: str | None = None, status_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if status_code is not None:
            self.status_code = status_code


ERROR_TEXTS = {
    400: (_l("Bad request"), _l("The request could not be understood. Please go back and try again.")),
    403: (_l("Not allowed"), _l("You do not have permission to do this.")),
    404: (_l("Page not found"), _l("The page you asked for does not exist or has been removed.")),
    405: (_l("Not allowed"), _l("This action cannot be done this way.")),
    409: (_l("Cannot do this now"), _l("This action conflicts with the current state.")),
    413: (_l("File too large"), _l("The file you sent is too large. Please choose a smaller file.")),
    422: (_l("Check your input"), _l("Some of what you entered is not valid.")),
    429: (_l("Too many attempts"), _l("Too many attempts. Please wait a minute and try again.")),
    500: (_l("Something went wrong"),
          _l("An error occurred on our side. It has been recorded; please try again later.")),
}


def _same_site_referer() -> str | None:
    """The page the user came from, as a path on this site, or None (foreign, odd, or this very page)."""
    from deliberation.core.forms import safe_next  # forms imports this module

    referer = request.headers.get("Referer", "")
    try:
        parts = urlsplit(referer)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or parts.netloc != request.host:
        return None
    path = safe_next((parts.path or "/") + (f"?{parts.query}" if parts.query else ""), "")
    if not path or (parts.path == request.path and request.method == "GET"):
        return None  # odd, or reloading the error page: leading "back" to it would go round in circles
    return path


def _parent_page() -> str:
    """The nearest page above the current path (`/c/x/admin` → `/c/x`), or the home page."""
    adapter = current_app.create_url_adapter(request)
    segments = [s for s in request.path.split("/") if s]
    for end in range(len(segments) - 1, 0, -1):
        candidate = "/" + "/".join(segments[:end])
        try:
            endpoint, _args = adapter.match(candidate, method="GET")
        except (HTTPException, RoutingException):  # NotFound, MethodNotAllowed, RequestRedirect: not a page
            endpoint = None
        if endpoint not in (None, "static"):
            return candidate
    return "/"


def render_error(status: int, message=None):
    """Render the translated error page inside the layout, with a way back to where the user was;
    for htmx, the message alone, put in the page's message area (HX-Retarget).

    Whatever the request flushed is rolled back first: nothing of a refused request is half-saved,
    and a transaction the database aborted (an integer overflow on PostgreSQL, say) cannot make the
    error page fail in turn (PendingRollbackError) when it loads the user or the navigation.
    """
    from deliberation.core.htmx import is_htmx_request
    from deliberation.extensions import db

    db.session.rollback()
    title, default_text = ERROR_TEXTS.get(status, ERROR_TEXTS[500])
    message = message or default_text
    if is_htmx_request():
        response = make_response(render_template("errors/_inline.html", title=title, message=message), status)
        response.headers["HX-Retarget"] = "#flashes"
        response.headers["HX-Reswap"] = "innerHTML show:top"
        response.vary.add("HX-Request")
        return response
    referer = _same_site_referer()
    back_url = referer or _parent_page()
    return render_template("errors/error.html", status=status, title=title, message=message, back_url=back_url,
                           back_is_referer=referer is not None), status


def register_error_handlers(app: Flask) -> None:
    """Every HTTP error and DomainError becomes a page in the layout, never a bare traceback."""

    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError):
        return render_error(error.status_code, error.message)

    @app.errorhandler(CSRFError)
    def handle_csrf_error(error: CSRFError):
        return render_error(
            400, _l("The form has expired or was not sent from this site. Please reload the page and try again.")
        )

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        # Unhandled exceptions reach here as InternalServerError (Flask has logged them already).
        if error.code is None or error.code < 400:
            return error
        if error.response is not None:  # a page prepared for this error (a rate limit naming the time)
            return error.response
        return render_error(error.code)
