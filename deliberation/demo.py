"""Demo data: one community in 南山区 with two estates, six buildings and about 200 residents."""

from __future__ import annotations

import random

from deliberation.auth import services as auth_services
from deliberation.auth.models import User
from deliberation.communities import services
from deliberation.communities.models import Role
from deliberation.core import audit
from deliberation.extensions import db

DEMO_PASSWORD = "demo2026"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华红玉梅建国志文斌辉燕玲萍海峰宇浩然欣怡子涵晨阳佳琪"
ESTATES = {"桃源村一区": ["1栋", "2栋", "3栋"], "龙辉花园": ["A座", "B座", "C座"]}

# (login, password, what the account shows)
DEMO_ACCOUNTS = [
    ("siteadmin", DEMO_PASSWORD, "site admin 站点管理员"),
    ("admin", DEMO_PASSWORD, "community admin 社区工作站管理员"),
    ("secretary", DEMO_PASSWORD, "council secretary 议事会秘书 (also a resident)"),
    ("party", DEMO_PASSWORD, "Party branch 社区党委"),
    ("member1 … member9", DEMO_PASSWORD, "council members 议事会成员 (residents)"),
    ("resident", DEMO_PASSWORD, "verified resident 居民"),
    ("newcomer", DEMO_PASSWORD, "resident waiting for verification 待审核"),
    ("13900000000 … ", DEMO_PASSWORD, "about 200 more verified residents log in with their phone"),
]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def load_demo(resident_count: int = 200) -> str:
    """Create the demo community; the caller commits."""
    rng = random.Random(2026)
    password_hash = auth_services.hash_password(DEMO_PASSWORD)  # hashed once: 200 scrypt runs are slow

    def account(login: str, name: str, phone: str | None, **extra) -> User:
        user = User(login=login, display_name=name, phone=phone, password_hash=password_hash, **extra)
        db.session.add(user)
        db.session.flush()
        audit.record("user.created", user, actor=user, summary=f"demo account {login}")
        return user

    site_admin = account("siteadmin", "站点管理员", None, is_site_admin=True)
    community = services.create_community(slug="taoyuan", name="桃源社区", district="深圳市南山区",
                                          street="桃源街道", actor=site_admin)
    admin = account("admin", "社区工作站 陈主任", "13800000001")
    services.grant_role(community, user=admin, role=Role.community_admin, actor=site_admin)
    buildings = []
    for estate_name, names in ESTATES.items():
        estate = services.add_estate(community, name=estate_name, actor=admin)
        buildings += [services.add_building(estate, name=n, actor=admin) for n in names]

    # The roll lists every demo resident plus neighbours who have not registered yet.
    roll_lines = ["building,unit,room,name,phone"]
    people = []
    for i in range(resident_count + 40):
        building = buildings[i % len(buildings)]
        unit = str(1 + (i // len(buildings)) % 2)
        room = f"{1 + (i // 12) % 18}{(i % 4) + 1:02d}"
        phone = f"139{i:08d}"
        people.append((building, unit, room, _name(rng), phone))
        roll_lines.append(f"{building.name},{unit},{room},{people[-1][3]},{phone}")
    # Named demo accounts live at the first households of the roll.
    named = [("secretary", "议事会秘书 刘敏"), ("resident", "王阿姨")] + [
        (f"member{k}", f"议事会成员 {_name(rng)}") for k in range(1, 10)]
    services.import_roll(community, data="\n".join(roll_lines).encode(), actor=admin)

    residents = []
    for index, (building, unit, room, name, phone) in enumerate(people[:resident_count]):
        login, display = named[index] if index < len(named) else (phone, name)
        user = account(login, display, phone)
        services.register_residency(user, community, building=building, unit=unit, room=room)
        residents.append(user)
    by_login = {u.login: u for u in residents}
    services.grant_role(community, user=by_login["secretary"], role=Role.council_secretary, actor=admin)
    for k in range(1, 10):
        services.grant_role(community, user=by_login[f"member{k}"], role=Role.council_member, actor=admin)
    party = account("party", "社区党委 黄书记", "13800000002")
    services.grant_role(community, user=party, role=Role.party_branch, actor=admin)

    # A few registrations that the roll does not list wait in the verification queue.
    newcomer = account("newcomer", "新住户 赵先生", "13700000001")
    services.register_residency(newcomer, community, building=buildings[0], unit="2", room="1801")
    for k in range(2, 6):
        user = account(f"1370000000{k}", _name(rng), f"1370000000{k}")
        services.register_residency(user, community, building=buildings[k], unit="1", room=f"{k}08")
    from deliberation.proposals.demo import load_demo_rounds

    rounds = load_demo_rounds(community, residents=residents, secretary=by_login["secretary"], party=party,
                              admin=admin)
    return (f"Demo community {community.full_name} (/c/{community.slug}): {len(buildings)} buildings, "
            f"{len(residents)} verified residents, 5 waiting for verification, {len(people)} people on the roll.\n"
            f"{rounds}")
