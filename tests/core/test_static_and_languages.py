"""What a phone on a slow or filtered network gets: vendored htmx, a tight CSP, compressed and
cache-busted static files, a favicon; and English for visitors who ask for it."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from deliberation import create_app
from deliberation.config import Config
from deliberation.extensions import db
from tests.conftest import make_test_config

STATIC = Path(__file__).resolve().parents[2] / "static"


def _assets(page: str) -> list[str]:
    return re.findall(r'<(?:link rel="stylesheet"|script) (?:href|src)="(/static/[^"]+)"', page)


def test_pages_load_the_vendored_htmx_by_default_and_name_no_cdn(client, monkeypatch):
    monkeypatch.delenv("HTMX_USE_CDN", raising=False)
    assert Config.HTMX_USE_CDN is False  # the shipped default, not only the test setting
    response = client.get("/")
    page = response.get_data(as_text=True)
    assert "cdn.jsdelivr.net" not in page
    assert re.search(r'<script src="/static/vendor/htmx/htmx-2\.0\.11\.min\.[0-9a-f]{12}\.js"', page)
    csp = response.headers["Content-Security-Policy"]
    assert "https:" not in csp and "script-src 'self';" in csp


def test_a_deployment_that_opts_in_allows_exactly_the_cdn_file(tmp_path_factory):
    app = create_app(make_test_config(tmp_path_factory, HTMX_USE_CDN=True))
    with app.app_context():
        db.create_all()
    csp = app.test_client().get("/").headers["Content-Security-Policy"]
    assert f"script-src 'self' {Config.HTMX_CDN_URL};" in csp
    assert "https://cdn.jsdelivr.net " not in csp and "https://cdn.jsdelivr.net;" not in csp


def test_static_files_are_compressed_and_cached_for_a_year_under_hashed_names(client):
    page = client.get("/").get_data(as_text=True)
    assets = _assets(page)
    assert len(assets) >= 3
    for url in assets:
        assert re.search(r"\.[0-9a-f]{12}\.(css|js)$", url), url
        response = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
        assert response.status_code == 200, url
        assert response.headers["Content-Encoding"] == "gzip", url
        assert "immutable" in response.headers["Cache-Control"]
        assert int(re.search(r"max-age=(\d+)", response.headers["Cache-Control"]).group(1)) >= 365 * 86400
        assert "Accept-Encoding" in response.headers["Vary"]
        original = re.sub(r"\.[0-9a-f]{12}\.", ".", url.removeprefix("/static/"))
        assert gzip.decompress(response.get_data()) == (STATIC / original).read_bytes()
    plain = client.get(assets[0])
    assert "Content-Encoding" not in plain.headers and plain.get_data() == (
        STATIC / re.sub(r"\.[0-9a-f]{12}\.", ".", assets[0].removeprefix("/static/"))).read_bytes()


def test_the_favicon_exists(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype in {"image/x-icon", "image/vnd.microsoft.icon"}
    assert 'rel="icon"' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("header", ["en-US,en;q=0.9", "en-GB", "en-US,zh-CN;q=0.5"])
def test_a_browser_asking_for_english_gets_english(client, header):
    page = client.get("/login", headers={"Accept-Language": header}).get_data(as_text=True)
    assert '<html lang="en"' in page and "Log in" in page


@pytest.mark.parametrize("header", [None, "zh-CN,zh;q=0.9,en;q=0.8", "fr-FR", "zh-TW"])
def test_simplified_chinese_stays_the_default(client, header):
    headers = {"Accept-Language": header} if header else {}
    page = client.get("/login", headers=headers).get_data(as_text=True)
    assert '<html lang="zh-Hans"' in page and "登录" in page


def test_a_lang_link_gives_english_for_the_rest_of_the_visit(client):
    page = client.get("/login?lang=en", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<html lang="en"' in page
    assert '<html lang="en"' in client.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<html lang="zh-Hans"' in client.get("/?lang=zh").get_data(as_text=True)


def test_the_chosen_language_wins_over_the_browser(client):
    client.post("/prefs/locale", data={"locale": "zh_Hans"})
    page = client.get("/login", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    assert '<html lang="zh-Hans"' in page


def test_a_page_looks_its_translations_up_once_and_follows_a_locale_change(app, db_session, monkeypatch):
    """Templates' `_()` found flask_babel's translations afresh at every call (through half a dozen
    context proxies; dozens of calls a page): once per request now, and still the right language when
    the request's locale changes (`refresh()`) or is forced (`force_locale()`)."""
    import flask_babel
    from flask import render_template_string, session

    lookups = []
    real = flask_babel.Domain.get_translations
    monkeypatch.setattr(flask_babel.Domain, "get_translations", lambda self: lookups.append(1) or real(self))
    page = "{{ _('Log out') }} {{ _('Inbox') }} {{ _('Log in') }} {{ _('Skip to content') }}"
    with app.test_request_context("/"):
        assert render_template_string(page).split() == ["退出", "消息", "登录", "跳到正文"]
        assert len(lookups) == 1
        session["locale"] = "en"
        flask_babel.refresh()
        assert render_template_string(page) == "Log out Inbox Log in Skip to content"
        with flask_babel.force_locale("zh_Hans"):
            assert render_template_string("{{ _('Log out') }}") == "退出"
        assert render_template_string("{{ _('Log out') }}") == "Log out"
