"""DomainError and the error pages."""

from __future__ import annotations

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


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


def render_error(status: int, message=None):
    """Render the translated error page inside the layout.

    Whatever the request flushed is rolled back first: nothing of a refused request is half-saved,
    and a transaction the database aborted (an integer overflow on PostgreSQL, say) cannot make the
    error page fail in turn (PendingRollbackError) when it loads the user or the navigation.
    """
    from deliberation.extensions import db

    db.session.rollback()
    title, default_text = ERROR_TEXTS.get(status, ERROR_TEXTS[500])
    return render_template("errors/error.html", status=status, title=title, message=message or default_text), status


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
        return render_error(error.code)
