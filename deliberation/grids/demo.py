"""Demo data of the grids area: a 3+1 grid tree, grid workers, the property firm and the owner committee
as handling units, a street department, and three months of requests with realistic outcomes, so
that the ranking means something when a newcomer opens it. Every step goes through the services
(timed, audited); the caller commits."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from deliberation.auth.models import User
from deliberation.communities.models import Building, Community, Residency, ResidencyStatus, Role, RoleGrant
from deliberation.core.models import utcnow
from deliberation.evaluations.models import Organisation, OrganisationKind
from deliberation.extensions import db
from deliberation.grids import requests as handling
from deliberation.grids import services
from deliberation.grids.models import Channel, GridLevel, RequestCategory, RequestType, UnitKind

DAYS = 90
REQUESTS = 150

# (category, type, text, who handles it: "worker" alone, "org" (the estate's firm or committee), "street")
SITUATIONS = [
    (RequestCategory.repairs, RequestType.help, "楼道灯坏了，晚上上下楼很黑。", "org"),
    (RequestCategory.repairs, RequestType.complaint, "电梯这周停了两次，老人上下楼困难。", "org"),
    (RequestCategory.sanitation, RequestType.complaint, "垃圾分类点满溢，气味很大。", "org"),
    (RequestCategory.greenery, RequestType.suggestion, "小区东门的树枝挡住路灯，建议修剪。", "org"),
    (RequestCategory.parking, RequestType.complaint, "消防通道经常被私家车占用。", "street"),
    (RequestCategory.noise, RequestType.complaint, "夜间装修噪音，晚上十点以后还在施工。", "street"),
    (RequestCategory.utilities, RequestType.help, "整栋楼停水，没有看到通知。", "org"),
    (RequestCategory.safety, RequestType.report, "楼下电动车在楼道里充电，有安全隐患。", "worker"),
    (RequestCategory.neighbours, RequestType.help, "楼上漏水到我家天花板，协商不成。", "worker"),
    (RequestCategory.repairs, RequestType.inquiry, "公共维修资金怎么申请使用？", "worker"),
]
ANSWERS = {"worker": "网格员已上门协调处理，并向居民说明了结果。", "org": "已安排维修人员现场处理完毕。",
           "street": "城管执法人员已到现场处置，并将持续巡查。"}


def load_demo_grids(community: Community, *, admin, account, residents, rng: random.Random) -> str:
    """Grids, workers, units and ~150 requests over the last three months. Returns a summary line."""
    now = utcnow()
    estates = {e.name: e for e in community.estates}
    root = services.create_grid(community, level=GridLevel.community, name="桃源社区网格", actor=admin)
    areas = {name: services.create_grid(community, level=GridLevel.area, name=f"{name}网格", parent=root,
                                        estate=estate, actor=admin) for name, estate in estates.items()}
    micro = {name: services.micro_grids_from_buildings(area, actor=admin) for name, area in areas.items()}
    market = services.create_grid(community, level=GridLevel.special, name="桃源农贸市场", parent=root,
                                  description="农贸市场及周边", actor=admin)
    workers = [account("worker1", "网格员 周敏", "13800000011"), account("worker2", "网格员 吴强", "13800000012")]
    for grid in micro["桃源村一区"] + [market]:
        services.assign_worker(grid, workers[0], actor=admin)
    for grid in micro["龙辉花园"]:
        services.assign_worker(grid, workers[1], actor=admin)
    organisations = {o.kind: o for o in db.session.scalars(
        select(Organisation).where(Organisation.community_id == community.id))}
    firm = services.create_unit(community, kind=UnitKind.property_firm,
                                organisation=organisations[OrganisationKind.property_firm], actor=admin)
    committee = services.create_unit(community, kind=UnitKind.owner_committee,
                                     organisation=organisations[OrganisationKind.owner_committee], actor=admin)
    street = services.create_unit(community, kind=UnitKind.street_department, name="桃源街道城市管理和综合执法队",
                                  contact_phone="0755-26000000", actor=admin)
    street_rep = account("streetrep", "街道城管队 何队长", "13800000013")
    services.add_representative(street, street_rep, actor=admin)
    def org_rep(organisation: Organisation) -> User:
        return db.session.scalar(select(User).join(RoleGrant, RoleGrant.user_id == User.id).where(
            RoleGrant.role == Role.org_rep, RoleGrant.organisation_id == organisation.id))

    reps = {firm.id: org_rep(organisations[OrganisationKind.property_firm]),
            committee.id: org_rep(organisations[OrganisationKind.owner_committee]), street.id: street_rep}
    unit_of_estate = {estates["桃源村一区"].id: firm, estates["龙辉花园"].id: committee}
    # How well each unit does: (chance of answering in time, chance the resident is satisfied).
    quality = {firm.id: (0.7, 0.55), committee.id: (0.9, 0.8), street.id: (0.85, 0.7), None: (0.95, 0.85)}

    homes = db.session.execute(select(Residency.user_id, Residency.building_id).where(
        Residency.community_id == community.id, Residency.status == ResidencyStatus.verified)).all()
    by_id = {u.id: u for u in residents}
    homes = [(by_id[user_id], building_id) for user_id, building_id in homes if user_id in by_id]
    buildings = {b.id: b for b in db.session.scalars(select(Building).where(Building.community_id == community.id))}
    worker_of = {estates["桃源村一区"].id: workers[0], estates["龙辉花园"].id: workers[1]}
    filed = 0
    for index in range(REQUESTS):
        when = now - timedelta(days=DAYS) + timedelta(minutes=rng.randint(0, DAYS * 24 * 60 - 60))
        resident, building_id = rng.choice(homes)
        building = buildings[building_id]
        category, kind, text, handler = rng.choice(SITUATIONS)
        fields = handling.RequestFields(type=kind, category=category, text=text, building=building)
        if index % 7 == 0:  # phoned in by an older resident; the worker types it
            req = handling.file_request(community, fields=fields, channel=Channel.phone,
                                        entered_by=worker_of[building.estate_id], requester=resident, now=when)
        else:
            req = handling.file_request(community, fields=fields, channel=Channel.app, requester=resident, now=when)
        filed += 1
        worker = worker_of[building.estate_id]
        hours = req.deadline_hours
        step = when + timedelta(minutes=rng.randint(10, 120))
        if step > now:
            continue
        handling.sign(req, actor=worker, now=step)
        handling.record_contact(req, actor=worker, note="已电话联系居民", now=step + timedelta(minutes=5))
        unit = {"org": unit_of_estate[building.estate_id], "street": street, "worker": None}[handler]
        answerer = worker
        if unit is not None:
            handling.whistle(req, unit, actor=worker, note="请尽快处理", now=step + timedelta(minutes=10))
            signed = step + timedelta(hours=rng.uniform(0.2, 4))
            if signed > now:
                continue
            handling.unit_sign(req, actor=reps[unit.id], now=signed)
            answerer = reps[unit.id]
        in_time, satisfied = quality[unit.id if unit else None]
        share = rng.uniform(0.1, 0.9) if rng.random() < in_time else rng.uniform(1.05, 1.8)
        answered = when + timedelta(hours=hours * share)
        if answered > now:
            continue
        handling.answer(req, actor=answerer, text=ANSWERS[handler], now=answered)
        rated = answered + timedelta(hours=rng.uniform(2, 72))
        if rng.random() < 0.15 or rated > now:
            continue  # left unrated: the tick closes it after 7 days
        happy = rng.random() < satisfied
        score = rng.choice([4, 5, 5]) if happy else rng.choice([1, 2, 3])
        resolved = happy or rng.random() < 0.3
        if req.channel == Channel.phone:
            handling.record_callback(req, actor=admin, resolved=resolved, satisfaction=score, now=rated)
        else:
            handling.rate(req, resident=resident, resolved=resolved, satisfaction=score,
                          comment="" if happy else "处理不及时", now=rated)
    handling.tick(now=now)
    return (f"Grids: {len(micro['桃源村一区']) + len(micro['龙辉花园'])} micro-grids and a market grid, "
            f"2 grid workers (worker1, worker2), 3 handling units, {filed} requests over the last {DAYS} days.")
