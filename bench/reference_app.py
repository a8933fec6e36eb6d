"""What bench/ballot_load.py serves: the real application plus two reference routes.

The references show the floor under a cast on this machine: what any logged-in POST costs
before it does anything (session cookie, CSRF check, loading the user), and what it costs to
answer with the receipt page alone (the round loaded and the page rendered in the site layout,
but no ballot checked or stored). They exist only in this benchmark's app, never in `wsgi:app`.
"""

from __future__ import annotations

import gc

from flask import Flask
from flask_login import current_user, login_required

from deliberation import create_app
from deliberation.core.htmx import render_page
from deliberation.proposals.views import get_round


def create_bench_app() -> Flask:
    app = create_app()

    @login_required
    def logged_in_post():
        return {"user": current_user.id}

    @login_required
    def receipt_page(slug: str, round_id: int):
        round_ = get_round(slug, round_id)
        return render_page("votes/receipt.html", "votes/receipt.html", community=round_.community, round=round_,
                           code="0000-0000-0000", minutes=30)

    app.add_url_rule("/bench/logged-in-post", "bench_logged_in_post", logged_in_post, methods=["POST"])
    app.add_url_rule("/bench/c/<slug>/rounds/<int:round_id>/receipt-page", "bench_receipt_page", receipt_page,
                     methods=["POST"])
    gc.freeze()  # as wsgi.py does
    return app
