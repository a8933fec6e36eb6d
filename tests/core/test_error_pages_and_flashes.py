"""Error pages say the problem in words and lead back to where the user was; a message
(flash) is shown once, with the action it belongs to, never on an unrelated later page."""

from __future__ import annotations

import re

import pytest

from tests.conftest import login_as

HX = {"HX-Request": "true"}


def _heading(page: str) -> str:
    return re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S).group(1)


def _back_link(page: str) -> str:
    return re.search(r'<a href="([^"]*)"[^>]*data-testid="error-back"', page).group(1)


@pytest.mark.parametrize("path,status", [("/c/taoyuan/admin", 403), ("/c/taoyuan/no-such-page", 404)])
def test_error_headings_say_the_problem_in_words_without_a_status_number(client, world, path, status):
    login_as(client, world.resident)
    response = client.get(path)
    assert response.status_code == status
    heading = _heading(response.get_data(as_text=True))
    assert not re.search(r"\d{3}", heading), heading


def test_the_error_page_leads_back_to_the_page_the_user_came_from(client, world):
    login_as(client, world.resident)
    response = client.get("/c/taoyuan/admin", headers={"Referer": "http://localhost/c/taoyuan/rounds?page=2"})
    assert _back_link(response.get_data(as_text=True)) == "/c/taoyuan/rounds?page=2"


@pytest.mark.parametrize("referer", [None, "https://evil.example/c/taoyuan", "http://localhost/c/taoyuan/admin"])
def test_without_a_usable_referer_the_error_page_leads_to_the_parent_page(client, world, referer):
    login_as(client, world.resident)
    headers = {"Referer": referer} if referer else {}
    page = client.get("/c/taoyuan/admin", headers=headers).get_data(as_text=True)
    assert _back_link(page) == "/c/taoyuan"  # the community's page, not the site's home page
    assert "evil.example" not in page


def test_a_flash_given_to_an_htmx_action_is_shown_with_it_and_not_on_the_next_page(client, world):
    login_as(client, world.admin)
    response = client.post(f"/c/taoyuan/admin/residents/{world.pending.id}/verify", headers=HX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    name = world.pending.user.display_name
    assert 'id="flashes"' in body and 'hx-swap-oob' in body and name in body  # swapped into the page's message area
    later = client.get("/c/taoyuan").get_data(as_text=True)
    assert name not in later and "flash-success" not in later


def test_every_page_has_a_message_area_for_htmx_to_fill(client):
    assert 'id="flashes"' in client.get("/").get_data(as_text=True)


def test_an_htmx_action_that_is_refused_shows_why_in_the_message_area(client, world):
    login_as(client, world.resident)
    response = client.post("/c/taoyuan/admin/residents/1/verify", headers=HX)
    assert response.status_code == 403
    assert response.headers["HX-Retarget"] == "#flashes"
    assert "您没有权限进行此操作。" in response.get_data(as_text=True)
    assert "<html" not in response.get_data(as_text=True)
