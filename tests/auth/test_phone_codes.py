"""Phone numbers proven by one-time SMS codes: registration and phone changes, the code's storage,
expiry, attempts and reuse, the rate limits on sending, and that no code is ever logged."""

from __future__ import annotations

import hashlib
import io
import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from deliberation.auth import phone_codes
from deliberation.auth.models import PhoneChallenge, PhonePurpose, User
from deliberation.communities.models import ResidencyStatus
from deliberation.core.models import utcnow
from deliberation.extensions import db
from tests.conftest import login_as
from tests.factories import PASSWORD, building, make_user
from tests.sms import CODE, last_code, messages_to

PHONE = "13677778888"


def registration(world, **overrides):
    data = {"building": building(world.community).id, "unit": "1", "room": "606", "display_name": "赵叔叔",
            "phone": PHONE, "password": "long-enough-1", "confirm": "long-enough-1"}
    return {**data, **overrides}


def register(client, world, *, address="10.1.1.1", **overrides):
    return client.post("/c/taoyuan/register", data=registration(world, **overrides),
                       environ_base={"REMOTE_ADDR": address})


def enter(client, code: str, *, address="10.1.1.1"):
    return client.post("/phone/code", data={"code": code}, environ_base={"REMOTE_ADDR": address})


def challenge_of(phone: str = PHONE) -> PhoneChallenge:
    return db.session.scalars(select(PhoneChallenge).where(PhoneChallenge.phone == phone)
                              .order_by(PhoneChallenge.id.desc())).first()


def account(phone: str = PHONE) -> User | None:
    return db.session.scalar(select(User).where(User.phone == phone))


# --- the code page ------------------------------------------------------------------------------

def test_registration_asks_for_the_code_on_a_phone_friendly_page(app, client, world):
    response = register(client, world)
    assert response.status_code == 303 and response.headers["Location"] == "/phone/code"
    assert account() is None  # no account until the code comes back
    page = client.get("/phone/code").get_data(as_text=True)
    assert "输入短信验证码" in page and "136****8888" in page and "10 分钟内有效" in page
    assert 'inputmode="numeric"' in page and 'autocomplete="one-time-code"' in page
    assert "重新获取验证码" in page and "data-resend-wait=" in page and "js/resend." in page
    english = client.get("/phone/code?lang=en").get_data(as_text=True)
    assert "Enter the code from the SMS" in english and "Send a new code" in english
    client.get("/phone/code?lang=zh")
    assert enter(client, last_code(app, PHONE)).headers["Location"] == "/account"
    page = client.get("/account").get_data(as_text=True)  # logged in at once
    assert "赵叔叔" in page and "待审核" in page and "手机号已通过短信验证码验证" in page
    assert account().phone_verified_at is not None and account().login == PHONE


def test_without_a_waiting_code_the_page_says_to_start_again(client, world):
    response = client.get("/phone/code")
    assert response.status_code in (302, 303)
    assert "此浏览器没有待输入的验证码" in client.get(response.headers["Location"]).get_data(as_text=True)


# --- storage, expiry, attempts, reuse -----------------------------------------------------------

def test_the_code_is_kept_only_as_a_keyed_hash(app, client, world):
    register(client, world)
    code = last_code(app, PHONE)
    challenge = challenge_of()
    row = " ".join(str(v) for v in db.session.execute(
        text("SELECT * FROM phone_challenges WHERE id = :id"), {"id": challenge.id}).one())
    assert code not in row
    assert hashlib.sha256(code.encode()).hexdigest() not in row  # not a plain hash anyone can reverse
    assert challenge.code_hash == phone_codes._code_hash(challenge, code)


def test_a_wrong_code_is_refused_and_the_attempts_are_capped_with_the_time_to_ask_again(app, client, world):
    register(client, world)
    code = last_code(app, PHONE)
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        response = enter(client, wrong)
        assert response.status_code == 422 and f"还可以尝试 {left} 次" in response.get_data(as_text=True)
    response = enter(client, wrong)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "错误次数过多" in body and "起可以重新获取验证码" in body
    # Even the right code no longer works: a new one is needed, after the pause.
    assert "错误次数过多" in enter(client, code).get_data(as_text=True)
    assert account() is None
    assert challenge_of().resend_at >= utcnow() + timedelta(seconds=200)
    sent = len(messages_to(app, PHONE))
    response = client.post("/phone/code/resend", environ_base={"REMOTE_ADDR": "10.1.1.1"})
    assert "起可以重新获取验证码" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert len(messages_to(app, PHONE)) == sent  # too early: nothing sent


def test_an_expired_code_is_refused_and_a_new_one_works(app, client, world):
    register(client, world)
    code = last_code(app, PHONE)
    challenge = challenge_of()
    challenge.expires_at = challenge.resend_at = utcnow() - timedelta(seconds=1)
    response = enter(client, code)
    assert response.status_code == 422 and "验证码已过期，请重新获取。" in response.get_data(as_text=True)
    assert "重新获取验证码" in response.get_data(as_text=True)  # the way out is on the same page
    assert client.post("/phone/code/resend").headers["Location"] == "/phone/code"
    new_code = last_code(app, PHONE)
    if new_code != code:  # the old code stopped working (1 in a million they are equal)
        assert enter(client, code).status_code == 422
    assert enter(client, new_code).headers["Location"] == "/account"


def test_a_used_code_cannot_be_used_again(app, client, world):
    register(client, world)
    code = last_code(app, PHONE)
    challenge = challenge_of()
    assert enter(client, code).status_code == 303
    again = enter(client, code)
    assert again.status_code == 303 and again.headers["Location"] == "/account"  # nothing waits any more
    assert "此浏览器没有待输入的验证码" in client.get("/account").get_data(as_text=True)
    with pytest.raises(Exception, match="已使用过|already used"):
        phone_codes.check_code(challenge, code)
    assert db.session.scalar(select(func.count(User.id)).where(User.phone == PHONE)) == 1


def test_a_strangers_request_for_the_same_number_neither_replaces_nor_uses_up_the_owners_code(app, client, world):
    register(client, world)
    owners_code = last_code(app, PHONE)
    stranger = app.test_client()
    register(stranger, world, address="10.2.2.2", display_name="陌生人")
    for _ in range(5):
        enter(stranger, "123456" if owners_code != "123456" else "654321", address="10.2.2.2")
    assert enter(client, owners_code).headers["Location"] == "/account"
    assert account().display_name == "赵叔叔"


# --- roll matches -------------------------------------------------------------------------------

def test_a_roll_match_with_the_proven_phone_is_verified_at_once(app, client, world):
    office = app.test_client()
    login_as(office, world.admin)
    office.post("/c/taoyuan/admin/roll", data={"file": (io.BytesIO(
        f"building,unit,room,name,phone\n1栋,1,606,赵建国,{PHONE}\n".encode()), "roll.csv")})
    register(client, world)
    assert account() is None
    enter(client, last_code(app, PHONE))
    user = account()
    assert [r.status for r in user.residencies] == [ResidencyStatus.verified]
    assert user.residencies[0].verified_by is None  # matched, not approved by a person
    assert "您已通过认证" in client.get("/account").get_data(as_text=True)


# --- changing the phone -------------------------------------------------------------------------

def test_a_phone_change_sends_the_code_to_the_new_number(app, client, world, as_user):
    user = make_user(login="13500001111", phone="13500001111")
    as_user(user)
    page = client.get("/account").get_data(as_text=True)
    assert "手机号尚未验证" in page and "/account/phone" in page
    old_sms = len(messages_to(app, "13500001111"))
    assert client.post("/account/phone", data={"phone": "13500002222", "password": PASSWORD}).headers["Location"] == "/phone/code"
    assert len(messages_to(app, "13500001111")) == old_sms  # nothing to the old number
    assert client.post("/phone/code", data={"code": last_code(app, "13500002222")}).status_code == 303
    db.session.refresh(user)
    assert user.phone == "13500002222" and user.login == "13500002222" and user.phone_proven
    assert app.test_client().post("/login", data={"login": "13500002222", "password": PASSWORD}).status_code == 303
    assert app.test_client().post("/login", data={"login": "13500001111", "password": PASSWORD}).status_code == 422


def test_a_phone_change_to_a_taken_number_answers_the_same_and_tells_the_holder(app, client, world, as_user):
    make_user(phone="13500003333")
    user = make_user(phone="13500004444")
    as_user(user)
    answers = []
    for phone in ("13500003333", "13500005555"):  # taken, then free
        response = client.post("/account/phone", data={"phone": phone, "password": PASSWORD})
        page = client.get("/phone/code").get_data(as_text=True).replace(phone[:3] + "****" + phone[-4:], "PHONE")
        answers.append((response.headers["Location"], page.count("<input"), "6 位验证码已通过短信发送到 PHONE" in page))
    assert answers[0] == answers[1] == ("/phone/code", answers[0][1], True)
    notice = messages_to(app, "13500003333")[-1]
    assert "有人试图把另一个账号改绑到本手机号" in notice and not CODE.search(notice)
    db.session.refresh(user)
    assert user.phone == "13500004444"


# --- rate limits --------------------------------------------------------------------------------

@pytest.fixture
def limits(app, monkeypatch):
    monkeypatch.setitem(app.config, "PHONE_CODE_RATE_LIMIT", "2 per hour")
    monkeypatch.setitem(app.config, "PHONE_CODE_ADDRESS_RATE_LIMIT", "4 per hour")
    monkeypatch.setitem(app.config, "REGISTER_RATE_LIMIT", "100 per hour")


def test_codes_to_one_number_from_one_address_slow_down_but_the_owner_elsewhere_still_gets_one(
        app, world, limits):
    responses = [register(app.test_client(), world, address="10.3.3.3") for _ in range(3)]
    assert [r.status_code for r in responses] == [303, 303, 429]
    assert "起可以再次获取" in responses[-1].get_data(as_text=True)  # says when, in words
    sent = len(messages_to(app, PHONE))
    owner = app.test_client()
    assert register(owner, world, address="10.4.4.4").status_code == 303
    assert len(messages_to(app, PHONE)) == sent + 1
    assert enter(owner, last_code(app, PHONE), address="10.4.4.4").status_code == 303


def test_one_address_is_limited_across_numbers(app, world, limits):
    statuses = [register(app.test_client(), world, address="10.5.5.5", phone=f"1367777000{i}").status_code
                for i in range(5)]
    assert statuses == [303, 303, 303, 303, 429]


def test_a_refused_form_sends_nothing_and_does_not_count(app, world, limits):
    client = app.test_client()
    for _ in range(3):
        assert register(client, world, address="10.6.6.6", room="").status_code == 422
    assert register(client, world, address="10.6.6.6").status_code == 303


def test_resending_is_limited_too(app, client, world, limits, monkeypatch):
    monkeypatch.setitem(app.config, "PHONE_CODE_RESEND_SECONDS", 0)
    register(client, world)
    assert client.post("/phone/code/resend", environ_base={"REMOTE_ADDR": "10.1.1.1"}).status_code == 303
    assert client.post("/phone/code/resend", environ_base={"REMOTE_ADDR": "10.1.1.1"}).status_code == 429


# --- never logged -------------------------------------------------------------------------------

def test_no_code_is_ever_logged_or_audited(app, client, world, caplog, as_user):
    caplog.set_level(logging.DEBUG)
    register(client, world)
    first = last_code(app, PHONE)
    enter(client, "000000" if first != "000000" else "111111")
    challenge_of().resend_at = utcnow() - timedelta(seconds=1)
    client.post("/phone/code/resend")
    second = last_code(app, PHONE)
    enter(client, second)
    user = account()
    as_user(user)
    client.post("/account/phone", data={"phone": "13677779999", "password": "long-enough-1"})
    third = last_code(app, "13677779999")
    client.post("/phone/code", data={"code": third})
    events = db.session.execute(text("SELECT action, summary, actor_label FROM audit_events")).all()
    audited = " ".join(" ".join(str(v) for v in e) for e in events)
    assert {"phone.code_sent", "phone.proven", "user.phone_changed"} <= {e[0] for e in events}
    for code in (first, second, third):
        assert code not in caplog.text
        assert code not in audited
    phone_events = " ".join(e[1] for e in events if e[0].startswith("phone."))
    assert "136****8888" in phone_events and PHONE not in phone_events  # numbers appear masked


def test_the_challenge_purposes_cannot_be_swapped(app, client, world, as_user):
    register(client, world)
    enter(client, last_code(app, PHONE))
    other = make_user(phone="13500006666")
    challenge, _message = phone_codes.start_challenge(PhonePurpose.change_phone, "13500007777", user=other)
    with pytest.raises(Exception, match="不是发给您的账号|not sent for your account"):
        phone_codes.change_phone(account(), challenge)
