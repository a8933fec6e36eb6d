"""Sign-in hardening: failed-login limits behind a proxy, same-site redirects only, logout that ends
every session, equal cost for unknown and known logins."""

from __future__ import annotations

import os
import statistics
import time

import pytest

from deliberation.auth import services
from deliberation.communities import services as community_services
from deliberation.communities.models import Role
from deliberation.extensions import db, limiter
from tests.conftest import login_as
from tests.factories import PASSWORD, make_community, make_user

PROXY = "10.9.9.9"


@pytest.fixture
def user(db_session):
    return make_user(login="wangfang", phone="13912345678", display_name="王芳")


@pytest.fixture
def limits(app, monkeypatch):
    """Small limits for the test: 3 failures per address and account, 6 per address."""
    monkeypatch.setitem(app.config, "LOGIN_ACCOUNT_RATE_LIMIT", "3 per minute")
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "6 per minute")


def attempt(client, password, *, address="10.0.0.1", login="wangfang", forwarded=None):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return client.post("/login", data={"login": login, "password": password}, headers=headers,
                       environ_base={"REMOTE_ADDR": address}).status_code


# --- rate limits ----------------------------------------------------------------------------

def test_behind_a_trusted_proxy_each_client_is_limited_on_its_own(app, client, user, limits, monkeypatch):
    monkeypatch.setitem(app.config, "TRUSTED_PROXIES", 1)
    codes = [attempt(client, "wrong", address=PROXY, forwarded="203.0.113.9") for _ in range(4)]
    assert codes == [422, 422, 422, 429]
    # Another resident behind the same proxy logs in.
    assert attempt(app.test_client(), PASSWORD, address=PROXY, forwarded="198.51.100.7") == 303


def test_forwarded_for_is_ignored_without_a_trusted_proxy(client, user, limits):
    # A forged header changes nothing: the peer address is the client.
    codes = [attempt(client, "wrong", forwarded=f"198.51.100.{n}") for n in range(4)]
    assert codes == [422, 422, 422, 429]


def test_only_the_trusted_hops_of_forwarded_for_are_believed(app, client, user, limits, monkeypatch):
    monkeypatch.setitem(app.config, "TRUSTED_PROXIES", 1)
    # The client prepends made-up addresses; the proxy appends the real one, which is the one counted.
    codes = [attempt(client, "wrong", address=PROXY, forwarded=f"198.51.100.{n}, 203.0.113.9") for n in range(4)]
    assert codes == [422, 422, 422, 429]


def test_successful_logins_are_not_counted(client, user, limits):
    # A help-to-vote desk logs many residents in from one address.
    for _ in range(8):
        assert attempt(client, PASSWORD) == 303
        client.post("/logout", environ_base={"REMOTE_ADDR": "10.0.0.1"})


def test_a_strangers_wrong_passwords_never_stop_the_owner_elsewhere(app, client, user, limits):
    assert [attempt(client, "wrong", address="10.0.0.66") for _ in range(5)] == [422, 422, 422, 429, 429]
    assert attempt(app.test_client(), PASSWORD, address="10.0.0.2") == 303


def test_one_address_is_slowed_per_account_and_then_for_every_account(client, user, limits):
    make_user(login="lisi")
    assert [attempt(client, "wrong") for _ in range(4)] == [422, 422, 422, 429]
    # Other accounts can still be tried from this address until its own (larger) limit.
    assert [attempt(client, "wrong", login="lisi") for _ in range(4)] == [422, 422, 422, 429]
    # Six failures from the address: now every account is refused from here for a while.
    assert attempt(client, PASSWORD, login="someone-else") == 429


def test_retyping_the_login_differently_gives_no_fresh_attempts(client, user, limits):
    logins = ["13912345678", "139 1234 5678", "139-1234-5678", "13912345678"]
    assert [attempt(client, "wrong", login=login) for login in logins] == [422, 422, 422, 429]


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="needs TEST_REDIS_URL (the PostgreSQL suite sets it)")
def test_the_limits_live_in_redis(app, client, user, limits):
    """With RATELIMIT_STORAGE_URI pointing at Redis, every worker and host shares the failure counts."""
    import redis

    assert app.config["RATELIMIT_STORAGE_URI"] == os.environ["TEST_REDIS_URL"]
    assert type(limiter.storage).__name__ == "RedisStorage"
    server = redis.Redis.from_url(os.environ["TEST_REDIS_URL"])
    before = set(server.keys("LIMITS*"))
    assert attempt(client, "wrong") == 422
    assert set(server.keys("LIMITS*")) - before  # counted in Redis, not in this process
    assert [attempt(client, "wrong") for _ in range(3)] == [422, 422, 429]


# --- redirects ---------------------------------------------------------------------------------

OFF_SITE = ["/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", " //evil.example", "//evil.example",
            "/\\evil.example", "\\\\evil.example", "https://evil.example/", "javascript:alert(1)",
            "/\x00/evil.example", "/\u200b/evil.example", "http:/evil.example"]


@pytest.mark.parametrize("target", OFF_SITE)
def test_login_never_redirects_off_site(client, user, target):
    response = client.post("/login", query_string={"next": target}, data={"login": "wangfang", "password": PASSWORD})
    if "\x00" in target:  # a NUL in any parameter is refused outright (core/inputs.py), redirecting nowhere
        assert response.status_code == 400 and "Location" not in response.headers
        return
    assert response.status_code == 303
    assert response.headers["Location"] == "/todo"


def test_the_reported_login_redirect_goes_home(client, user):
    response = client.post("/login?next=/%09/evil.example", data={"login": "wangfang", "password": PASSWORD})
    assert response.headers["Location"] == "/todo"


@pytest.mark.parametrize("target", OFF_SITE)
@pytest.mark.parametrize("url,data", [("/prefs/locale", {"locale": "en"}), ("/prefs/text-size", {})])
def test_preferences_never_redirect_off_site(client, url, data, target):
    response = client.post(url, data={**data, "next": target})
    if "\x00" in target:  # refused outright (core/inputs.py), redirecting nowhere
        assert response.status_code == 400 and "Location" not in response.headers
        return
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_same_site_targets_are_kept(client, user):
    response = client.post("/login", query_string={"next": "/c/taoyuan/rounds?page=2"},
                           data={"login": "wangfang", "password": PASSWORD})
    assert response.headers["Location"] == "/c/taoyuan/rounds?page=2"


# --- sessions ----------------------------------------------------------------------------------

def copy_cookie(source, name: str):
    """A new browser holding only the cookie copied from `source`."""
    cookie = source.get_cookie(name)
    assert cookie is not None, name
    thief = source.application.test_client()
    thief.set_cookie(name, cookie.value)
    return thief


def test_a_session_cookie_copied_before_logout_is_worthless_after(client, user):
    client.post("/login", data={"login": "wangfang", "password": PASSWORD})
    thief = copy_cookie(client, "session")
    assert thief.get("/account").status_code == 200
    client.post("/logout")
    assert thief.get("/account").status_code == 302


def test_a_remember_me_cookie_copied_before_logout_is_worthless_after(client, user):
    client.post("/login", data={"login": "wangfang", "password": PASSWORD, "remember": "y"})
    thief = copy_cookie(client, "remember_token")
    assert thief.get("/account").status_code == 200
    client.post("/logout")
    assert copy_cookie(thief, "remember_token").get("/account").status_code == 302


def test_logout_ends_the_sessions_on_other_devices(app, client, user):
    phone = app.test_client()
    for c in (client, phone):
        c.post("/login", data={"login": "wangfang", "password": PASSWORD})
    client.post("/logout")
    assert phone.get("/account").status_code == 302


def test_a_password_change_ends_remember_me_cookies_too(app, client, user):
    other = app.test_client()
    other.post("/login", data={"login": "wangfang", "password": PASSWORD, "remember": "y"})
    stolen = copy_cookie(other, "remember_token")
    client.post("/login", data={"login": "wangfang", "password": PASSWORD})
    client.post("/account/password", data={"current_password": PASSWORD, "new_password": "a-new-secret-1",
                                           "confirm": "a-new-secret-1"})
    assert stolen.get("/account").status_code == 302
    assert client.get("/account").status_code == 200  # the device that changed it stays logged in


def closing_the_browser(client):
    """What a browser keeps when it is closed: only the cookies with an expiry date."""
    survivor = client.application.test_client()
    for cookie in (client.get_cookie(name) for name in ("session", "remember_token", "locale", "large_text")):
        if cookie is not None and cookie.expires is not None:
            survivor.set_cookie(cookie.key, cookie.value)
    return survivor


@pytest.mark.parametrize("before_login", [False, True])
@pytest.mark.parametrize("url,data", [("/prefs/text-size", {}), ("/prefs/locale", {"locale": "en"})])
def test_choosing_larger_text_or_a_language_does_not_keep_the_login_after_the_browser_closes(
        client, user, url, data, before_login):
    """At a shared computer (the office's help desk), a resident logs in without "keep me logged in" and
    switches to larger text: closing the browser still logs them out; the choice itself is kept."""
    if before_login:
        client.post(url, data=data)
    client.post("/login", data={"login": "wangfang", "password": PASSWORD})
    if not before_login:
        client.post(url, data=data)
    assert client.get("/account").status_code == 200
    next_person = closing_the_browser(client)
    assert next_person.get("/account").status_code == 302
    page = next_person.get("/login").get_data(as_text=True)
    assert ('class="large-text"' in page) if "text-size" in url else ('lang="en"' in page)


def test_a_borrowed_session_cannot_guess_the_password_without_limit(client, user, limits):
    """Someone left alone with a logged-in browser must not try passwords on 'change password' as fast as
    the server answers (the right one would let them change it and log the owner out everywhere): wrong
    current passwords count like failed logins of the account."""
    login_as(client, user)
    for n in range(3):
        response = client.post("/account/password", data={"current_password": f"guess-{n}", "new_password":
                                                          "taken-over-1", "confirm": "taken-over-1"})
        assert response.status_code == 422
    response = client.post("/account/password", data={"current_password": PASSWORD, "new_password": "taken-over-1",
                                                      "confirm": "taken-over-1"})
    assert response.status_code == 429
    assert services.authenticate("wangfang", PASSWORD) is not None  # unchanged


def test_moving_the_account_to_another_phone_asks_for_the_password(app, client, user):
    """A phone change re-points the login name (a phone number) and every SMS: someone at a logged-in browser
    cannot do it without the password."""
    from tests.sms import messages_to

    login_as(client, user)
    response = client.post("/account/phone", data={"phone": "13611119999", "password": "not-the-password"})
    assert response.status_code == 422 and "当前密码不正确" in response.get_data(as_text=True)
    assert client.post("/account/phone", data={"phone": "13611119999"}).status_code == 422
    assert messages_to(app, "13611119999") == []
    response = client.post("/account/phone", data={"phone": "13611119999", "password": PASSWORD})
    assert response.headers["Location"] == "/phone/code" and len(messages_to(app, "13611119999")) == 1


def test_revoking_a_role_ends_every_session_of_its_holder(app, client, db_session):
    community = make_community(slug="taoyuan")
    admin = make_user(login="office")
    community_services.grant_role(community, user=admin, role=Role.community_admin, actor=admin)
    secretary = make_user(login="secretary")
    grant = community_services.grant_role(community, user=secretary, role=Role.council_secretary, actor=admin)
    secretary_phone = app.test_client()
    secretary_phone.post("/login", data={"login": "secretary", "password": PASSWORD, "remember": "y"})
    remembered = copy_cookie(secretary_phone, "remember_token")
    login_as(client, admin)
    assert client.post(f"/c/taoyuan/admin/roles/{grant.id}/revoke", data={"confirmed": "1"}).status_code == 303
    assert secretary_phone.get("/account").status_code == 302
    assert remembered.get("/account").status_code == 302


# --- account probing ------------------------------------------------------------------------------

def test_an_unknown_login_costs_as_much_as_a_wrong_password(app, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "PASSWORD_HASH_METHOD", "pbkdf2:sha256:60000")
    make_user(login="known")
    db.session.flush()

    def median_seconds(login: str) -> float:
        times = []
        for _ in range(5):
            started = time.perf_counter()
            assert services.authenticate(login, "wrong-password") is None
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    known, unknown = median_seconds("known"), median_seconds("nobody-has-this-login")
    assert 0.5 < unknown / known < 2, (known, unknown)
