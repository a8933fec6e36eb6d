"""`page_url()`: where the header's language and text-size forms send the browser back to."""

from __future__ import annotations

from deliberation.core.forms import page_url


def test_a_get_page_is_itself_with_its_query(app):
    with app.test_request_context("/c/taoyuan/rounds/3?tab=ballots", method="GET"):
        assert page_url() == "/c/taoyuan/rounds/3?tab=ballots"


def test_a_post_page_is_its_path_when_it_answers_get(app):
    with app.test_request_context("/c/taoyuan/rounds/3/ballots", method="POST"):
        assert page_url() == "/c/taoyuan/rounds/3/ballots"


def test_a_post_only_page_is_the_nearest_page_above_that_answers_get(app):
    with app.test_request_context("/c/taoyuan/rounds/3/vote/cast", method="POST"):
        assert page_url() == "/c/taoyuan/rounds/3/vote"
    with app.test_request_context("/prefs/text-size", method="POST"):
        assert page_url() == "/"
