"""Registration, the verification queue, the roll upload and role pages through HTTP."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from deliberation.auth.models import User
from deliberation.communities.models import Residency, ResidencyStatus, RollEntry
from deliberation.extensions import db
from tests.conftest import login_as
from tests.factories import PASSWORD, building, make_resident, make_user
from tests.sms import CODE, last_code, messages_to


def registration(world, **overrides):
    data = {"building": building(world.community).id, "unit": "1单元", "room": "808", "display_name": "李阿姨",
            "phone": "13611112222", "password": "long-enough-1", "confirm": "long-enough-1"}
    return {**data, **overrides}


def users_count() -> int:
    return db.session.scalar(select(func.count(User.id)))


CSRF_TOKEN = re.compile(r'"[\w.\-]{60,}"')  # differs in every session


def log_in(client, phone="13611112222", password="long-enough-1"):  # noqa: S107 (the test's own password)
    return client.post("/login", data={"login": phone, "password": password})


def register_with_code(app, client, world, **overrides):
    """Register and type the code the SMS brought: the account exists and is logged in."""
    data = registration(world, **overrides)
    response = client.post("/c/taoyuan/register", data=data)
    assert response.status_code == 303 and response.headers["Location"] == "/phone/code"
    response = client.post("/phone/code", data={"code": last_code(app, data["phone"])})
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    return response


def import_roll_line(app, world, line: str) -> None:
    office = app.test_client()
    login_as(office, world.admin)
    office.post("/c/taoyuan/admin/roll",
                data={"file": (io.BytesIO(f"building,unit,room,name,phone\n{line}\n".encode()), "roll.csv")})


def test_registration_on_the_roll_with_the_proven_phone_is_verified_at_once(app, client, world):
    import_roll_line(app, world, "1栋,1,808,李梅,13611112222")
    register_with_code(app, client, world)
    page = client.get("/account").get_data(as_text=True)
    assert "李阿姨" in page and "已认证" in page and "待审核" not in page
    assert "手机号已通过短信验证码验证" in page


def test_an_unproven_phone_on_the_roll_waits_for_the_office_which_sees_the_match(app, client, world, as_user):
    """Accounts made before codes existed hold phones nobody proved: their roll match is only a hint."""
    user = make_user(phone="13611112222", display_name="李阿姨")
    import_roll_line(app, world, "1栋,1,808,李梅,13611112222")
    as_user(user)
    response = client.post("/c/taoyuan/register", data={"building": building(world.community).id, "unit": "1单元",
                                                         "room": "808"})
    assert response.status_code == 303
    page = client.get("/account").get_data(as_text=True)
    # Knowing a neighbour's phone number and address is not owning the phone: no vote until the office approves.
    assert "待审核" in page and "已认证" not in page and "手机号尚未验证" in page
    as_admin = app.test_client()
    login_as(as_admin, world.admin)
    queue = as_admin.get("/c/taoyuan/admin/residents").get_data(as_text=True)
    assert "与名册一致：李梅" in queue
    # Proving the phone on the account page then verifies the registration the roll lists.
    assert client.post("/account/phone", data={"phone": "13611112222", "password": PASSWORD}).headers["Location"] == "/phone/code"
    assert client.post("/phone/code", data={"code": last_code(app, "13611112222")}).status_code == 303
    assert "已认证" in client.get("/account").get_data(as_text=True)


def test_registration_not_on_the_roll_waits_then_the_admin_rejects_with_a_reason(app, client, world, as_user):
    register_with_code(app, client, world)
    assert "待审核" in client.get("/account").get_data(as_text=True)
    residency = db.session.scalar(select(Residency).join(User, Residency.user_id == User.id)
                                  .where(User.phone == "13611112222"))
    as_admin = app.test_client()
    login_as(as_admin, world.admin)
    queue = as_admin.get("/c/taoyuan/admin/residents").get_data(as_text=True)
    assert "李阿姨" in queue and "与名册一致" not in queue
    response = as_admin.post(f"/c/taoyuan/admin/residents/{residency.id}/reject", data={"reason": ""})
    assert response.status_code == 422 and "此项必填。" in response.get_data(as_text=True)
    as_admin.post(f"/c/taoyuan/admin/residents/{residency.id}/reject", data={"reason": "808 室登记的是其他住户"})
    page = client.get("/account").get_data(as_text=True)
    assert "未通过" in page and "808 室登记的是其他住户" in page


@pytest.mark.parametrize("overrides,message", [
    ({"phone": "12345"}, "请输入 11 位大陆手机号"),
    ({"password": "short", "confirm": "short"}, "密码至少需要 8 个字符。"),
    ({"confirm": "something-else"}, "两次输入的密码不一致。"),
    ({"room": ""}, "此项必填。"),
    ({"display_name": ""}, "此项必填。"),
    ({"building": "999999"}, "请选择本社区的楼栋。"),
    ({"building": "not-a-number"}, "此项必填"),
])
def test_bad_registration_shows_a_translated_message_and_saves_nothing(client, world, overrides, message):
    before = users_count()
    response = client.post("/c/taoyuan/register", data=registration(world, **overrides))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert users_count() == before
    assert client.get("/account").status_code == 302


def test_registration_does_not_tell_whether_a_phone_has_an_account(app, client, world):
    """The same answer for a free number and a taken one; the owner of the taken one is told, by SMS
    and on their page, and gets no code."""
    owner = app.test_client()
    register_with_code(app, owner, world)
    before = users_count()
    owner_sms = len(messages_to(app, "13611112222"))
    answers = []
    for phone in ("13611112222", "13655556666"):  # taken, then free
        stranger = app.test_client()
        response = stranger.post("/c/taoyuan/register", data=registration(
            world, phone=phone, room="909", display_name="陌生人", password="stranger-pass-1", confirm="stranger-pass-1"))
        page = stranger.get("/phone/code").get_data(as_text=True).replace(phone[:3] + "****" + phone[-4:], "PHONE")
        wrong = stranger.post("/phone/code", data={"code": "000000"}).get_data(as_text=True)
        answers.append((response.status_code, response.headers.get("Location"), CSRF_TOKEN.sub("", page),
                        CSRF_TOKEN.sub("", wrong).replace(phone[:3] + "****" + phone[-4:], "PHONE")))
    assert answers[0] == answers[1]
    assert answers[0][:2] == (303, "/phone/code")
    assert users_count() == before  # no account before the code comes back
    notice = messages_to(app, "13611112222")[owner_sms:]
    assert len(notice) == 1 and "有人试图用本手机号注册新账号" in notice[0] and not CODE.search(notice[0])
    page = owner.get("/account").get_data(as_text=True)
    assert "有人试图用您的手机号注册新账号" in page
    # The owner's account is untouched: the stranger's password does not open it, the owner's does.
    assert log_in(app.test_client(), password="stranger-pass-1").status_code == 422
    assert log_in(app.test_client(), password="long-enough-1").status_code == 303


def test_logged_in_user_registers_a_household_in_another_community(client, world, as_user):
    as_user(world.resident)
    response = client.post("/c/other/register", data={"building": building(world.other).id, "unit": "2", "room": "1201"})
    assert response.status_code == 303
    assert "蛇口社区" in client.get("/account").get_data(as_text=True)


def test_admin_approves_from_the_queue_with_htmx_and_gets_the_row(client, world, as_user):
    as_user(world.admin)
    response = client.post(f"/c/taoyuan/admin/residents/{world.pending.id}/verify", headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith("<tr") and "已认证" in body
    assert "HX-Request" in response.headers["Vary"]
    db.session.refresh(world.pending)
    assert world.pending.status == ResidencyStatus.verified


def test_queue_filter_returns_the_partial_for_htmx(client, world, as_user):
    as_user(world.admin)
    full = client.get("/c/taoyuan/admin/residents?status=verified")
    partial = client.get("/c/taoyuan/admin/residents?status=verified", headers={"HX-Request": "true"})
    assert "<html" in full.get_data(as_text=True)
    assert "<html" not in partial.get_data(as_text=True)
    assert 'id="residents-table"' in partial.get_data(as_text=True)


def test_verifying_twice_is_a_clear_4xx_not_a_500(client, world, as_user):
    as_user(world.admin)
    client.post(f"/c/taoyuan/admin/residents/{world.pending.id}/verify")
    response = client.post(f"/c/taoyuan/admin/residents/{world.pending.id}/verify")
    assert response.status_code == 409
    assert "不能这样修改" in response.get_data(as_text=True)


def test_moved_out_resident_loses_the_verified_badge(client, world, as_user):
    _, residency = make_resident(world.community, login="leaving")
    as_user(world.admin)
    client.post(f"/c/taoyuan/admin/residents/{residency.id}/moved-out", data={"confirmed": "1"})
    db.session.refresh(residency)
    assert residency.status == ResidencyStatus.moved_out


def test_roll_upload_reports_rows(client, world, as_user):
    as_user(world.admin)
    data = "building,unit,room,name,phone\n1栋,1,101,张三,13900000001\n9栋,1,101,李四,13900000002\n"
    response = client.post("/c/taoyuan/admin/roll", data={"file": (io.BytesIO(data.encode()), "roll.csv")})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "已导入：1" in page and "未导入：1" in page and "未知楼栋“9栋”" in page


@pytest.mark.parametrize("content,name,message", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "photo.csv", "这不是 CSV 文本文件"),
    (b"a,b,c\n1,2,3\n", "roll.csv", "缺少：building, unit, room, name, phone"),
])
def test_bad_roll_file_imports_nothing_and_says_why(client, world, as_user, content, name, message):
    as_user(world.admin)
    response = client.post("/c/taoyuan/admin/roll", data={"file": (io.BytesIO(content), name)})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(RollEntry.id))) == 0


def test_roll_upload_without_a_file(client, world, as_user):
    as_user(world.admin)
    response = client.post("/c/taoyuan/admin/roll", data={})
    assert response.status_code == 422
    assert "请选择一个 CSV 文件。" in response.get_data(as_text=True)


def test_grant_role_to_unknown_user_is_explained(client, world, as_user):
    as_user(world.admin)
    response = client.post("/c/taoyuan/admin/roles", data={"user": "ghost", "role": "council_member"})
    assert response.status_code == 422
    assert "没有使用该登录名或手机号的账号。" in response.get_data(as_text=True)


def test_grant_then_revoke_a_role_through_the_page(client, world, as_user):
    as_user(world.admin)
    client.post("/c/taoyuan/admin/roles", data={"user": "resident", "role": "council_member"})
    roles_page = client.get("/c/taoyuan/admin/roles").get_data(as_text=True)
    assert "议事会成员" in roles_page and world.resident.display_name in roles_page
    db.session.expire_all()
    grant = next(g for g in world.resident.role_grants if g.role.value == "council_member")
    client.post(f"/c/taoyuan/admin/roles/{grant.id}/revoke", data={"confirmed": "1"})
    db.session.expire_all()
    assert not any(g.role.value == "council_member" for g in world.resident.role_grants)


def test_site_admin_creates_a_community_and_appoints_its_admin(client, world, as_user):
    as_user(world.site_admin)
    response = client.post("/site/communities", data={"name": "粤海社区", "slug": "yuehai", "district": "深圳市南山区",
                                                       "street": "粤海街道"})
    assert response.headers["Location"].endswith("/site/communities/yuehai/admins")
    response = client.post("/site/communities/yuehai/admins", data={"login": "yuehai-admin", "display_name": "粤海管理员",
                                                                     "password": "long-enough-1"})
    assert response.status_code == 303
    page = client.get("/site/communities").get_data(as_text=True)
    assert "粤海社区" in page and "粤海管理员" in page


def test_site_admin_sees_a_clear_error_for_a_taken_slug(client, world, as_user):
    as_user(world.site_admin)
    response = client.post("/site/communities", data={"name": "重名", "slug": "taoyuan", "district": "南山区",
                                                       "street": "桃源街道"})
    assert response.status_code == 422
    assert "已有其他社区使用这个网址标识。" in response.get_data(as_text=True)


def test_admin_adds_an_estate_and_a_building(client, world, as_user):
    as_user(world.admin)
    client.post("/c/taoyuan/admin/places", data={"estate-name": "新村"})
    estate = next(e for e in world.community.estates if e.name == "新村")
    response = client.post("/c/taoyuan/admin/places/buildings", data={"building-estate": estate.id,
                                                                       "building-name": "1栋"})
    assert response.status_code == 422 and "楼栋名称在社区内不能重复" in response.get_data(as_text=True)
    client.post("/c/taoyuan/admin/places/buildings", data={"building-estate": estate.id, "building-name": "新1栋"})
    assert "新1栋" in client.get("/c/taoyuan/admin/places").get_data(as_text=True)


def test_admin_cannot_add_a_building_to_another_communitys_estate(client, world, as_user):
    as_user(world.admin)
    other_estate = world.other.estates[0]
    response = client.post("/c/taoyuan/admin/places/buildings", data={"building-estate": other_estate.id,
                                                                       "building-name": "偷偷"})
    assert response.status_code == 422


def test_on_a_phone_each_role_grant_is_a_card_titled_by_the_person(client, world, as_user):
    """Five columns at 360 px squeezed names to one character a line and hid the revoke button beyond the
    edge: the table is `table.stacked`, as the ranking's, each cell naming its column."""
    as_user(world.admin)
    page = client.get("/c/taoyuan/admin/roles").get_data(as_text=True)
    assert '<table class="striped stacked">' in page
    row = page[page.index('data-testid="grant-row"'):]
    row = row[:row.index("</tr>")]
    assert '<th scope="row" class="card-title">' in row
    for label in ("角色", "登录名", "起始时间"):
        assert f'data-label="{label}"' in row


def test_a_registration_with_several_mistakes_names_them_all_at_once(client, world):
    """A short password typed twice differently and a phone missing digits: the form named only the
    mismatch; the length, then the phone, came one retry at a time, each retry retyping both passwords."""
    response = client.post("/c/taoyuan/register", data=registration(world, phone="139", password="short",
                                                                      confirm="shorter", room=""))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for message in ("两次输入的密码不一致。", "密码至少需要 8 个字符。", "请输入 11 位大陆手机号", "此项必填。"):
        assert message in page, message


# Characters that show nothing themselves: right-to-left override, zero-width space, word joiner, BOM.
INVISIBLE = ["\u202e", "\u200b", "\u2060", "\ufeff"]


@pytest.mark.parametrize("mark", INVISIBLE)
def test_a_display_name_cannot_carry_invisible_characters(app, client, world, mark):
    """A name that looks like staff's with a right-to-left override ('书秘会事议' shown as '议事会秘书') or an
    invisible character inside cannot be registered: the name is kept as it is seen."""
    register_with_code(app, client, world, display_name=f"{mark}书秘{mark}会事议")
    user = db.session.scalar(select(User).where(User.phone == "13611112222"))
    assert user.display_name == "书秘会事议"
    assert mark not in client.get("/account").get_data(as_text=True)


@pytest.mark.parametrize("mark", INVISIBLE)
def test_an_invisible_character_does_not_make_a_second_household(world, mark):
    """'808' and '808' with an invisible character look the same in the office's queue: they are one household
    (one ballot in a per-household round), in the unit as in the room."""
    _, first = make_resident(world.community, room="808")
    _, same_room = make_resident(world.community, room=f"8{mark}08")
    _, same_unit = make_resident(world.community, room="808", unit=f"1{mark}")
    assert same_room.household_key == same_unit.household_key == first.household_key
    assert (same_room.room, same_unit.unit) == ("808", "1")
