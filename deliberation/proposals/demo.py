"""Demo rounds: one collecting proposals, one being implemented, one closed and rated."""

from __future__ import annotations

import io
import random
from datetime import timedelta

from PIL import Image, ImageDraw

from deliberation.auth.models import User
from deliberation.communities.models import Community
from deliberation.proposals import services
from deliberation.proposals.models import BallotType, Category, CountingRule, ProposalStatus, Round, RoundPhase
from deliberation.proposals.services import ProposalFields, RoundSettings

S, G, W = Category.services, Category.goods, Category.works
COLLECTING = [
    ("3栋门前加装无障碍坡道", W, 80_000, "3栋", "3栋单元门前有四级台阶，坐轮椅的住户和推婴儿车的家长进出都很困难。建议加装一条不锈钢扶手的无障碍坡道。"),
    ("小区健身角器材更新", G, 120_000, "", "健身角的器材已使用十年，部分生锈松动。建议更换为适合老年人的低强度器材，并铺设防滑地面。"),
    ("长者饭堂午餐补贴", S, 150_000, "", "为社区 70 岁以上独居老人提供工作日午餐补贴，每餐补贴 8 元，由社区长者饭堂供餐。"),
    ("楼道声控灯更换为 LED 感应灯", W, 45_000, "A座", "A座楼道的声控灯经常不亮，老人晚上上下楼容易摔倒。建议全部更换为人体感应 LED 灯。"),
    ("儿童游乐区铺设安全地垫", W, 95_000, "", "游乐区现在是水泥地面，孩子摔倒容易受伤。建议铺设 EPDM 安全地垫。"),
    ("四点半课堂课后托管", S, 180_000, "", "双职工家庭的孩子放学后无人看管。建议在党群服务中心开设四点半课堂，由志愿者和社工辅导作业。"),
    ("垃圾分类投放点加装遮雨棚", W, 60_000, "", "雨天投放垃圾时居民会被淋湿，桶边污水横流。建议在四个投放点加装遮雨棚和洗手池。"),
    ("电动自行车集中充电桩", W, 200_000, "B座", "不少住户把电动车推进楼道充电，存在火灾隐患。建议在 B座旁建设带智能断电的集中充电棚。"),
    ("社区义诊日", S, 48_000, "", "每月请社康中心医生到社区开展一次义诊，测血压血糖，讲解慢病用药。"),
    ("小区绿化补种与树木修剪", S, 70_000, "", "部分绿化带裸露，几棵大树遮挡低层住户采光。建议补种灌木并修剪树木。"),
    ("雨水管道疏通与井盖更换", W, 130_000, "", "每逢暴雨，小区东门一带积水严重，部分井盖破损。建议疏通雨水管道并更换井盖。"),
    ("老年人防跌倒扶手安装", W, 55_000, "1栋", "1栋住着较多高龄老人，建议在楼梯两侧加装扶手，在转角处加装夜间指示灯。"),
    ("社区图书角与亲子阅读活动", G, 30_000, "", "在党群服务中心设立图书角，每月组织两次亲子阅读活动。"),
    ("广场休闲座椅增设", G, 40_000, "", "广场座椅太少，老人散步时没有地方休息。建议增设 12 张带靠背的休闲座椅。"),
    ("应急物资储备柜", G, 25_000, "", "在每个小区设置应急物资储备柜，存放手电、急救包、雨衣等，应对台风暴雨。"),
]
IMPLEMENTING = [
    ("小区东门人行道修缮", W, 180_000, "东门外人行道地砖松动破损，雨天溅水，老人易绊倒。"),
    ("独居老人智能呼叫器", G, 90_000, "为 60 户独居老人安装一键呼叫器，紧急情况可直接联系社区和家属。"),
    ("消防通道标线重划", W, 35_000, "消防通道标线模糊，常被车辆占用。重新划线并安装警示牌。"),
    ("暑期青少年托管班", S, 120_000, "暑假期间为小学生提供八周的托管和兴趣课程。"),
]
CLOSED = [
    ("垃圾分类宣传与督导", S, 60_000, "组织志愿者在投放高峰时段督导分类，开展宣传活动。", (5, 4, 4, 5, 3)),
    ("楼顶防水修补", W, 150_000, "修补 2栋、3栋楼顶防水层，解决顶层住户漏水问题。", (5, 5, 4, 5, 5, 4)),
    ("社区文化长廊", G, 80_000, "在中心广场建设宣传文化长廊，展示社区公约和好人好事。", (4, 3, 4)),
]
VOTING = [
    ("小区入口增设遮阳棚", W, 150_000, "等候接送孩子的家长夏天暴晒，建议在小区入口增设遮阳棚。"),
    ("老年人智能手机培训班", S, 40_000, "每周一次，教老人用手机挂号、缴费、视频通话，防范电信诈骗。"),
    ("宠物便便箱与宣传牌", G, 20_000, "在绿化带旁设置宠物便便箱和文明养犬宣传牌。"),
    ("篮球场灯光改造", W, 220_000, "篮球场夜间照明不足，更换为节能 LED 灯并加装定时开关。"),
    ("社区食堂桌椅更新", G, 90_000, "社区长者食堂桌椅老旧，更换为带扶手的防滑桌椅。"),
    ("共享工具屋", G, 60_000, "设置共享工具屋，居民可登记借用梯子、电钻等维修工具。"),
]
# Two small closed rounds with the other ballot types, so every type's results, explanation and .pb
# export can be seen: title, ballot rules, projects (title, category, cost, description).
TYPED = [
    ("2024年度民生微实事（积分投票）",
     {"ballot_type": BallotType.cumulative, "points_total": 10, "points_per_project": 5},
     [("小区监控探头增补", G, 90_000, "在出入口和停车场增补 12 个高清监控探头，减少车辆剐蹭和失窃。"),
      ("老旧信报箱更换", G, 40_000, "1–3栋的信报箱锈蚀损坏，更换为带锁的不锈钢信报箱。"),
      ("中秋邻里文化节", S, 30_000, "中秋节在中心广场举办邻里文化节，有猜灯谜、包月饼和文艺表演。"),
      ("地下车库照明改造", W, 160_000, "地下车库光线昏暗，更换为感应式 LED 灯，并重新刷地面标线。")]),
    ("2024年度民生微实事（排序投票）",
     {"ballot_type": BallotType.ranked, "max_approvals": 3},
     [("社区长者助浴服务", S, 70_000, "为行动不便的老人提供上门助浴服务，每月两次，由专业护理员上门。"),
      ("快递柜加装雨棚", W, 25_000, "小区快递柜露天放置，雨天取件不便，建议加装雨棚和照明。"),
      ("青少年科普周末营", S, 50_000, "周末在党群服务中心开设科普实验课，邀请科技馆老师授课。"),
      ("小区主干道减速带", W, 35_000, "主干道车速过快，建议在三处路口加装减速带和反光警示牌。"),
      ("健康小屋自助体检设备", G, 120_000, "在党群服务中心设立健康小屋，配置血压、血糖和体脂自助检测设备。")]),
]
COMMENTS = ["支持！家里老人天天要用。", "建议施工时避开上下学时间。", "预算是否可以再细化一下？", "这个很有必要，附议。",
            "希望能尽快落实。", "可以考虑和物业一起出资。"]


def demo_photo(seed: int) -> bytes:
    """A simple illustrative picture drawn by the app (no external images)."""
    rng = random.Random(seed)
    image = Image.new("RGB", (640, 420), (rng.randint(180, 230), rng.randint(200, 235), rng.randint(200, 240)))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 300, 640, 420), fill=(120 + rng.randint(0, 40), 160, 110))
    for _ in range(4):
        x, w, h = rng.randint(20, 520), rng.randint(60, 120), rng.randint(100, 260)
        draw.rectangle((x, 300 - h, x + w, 300), fill=(rng.randint(150, 220), rng.randint(120, 180), 120))
        for wy in range(300 - h + 15, 290, 30):
            draw.rectangle((x + 12, wy, x + w - 12, wy + 12), fill=(250, 245, 200))
    draw.ellipse((520, 30, 590, 100), fill=(250, 200, 80))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


def _round(community: Community, actor: User, title: str, **overrides) -> Round:
    settings = RoundSettings(title=title, budget=2_000_000, project_cap=500_000, cap_services=200_000,
                             cap_goods=500_000, cap_works=500_000, support_threshold=3, publicity_days=5,
                             description="根据《南山区民生微实事管理办法》，由居民提出、议事会决议、社区组织实施。")
    for key, value in overrides.items():
        setattr(settings, key, value)
    return services.create_round(community, settings=settings, actor=actor)


def _walk(round_: Round, to: RoundPhase, *, secretary: User, party: User, admin: User,
          voters: list[User] | None = None, seed: int = 0) -> None:
    """Take a round through its phases as the secretary and the Party branch would."""
    from deliberation.votes.demo import cast_demo_ballots
    from deliberation.votes.services import result_of

    while round_.phase != to:
        if round_.phase == RoundPhase.screening:
            for proposal in services.proposals_in(round_, ProposalStatus.submitted):
                # Used only below the co-signature threshold, where accepting needs a public reason.
                services.accept_proposal(proposal, actor=secretary,
                                         reason="初筛会议讨论认为确有需要：附议人数不足主要因为提出时间较晚。")
        if round_.phase == RoundPhase.voting and voters:
            cast_demo_ballots(round_, voters, web=144, paper=6, operators=(secretary, admin), seed=seed)
        if round_.phase == RoundPhase.council_resolution:
            services.record_resolution(round_, funded_ids=result_of(round_).final_winners,
                                       note="议事会全体会议表决通过（15 人中 12 人赞成）", actor=secretary)
            continue
        if round_.phase == RoundPhase.publicity:
            round_.publicity_started_at -= timedelta(days=round_.publicity_days + 1)
        services.advance_round(round_, actor=party if round_.phase == RoundPhase.branch_review else secretary)


def _typed_closed_round(community: Community, title: str, rules: dict, projects: list, *, residents: list[User],
                        secretary: User, party: User, admin: User, seed: int) -> Round:
    """A closed round with a cumulative or ranked ballot: 60 web and 4 paper ballots, counted, done."""
    from deliberation.votes.demo import cast_demo_ballots
    from deliberation.votes.services import set_ballot_rules

    rng = random.Random(seed)
    round_ = _round(community, secretary, title, budget=200_000, project_cap=200_000)
    set_ballot_rules(round_, per_household=False, must_fit_budget=False, counting_rule=CountingRule.greedy,
                     actor=secretary, **rules)
    for t, c, cost, d in projects:
        services.submit_proposal(round_, rng.choice(residents), photos=[],
                                 fields=ProposalFields(title=t, description=d, category=c, cost=cost,
                                                       location_text="社区内"))
    _walk(round_, RoundPhase.voting, secretary=secretary, party=party, admin=admin)
    cast_demo_ballots(round_, residents[20:], web=60, paper=4, operators=(secretary, admin), seed=seed)
    _walk(round_, RoundPhase.implementing, secretary=secretary, party=party, admin=admin)
    for proposal in services.proposals_in(round_, ProposalStatus.in_progress):
        services.post_progress(proposal, actor=secretary, body="项目已完工，通过社区和居民代表验收。",
                               photos=[], completed=True)
    services.advance_round(round_, actor=secretary)
    return round_


def load_demo_rounds(community: Community, *, residents: list[User], secretary: User, party: User,
                     admin: User) -> str:
    for number, (title, rules, projects) in enumerate(TYPED):
        _typed_closed_round(community, title, rules, projects, residents=residents, secretary=secretary,
                            party=party, admin=admin, seed=2024 + 10 * number)
    rng = random.Random(2027)
    buildings = {b.name: b for estate in community.estates for b in estate.buildings}

    closed = _round(community, secretary, "2025年度民生微实事")
    for i, (t, c, cost, d, _stars) in enumerate(CLOSED):
        services.submit_proposal(closed, rng.choice(residents), photos=[demo_photo(100 + i)],
                                 fields=ProposalFields(title=t, description=d, category=c, cost=cost,
                                                       location_text="社区内"))
    _walk(closed, RoundPhase.implementing, secretary=secretary, party=party, admin=admin, voters=residents[20:],
          seed=2025)
    for proposal in services.proposals_in(closed, ProposalStatus.in_progress):
        stars = next(s for t, *_r, s in CLOSED if t == proposal.title)
        services.post_progress(proposal, actor=secretary, body="项目已完工，通过社区和居民代表验收。",
                               photos=[demo_photo(200 + proposal.id)], completed=True)
        for voter, star in zip(rng.sample(residents, len(stars)), stars, strict=True):
            services.rate_project(proposal, voter, stars=star)
    services.advance_round(closed, actor=secretary)

    implementing = _round(community, secretary, "2026年度民生微实事")
    for i, (t, c, cost, d) in enumerate(IMPLEMENTING):
        services.submit_proposal(implementing, rng.choice(residents), photos=[demo_photo(300 + i)],
                                 fields=ProposalFields(title=t, description=d, category=c, cost=cost,
                                                       location_text="社区内"))
    _walk(implementing, RoundPhase.implementing, secretary=secretary, party=party, admin=admin,
          voters=residents[20:], seed=2026)
    funded = services.proposals_in(implementing, ProposalStatus.in_progress)
    updates = [("已完成招标，施工单位进场。", True, False), ("完成第一阶段施工，下周继续。", True, False),
               ("已按计划完成并通过验收。", True, True)]
    for proposal, (body, photo, completed) in zip(funded, updates, strict=False):
        services.post_progress(proposal, actor=secretary, body=body, completed=completed,
                               photos=[demo_photo(400 + proposal.id)] if photo else [])

    voting = _round(community, secretary, "2026年度民生微实事（增补）", budget=600_000)
    for i, (title, category, cost, description) in enumerate(VOTING):
        services.submit_proposal(voting, residents[(i * 11) % len(residents)], photos=[demo_photo(500 + i)],
                                 fields=ProposalFields(title=title, description=description, category=category,
                                                       cost=cost, location_text="社区内"))
    _walk(voting, RoundPhase.voting, secretary=secretary, party=party, admin=admin)
    from deliberation.votes.demo import cast_demo_ballots

    # Named demo accounts (the first 20 residents) have not voted yet, so they can try it.
    cast_demo_ballots(voting, residents[20:], web=60, paper=3, operators=(secretary, admin), seed=2027,
                      mismatch=True)

    collecting = _round(community, secretary, "2027年度民生微实事（第一批）", support_threshold=5)
    for i, (title, category, cost, building, description) in enumerate(COLLECTING):
        proposer = residents[i * 7 % len(residents)]
        proposal = services.submit_proposal(
            collecting, proposer, photos=[demo_photo(i)] if i % 2 == 0 else [],
            fields=ProposalFields(title=title, description=description, category=category, cost=cost,
                                  building_id=buildings[building].id if building in buildings else None,
                                  location_text="" if building in buildings else "社区内"))
        for supporter in rng.sample([r for r in residents if r.id != proposer.id], rng.randint(0, 14)):
            services.add_support(proposal, supporter)
        for text in rng.sample(COMMENTS, rng.randint(0, 3)):
            services.add_comment(proposal, rng.choice(residents), body=text)
    return (f"Rounds: {collecting.title} (collecting, {len(COLLECTING)} proposals), {voting.title} (voting open), "
            f"{implementing.title} (implementing), {closed.title} (closed, 150 ballots, rated); "
            + "; ".join(f"{title} (closed, 64 ballots)" for title, _rules, _projects in TYPED) + ".")
