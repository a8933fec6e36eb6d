"""Demo data: one community in 南山区 with two estates, six buildings and about 200 residents."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from deliberation.auth import services as auth_services
from deliberation.auth.models import User
from deliberation.communities import services
from deliberation.communities.models import Role
from deliberation.core import audit
from deliberation.evaluations import services as evaluation_services
from deliberation.evaluations.models import OrganisationKind
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
    ("party", DEMO_PASSWORD, "Party branch 社区党委 (records evaluations)"),
    ("party2", DEMO_PASSWORD, "Party branch 社区党委, second member (confirms and publishes)"),
    ("firmrep", DEMO_PASSWORD, "representative of 深圳市鹏城物业服务有限公司 (org_rep)"),
    ("ocrep", DEMO_PASSWORD, "representative of 龙辉花园业主委员会 (org_rep)"),
    ("worker1, worker2", DEMO_PASSWORD, "grid workers 网格员 (桃源村一区 and the market; 龙辉花园)"),
    ("streetrep", DEMO_PASSWORD, "representative of the street's city-management team 街道城管队 (handling unit)"),
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
        # The roll lists them; the office approved each registration (a roll match alone proves no phone).
        residency = services.register_residency(user, community, building=building, unit=unit, room=room)
        services.verify_residency(residency, actor=admin)
        residents.append(user)
    by_login = {u.login: u for u in residents}
    services.grant_role(community, user=by_login["secretary"], role=Role.council_secretary, actor=admin)
    for k in range(1, 10):
        services.grant_role(community, user=by_login[f"member{k}"], role=Role.council_member, actor=admin)
    party = account("party", "社区党委 黄书记", "13800000002")
    services.grant_role(community, user=party, role=Role.party_branch, actor=admin)

    party2 = account("party2", "社区党委 林委员", "13800000003")
    services.grant_role(community, user=party2, role=Role.party_branch, actor=admin)
    evaluations = _demo_evaluations(community, admin=admin, party=party, party2=party2, residents=residents,
                                    account=account, rng=rng)

    # A few registrations that the roll does not list wait in the verification queue.
    newcomer = account("newcomer", "新住户 赵先生", "13700000001")
    services.register_residency(newcomer, community, building=buildings[0], unit="2", room="1801")
    for k in range(2, 6):
        user = account(f"1370000000{k}", _name(rng), f"1370000000{k}")
        services.register_residency(user, community, building=buildings[k], unit="1", room=f"{k}08")
    from deliberation.proposals.demo import load_demo_rounds

    rounds = load_demo_rounds(community, residents=residents, secretary=by_login["secretary"], party=party,
                              admin=admin)
    from deliberation.councils.demo import load_demo_council

    council = load_demo_council(community, admin=admin, secretary=by_login["secretary"],
                                members=[by_login[f"member{k}"] for k in range(1, 10)] + residents[11:16])
    from deliberation.grids.demo import load_demo_grids

    grids = load_demo_grids(community, admin=admin, account=account, residents=residents, rng=rng)
    return (f"Demo community {community.full_name} (/c/{community.slug}): {len(buildings)} buildings, "
            f"{len(residents)} verified residents, 5 waiting for verification, {len(people)} people on the roll, "
            f"{evaluations} published evaluations of a property firm and an owner committee.\n"
            f"{rounds}\n{council}\n{grids}")


# Four quarters: (period, survey opens, evaluation published), in UTC.
DEMO_QUARTERS = [
    ("2025-Q4", datetime(2025, 12, 1, 2), datetime(2026, 1, 9, 2)),
    ("2026-Q1", datetime(2026, 3, 2, 2), datetime(2026, 4, 9, 2)),
    ("2026-Q2", datetime(2026, 6, 1, 2), datetime(2026, 7, 9, 2)),
    ("2026-Q3", datetime(2026, 9, 1, 2), datetime(2026, 10, 12, 2)),
]
# Target branch scores per quarter: the firm slides from 良好 to 不合格 twice in a row (the review
# warning shows); the owner committee improves.
FIRM_TREND = [(85, 4.3), (73, 3.7), (55, 2.8), (48, 2.5)]
COMMITTEE_TREND = [(78, 3.8), (82, 4.0), (86, 4.2), (91, 4.5)]
FIRM_REPLY = ("感谢社区党委的评价。我司已撤换项目经理，增派两名保洁和一名绿化养护人员，电梯维保改为每两周一次，"
              "整改情况将于每月 5 日在小区公告栏公示，欢迎居民监督。")


def _demo_evaluations(community, *, admin, party, party2, residents, account, rng: random.Random) -> int:
    """A property firm and an owner committee with four quarters of surveys and published evaluations."""
    estates = {e.name: e for e in community.estates}
    firm = evaluation_services.register_organisation(
        community, kind=OrganisationKind.property_firm, name="深圳市鹏城物业服务有限公司", estates=[estates["桃源村一区"]],
        term_start=date(2024, 1, 1), term_end=date(2026, 12, 31), actor=admin)
    committee = evaluation_services.register_organisation(
        community, kind=OrganisationKind.owner_committee, name="龙辉花园业主委员会", estates=[estates["龙辉花园"]],
        term_start=date(2023, 7, 1), term_end=date(2028, 6, 30), actor=admin)
    firm_rep = account("firmrep", "鹏城物业 张经理", "13800000004")
    services.grant_role(community, user=firm_rep, role=Role.org_rep, actor=admin, organisation=firm)
    committee_rep = account("ocrep", "龙辉花园业委会 李主任", "13800000005")
    services.grant_role(community, user=committee_rep, role=Role.org_rep, actor=admin, organisation=committee)

    published = 0
    for organisation, trend in ((firm, FIRM_TREND), (committee, COMMITTEE_TREND)):
        rubric = next(r for r in evaluation_services.rubrics_of(community, organisation.kind) if r.is_default)
        served = [u for u in residents if any(r.building.estate_id in organisation.estate_ids for r in u.residencies)]
        evaluation = None
        for (period, opens, publishes), (target, mean_rating) in zip(DEMO_QUARTERS, trend, strict=True):
            survey = evaluation_services.open_survey(organisation, rubric=rubric, closes_on=(opens + timedelta(
                days=14)).date(), actor=party, now=opens)
            for user in rng.sample(served, k=len(served) * 2 // 5):
                ratings = {c.id: max(1, min(5, round(rng.gauss(mean_rating, 0.8)))) for c in rubric.resident_items}
                evaluation_services.answer_survey(survey, user, ratings=ratings, now=opens + timedelta(days=3))
            evaluation_services.close_survey(survey, actor=party, now=opens + timedelta(days=20))
            evaluation = evaluation_services.create_evaluation(organisation, period=period, rubric=rubric, actor=party)
            scores = {c.id: str(max(0, min(100, target + rng.randint(-8, 8)))) for c in rubric.criteria}
            evaluation_services.record_evaluation(
                evaluation, scores=scores, survey=survey, actor=party,
                narrative=f"{period} 党组织实地检查公共区域、查阅台账并听取楼栋长意见；详见各项得分。")
            evaluation_services.submit_evaluation(evaluation, actor=party, now=publishes - timedelta(days=1))
            evaluation_services.publish_evaluation(evaluation, actor=party2, now=publishes)
            published += 1
        if organisation is firm:
            evaluation_services.post_reply(evaluation, author=firm_rep, body=FIRM_REPLY)
    return published
