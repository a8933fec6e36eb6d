"""One helper decides between the full page and its htmx partial."""

from __future__ import annotations

from flask import make_response, redirect, render_template, request


def is_htmx_request() -> bool:
    """True for an htmx request that wants a fragment (boosted requests want whole pages)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


def render_page(full: str, partial: str, *, status_code: int = 200, **context):
    """Render `partial` for htmx and `full` otherwise; the full page includes the partial."""
    template = partial if is_htmx_request() else full
    response = make_response(render_template(template, **context), status_code)
    response.vary.add("HX-Request")
    return response


def redirect_to(location: str):
    """Redirect after a successful POST: htmx gets HX-Redirect (a full page load), others a 303."""
    if is_htmx_request():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = location
    else:
        response = redirect(location, code=303)
    response.vary.add("HX-Request")
    return response
