"""Login, logout, password change, language and larger-text preferences through the browser routes."""

from __future__ import annotations

import pytest

from deliberation.auth.models import User
from deliberation.extensions import db
from tests.factories import PASSWORD, make_user


@pytest.fixture
def user(db_session):
    return make_user(login="wangfang", phone="13912345678", display_name="王芳")


def test_login_with_phone_number_and_logout(client, user):
    response = client.post("/login", data={"login": "139 1234 5678", "password": PASSWORD})
    assert response.status_code == 303
    assert "王芳" in client.get("/account").get_data(as_text=True)
    client.post("/logout")
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize("login,password", [("wangfang", "wrong-password"), ("nobody", PASSWORD)])
def test_unknown_user_and_wrong_password_give_the_same_message(client, user, login, password):
    response = client.post("/login", data={"login": login, "password": password})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "登录名或密码不正确。" in page
    assert client.get("/account").status_code == 302


def test_empty_login_form_shows_translated_errors(client, user):
    response = client.post("/login", data={"login": "", "password": ""})
    assert response.status_code == 422
    assert response.get_data(as_text=True).count("此项必填。") == 2


def test_login_is_rate_limited(app, client, user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ACCOUNT_RATE_LIMIT", "3 per minute")
    codes = [client.post("/login", data={"login": "wangfang", "password": "nope"}).status_code
             for _ in range(4)]
    # From this address, even the right password is refused until the window passes (see
    # test_signin_security.py: the owner elsewhere is not affected).
    response = client.post("/login", data={"login": "wangfang", "password": PASSWORD})
    assert codes == [422, 422, 422, 429]
    assert response.status_code == 429
    assert "尝试次数过多" in response.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(client, user):
    response = client.post("/login", data={"login": "wangfang", "password": PASSWORD}, csrf=False)
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_change_password_ends_other_sessions(app, client, user):
    other_device = app.test_client()
    for c in (client, other_device):
        c.post("/login", data={"login": "wangfang", "password": PASSWORD})
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "a-new-secret-1", "confirm": "a-new-secret-1"})
    assert response.status_code == 303
    assert client.get("/account").status_code == 200
    assert other_device.get("/account").status_code == 302
    client.post("/logout")
    assert client.post("/login", data={"login": "wangfang", "password": PASSWORD}).status_code == 422
    assert client.post("/login", data={"login": "wangfang", "password": "a-new-secret-1"}).status_code == 303


@pytest.mark.parametrize("data,message", [
    ({"current_password": "wrong", "new_password": "a-new-secret-1", "confirm": "a-new-secret-1"}, "当前密码不正确。"),
    ({"current_password": PASSWORD, "new_password": "short", "confirm": "short"}, "密码至少需要 8 个字符。"),
    ({"current_password": PASSWORD, "new_password": "a-new-secret-1", "confirm": "different-1"}, "两次输入的密码不一致。"),
])
def test_bad_password_change_is_refused_and_changes_nothing(client, as_user, user, data, message):
    as_user(user)
    old_hash = user.password_hash
    response = client.post("/account/password", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash == old_hash


def test_language_switch_is_remembered_in_session_and_account(client, as_user, user):
    assert "登录" in client.get("/login").get_data(as_text=True)
    client.post("/prefs/locale", data={"locale": "en", "next": "/login"})
    page = client.get("/login").get_data(as_text=True)
    assert "Log in" in page and '<html lang="en"' in page
    as_user(user)
    client.post("/prefs/locale", data={"locale": "en"})
    assert db.session.get(User, user.id).locale == "en"


def test_unknown_language_is_refused(client):
    response = client.post("/prefs/locale", data={"locale": "fr"})
    assert response.status_code == 400
    assert "暂不支持该语言。" in response.get_data(as_text=True)


def test_larger_text_toggles_on_every_page(client):
    assert 'class="large-text"' not in client.get("/").get_data(as_text=True)
    response = client.post("/prefs/text-size", data={"next": "/login"})
    assert response.headers["Location"] == "/login"
    assert 'class="large-text"' in client.get("/login").get_data(as_text=True)
    client.post("/prefs/text-size", data={})
    assert 'class="large-text"' not in client.get("/").get_data(as_text=True)


def test_next_parameter_cannot_redirect_off_site(client, user):
    response = client.post("/login?next=//evil.example/x", data={"login": "wangfang", "password": PASSWORD})
    assert response.headers["Location"] == "/todo"
