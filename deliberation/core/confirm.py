"""Irreversible actions ask once: in the browser (static/js/confirm.js) or on a confirmation page.

A form that does something irreversible carries `data-confirm` (the question and its consequence);
the script asks with `window.confirm` and adds `confirmed=1`. Without JavaScript the view receives a
POST without `confirmed=1` and answers with `confirmation_page`, which states the consequence and
re-posts the same fields with `confirmed=1` (and a fresh CSRF token), or links back.

The texts live in one place per action (`Confirmation` builders in each area's `confirmations.py`,
registered with `@confirmation`), so the button, the dialog and the page say the same thing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import make_response, render_template, request

from deliberation.core.htmx import is_htmx_request


@dataclass(frozen=True)
class Confirmation:
    """What an irreversible action will do, in the user's words."""

    question: str  # the heading: "结束投票并计票？"
    consequence: str  # what cannot be undone afterwards
    button: str  # the label of the button that does it

    @property
    def message(self) -> str:
        """The text of the browser's dialog: the question, then the consequence."""
        return f"{self.question}\n{self.consequence}"


CONFIRMATIONS: dict[str, Callable[..., Confirmation]] = {}


def confirmation(builder: Callable[..., Confirmation]) -> Callable[..., Confirmation]:
    """Register a builder; templates call it as `confirmation('name', obj)`."""
    CONFIRMATIONS[builder.__name__] = builder
    return builder


def confirmation_for(name: str, *args, **kwargs) -> Confirmation:
    """The template global: the registered builder `name` applied to the arguments."""
    return CONFIRMATIONS[name](*args, **kwargs)


def is_confirmed() -> bool:
    """True when the user has already said yes (dialog or confirmation page)."""
    return request.form.get("confirmed") == "1"


def confirmation_page(confirm: Confirmation, *, cancel_url: str):
    """The page a view returns instead of acting when the POST is not confirmed (`is_confirmed()`).

    The page re-posts every field of the original form (except the CSRF token, which it renews),
    so the action runs exactly as it would have, once confirmed.
    """
    fields = [(key, value) for key, values in request.form.lists() if key not in {"csrf_token", "confirmed"}
              for value in values]
    template = "_confirm.html" if is_htmx_request() else "confirm.html"
    response = make_response(render_template(template, confirm=confirm, action=request.path, fields=fields,
                                              cancel_url=cancel_url))
    if is_htmx_request():
        # Only reached when the page's script did not run: show the question in place of the page body.
        response.headers["HX-Retarget"] = "#main"
        response.headers["HX-Reswap"] = "innerHTML"
    response.vary.add("HX-Request")
    return response
