"""Error pages, security headers, cookies, secret key, password hashing and the htmx wiring."""

from __future__ import annotations

import io
import re
import stat

import pytest
from flask import Flask

from deliberation import create_app
from deliberation.config import Config, load_or_create_secret_key
from deliberation.core.errors import render_error
from tests.conftest import make_test_config


@pytest.mark.parametrize("locale,title", [("zh_Hans", "页面不存在"), ("en", "Page not found")])
def test_404_page_is_translated_and_in_the_layout(client, locale, title):
    client.post("/prefs/locale", data={"locale": locale})
    response = client.get("/no-such-page")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert title in page and 'id="main"' in page


def test_403_page_explains(client, world, as_user):
    as_user(world.resident)
    response = client.get("/c/taoyuan/admin")
    assert response.status_code == 403
    assert "您没有权限进行此操作。" in response.get_data(as_text=True)


def test_413_page_for_a_too_large_upload(app, client, world, as_user):
    as_user(world.admin)
    app.config["MAX_CONTENT_LENGTH"] = 1024
    try:
        response = client.post("/c/taoyuan/admin/roll", data={"file": (io.BytesIO(b"x" * 4096), "big.csv")})
    finally:
        app.config["MAX_CONTENT_LENGTH"] = Config.MAX_CONTENT_LENGTH
    assert response.status_code == 413
    assert "文件太大" in response.get_data(as_text=True)


def test_500_page_is_translated(app, db_session):
    with app.test_request_context("/"):
        body, status = render_error(500)
    assert status == 500 and "出错了" in body


def test_security_headers_and_vary(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "HX-Request" in response.headers["Vary"]


def test_htmx_from_cdn_with_integrity_and_local_fallback(tmp_path_factory):
    app = create_app(make_test_config(tmp_path_factory, HTMX_USE_CDN=True))
    with app.app_context():
        from deliberation.extensions import db

        db.create_all()
    response = app.test_client().get("/")
    page = response.get_data(as_text=True)
    assert 'integrity="sha384-' in page and 'crossorigin="anonymous"' in page
    assert "https://cdn.jsdelivr.net/npm/htmx.org@2.0.11/dist/htmx.min.js" in page
    assert re.search(r'data-src="/static/vendor/htmx/htmx-2\.0\.11\.min\.[0-9a-f]{12}\.js"', page)
    assert f"script-src 'self' {Config.HTMX_CDN_URL};" in response.headers["Content-Security-Policy"]
    assert app.test_client().get("/static/vendor/htmx/htmx-2.0.11.min.js").status_code == 200


def test_vendored_htmx_matches_the_cdn_integrity_hash():
    import base64
    import hashlib
    from pathlib import Path

    vendored = Path(__file__).resolve().parents[2] / "static/vendor/htmx/htmx-2.0.11.min.js"
    digest = base64.b64encode(hashlib.sha384(vendored.read_bytes()).digest()).decode()
    assert f"sha384-{digest}" == Config.HTMX_CDN_INTEGRITY


def test_csrf_token_travels_in_hx_headers(client):
    page = client.get("/").get_data(as_text=True)
    assert "hx-headers='{\"X-CSRFToken\": \"" in page


def test_session_cookie_flags_outside_debug(tmp_path_factory):
    app = create_app(make_test_config(tmp_path_factory, SESSION_COOKIE_SECURE=None))
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_session_cookie_is_httponly_and_lax(client):
    client.post("/prefs/text-size", data={})
    cookie = client.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax"


def test_hsts_is_sent_when_cookies_are_secure(tmp_path_factory, client):
    secure = create_app(make_test_config(tmp_path_factory, SESSION_COOKIE_SECURE=True))
    response = secure.test_client().get("/healthz", base_url="https://example.org")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in client.get("/healthz").headers  # plain-HTTP test setup


def test_secret_key_is_generated_once_and_kept_private(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = load_or_create_secret_key(tmp_path)
    second = load_or_create_secret_key(tmp_path)
    assert first == second and len(first) >= 64
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert load_or_create_secret_key(tmp_path) == "from-the-environment"


def test_passwords_are_hashed_with_scrypt_by_default(tmp_path_factory):
    app: Flask = create_app(make_test_config(tmp_path_factory, PASSWORD_HASH_METHOD="scrypt"))
    with app.app_context():
        from deliberation.auth.services import hash_password

        hashed = hash_password("a-secret-password")
    assert hashed.startswith("scrypt:") and "a-secret-password" not in hashed
    assert "PASSWORD_HASH_METHOD" not in vars(Config)  # production falls back to scrypt in create_app


def test_health_endpoint(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}
