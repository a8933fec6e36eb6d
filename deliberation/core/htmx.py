"""One helper decides between the full page and its htmx partial."""

from __future__ import annotations

from flask import current_app, make_response, render_template, request, session


def is_htmx_request() -> bool:
    """True for an htmx request that wants a fragment (boosted requests want whole pages)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


def render_page(full: str, partial: str, *, status_code: int = 200, **context):
    """Render `partial` for htmx and `full` otherwise; the full page includes the partial."""
    if not is_htmx_request():
        response = make_response(render_template(full, **context), status_code)
    else:
        body = render_template(partial, **context)
        if session.get("_flashes"):
            # A message given to this action is shown with it (swapped into the page's message
            # area), instead of waiting in the session for some unrelated later page.
            body += render_template("_flashes.html", oob=True)
        response = make_response(body, status_code)
    response.vary.add("HX-Request")
    return response


def redirect_to(location: str):
    """Redirect after a successful POST: htmx gets HX-Redirect (a full page load), others a 303 with no
    body (browsers follow it at once; Werkzeug's "Redirecting..." page is never seen)."""
    if is_htmx_request():
        return current_app.response_class(status=204, headers={"HX-Redirect": location, "Vary": "HX-Request"})
    return current_app.response_class(status=303, headers={"Location": location, "Vary": "HX-Request"})
