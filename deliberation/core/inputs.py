"""Input no column can hold is refused before any query sees it, with a translated message, never a 500.

Whole numbers from outside (addresses, query parameters, form fields) are bounded; text holding a NUL
character (which PostgreSQL cannot store) is refused as a whole request.

One bound for every integer: PostgreSQL's INTEGER, the narrowest integer column the models use
(SQLite's are wider). Fields with a meaning narrower than that (days, weights) add their own range.
"""

from __future__ import annotations

from flask import Flask, request
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from werkzeug.routing import IntegerConverter

from deliberation.core.errors import DomainError

INT_MAX = 2_147_483_647
TOO_LARGE = _l("This number is too large.")


def bounded_int(value) -> int:
    """int(), refusing a number no column can hold (ValueError); usable as a WTForms `coerce`."""
    number = int(str(value).strip())
    if not -INT_MAX <= number <= INT_MAX:
        raise ValueError(str(TOO_LARGE))
    return number


def int_param(values: MultiDict, name: str, default: int | None = None) -> int | None:
    """A whole-number request parameter (query string or posted form): absent or blank gives
    `default`; anything else that is not a number a column can hold is a 400 with a message."""
    raw = values.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return bounded_int(raw)
    except ValueError:
        raise DomainError(_l("The value of “%(name)s” is not a valid number.", name=name),
                          status_code=400) from None


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` in a route: an id no column can hold matches no route (404), as an unknown id does."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 (Werkzeug's signature)
        kwargs.setdefault("max", INT_MAX)
        super().__init__(map, *args, **kwargs)


def refuse_unstorable_text(app: Flask) -> None:
    """A NUL character in any parameter or form field is a 400 (PostgreSQL refuses it in text columns,
    and no form has a use for it); files are not concerned."""

    @app.before_request
    def no_nul_characters():
        for values in (request.args, request.form):
            for key, value in values.items(multi=True):
                if "\x00" in key or "\x00" in value:
                    raise DomainError(_l("The request contains a character that cannot be stored. Please check "
                                         "what you entered or pasted."), status_code=400)
