"""Form helpers shared by every area."""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import DataRequired, InputRequired, Length, StopValidation
from wtforms.widgets import TextInput

from deliberation.core.errors import DomainError
from deliberation.core.inputs import TOO_LARGE, bounded_int


def required():
    return DataRequired(message=_l("This field is required."))


def required_input():
    """Like required(), but keeps a parse error (e.g. letters in a number) instead of replacing it."""
    return InputRequired(message=_l("This field is required."))


def max_length(n: int):
    return Length(max=n, message=_l("At most %(max)d characters.", max=n))


def optional_int(value) -> int | None:
    """Coerce a select's value to int; blank (nothing chosen), garbage or a number no column can hold
    gives None (which the select's own validation then refuses)."""
    if value in (None, ""):
        return None
    try:
        return bounded_int(value)
    except (TypeError, ValueError):
        return None


def apply_domain_error(form: FlaskForm, error: DomainError) -> None:
    """Show a service's refusal next to the field it concerns, or at the top of the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def fail_form(form: FlaskForm, error: DomainError) -> None:
    """Undo what the service flushed and show its message on the form."""
    from deliberation.extensions import db

    db.session.rollback()
    apply_domain_error(form, error)


def form_status(form: FlaskForm) -> int:
    """422 for a submitted form that is being shown again (htmx swaps it; see base.html)."""
    return 422 if form.is_submitted() else 200


def safe_next(target: str | None, default: str) -> str:
    r"""The one check for every redirect target that comes from the request (`next`, a referrer):
    only a path on this site is followed, anything else gives `default`.

    Browsers drop tabs and newlines anywhere in a URL and control characters and spaces around it,
    and read a backslash as a slash, so `/\t/evil.example` and `/\evil.example` lead off-site:
    such characters are removed first, then anything with a scheme, a host or a leading `//` is refused.
    """
    if not target:
        return default
    cleaned = "".join(ch for ch in target if not _is_stripped_in_urls(ch))
    if not cleaned.startswith("/") or cleaned.startswith("//") or "\\" in cleaned:
        return default
    parts = urlsplit(cleaned)
    if parts.scheme or parts.netloc:
        return default
    return cleaned


def _is_stripped_in_urls(ch: str) -> bool:
    """Whitespace and control, format or unassigned characters (tab, newline, NUL, zero-width space...)."""
    return ch.isspace() or unicodedata.category(ch)[0] in ("C", "Z")


class BoundedIntegerField(IntegerField):
    """IntegerField for every form: a number no column can hold is refused with a translated message."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self._refuse_out_of_range()

    def _refuse_out_of_range(self):
        if self.data is not None:
            try:
                bounded_int(self.data)
            except ValueError:
                self.data = None
                raise ValueError(TOO_LARGE) from None

    def pre_validate(self, form):
        # A number that did not parse keeps its one message; a range validator would add a second.
        if self.process_errors and self.raw_data and str(self.raw_data[0]).strip():
            raise StopValidation()


class YuanField(BoundedIntegerField):
    """A whole number of yuan; accepts '200,000', '200 000' and full-width digits."""

    widget = TextInput()  # type=number would refuse the thousands separators people type

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        text = unicodedata.normalize("NFKC", valuelist[0]).replace(",", "").replace(" ", "").replace("，", "")
        text = text.removesuffix("元")
        try:
            self.data = int(text)
        except ValueError as error:
            self.data = None
            raise ValueError(_l("Enter a whole number of yuan, for example 50000.")) from error
        self._refuse_out_of_range()


def page_url() -> str:
    """Where a form on this page (language, text size) sends the browser back to: a URL that answers GET.

    A GET page is itself (with its query). A page rendered in answer to a POST (a 422 form, a
    confirmation) is its own path when that path also answers GET, else the nearest page above it
    that does (`/c/x/rounds/3/vote/confirm` → `/c/x/rounds/3/vote`), else the home page: a redirect
    to a POST-only URL would answer 405 and lose the page."""
    from flask import current_app, request
    from werkzeug.exceptions import HTTPException
    from werkzeug.routing import RequestRedirect

    if request.method == "GET":
        return request.full_path.rstrip("?")
    adapter = current_app.url_map.bind("", script_name=request.script_root or None)
    path = request.path.rstrip("/") or "/"
    while path:
        try:
            adapter.match(path, method="GET")
        except RequestRedirect as redirect:  # a rule wanting the trailing slash: it answers GET
            return urlsplit(redirect.new_url).path
        except HTTPException:
            path = path.rsplit("/", 1)[0]
            continue
        return (request.script_root or "") + path
    return (request.script_root or "") + "/"
