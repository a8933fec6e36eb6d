"""A community cut into grids, with a grid worker, units and their representatives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from deliberation.auth.models import User
from deliberation.communities import services as community_services
from deliberation.communities.models import Community, Role
from deliberation.evaluations.models import Organisation
from deliberation.grids import requests as handling
from deliberation.grids import services
from deliberation.grids.models import (
    Channel,
    Grid,
    GridLevel,
    HandlingUnit,
    RequestCategory,
    RequestType,
    ResidentRequest,
    UnitKind,
)
from tests.evaluations.factories import make_organisation
from tests.factories import World, building, make_user


@dataclass
class Grids:
    community: Community
    root: Grid
    area: Grid
    micro: Grid        # 桃源村一区 1栋 and 2栋 (where world.resident lives)
    other_micro: Grid  # 龙辉花园 A座
    market: Grid       # a special grid
    worker: User
    other_worker: User
    firm: Organisation
    firm_unit: HandlingUnit
    firm_rep: User     # org_rep of the firm
    street: HandlingUnit
    street_rep: User   # listed representative of the street department


def make_grids(w: World, *, firm: Organisation | None = None, firm_rep: User | None = None) -> Grids:
    """The grid tree; `firm` and `firm_rep` reuse an organisation and its org_rep that exist already."""
    c, admin = w.community, w.admin
    root = services.create_grid(c, level=GridLevel.community, name="桃源社区网格", actor=admin)
    estates = {e.name: e for e in c.estates}
    area = services.create_grid(c, level=GridLevel.area, name="一区", parent=root, estate=estates["桃源村一区"],
                                actor=admin)
    micro = services.create_grid(c, level=GridLevel.micro, name="一区1-2栋", parent=area, actor=admin)
    services.set_buildings(micro, [building(c, "1栋"), building(c, "2栋")], actor=admin)
    area2 = services.create_grid(c, level=GridLevel.area, name="龙辉", parent=root, estate=estates["龙辉花园"],
                                 actor=admin)
    other_micro = services.create_grid(c, level=GridLevel.micro, name="龙辉A座", parent=area2, actor=admin)
    services.set_buildings(other_micro, [building(c, "A座")], actor=admin)
    market = services.create_grid(c, level=GridLevel.special, name="桃源农贸市场", parent=root,
                                  description="农贸市场", actor=admin)
    worker = make_user(login="worker", display_name="王网格")
    services.assign_worker(micro, worker, contact_phone="13800000001", actor=admin)
    services.assign_worker(market, worker, actor=admin)
    other_worker = make_user(login="other-worker", display_name="李网格")
    services.assign_worker(other_micro, other_worker, actor=admin)
    firm = firm or make_organisation(c, actor=admin)
    firm_unit = services.create_unit(c, kind=UnitKind.property_firm, organisation=firm, actor=admin)
    if firm_rep is None:
        firm_rep = make_user(login="firm-rep")
        community_services.grant_role(c, user=firm_rep, role=Role.org_rep, organisation=firm, actor=admin)
    street = services.create_unit(c, kind=UnitKind.street_department, name="桃源街道城管科", actor=admin)
    street_rep = make_user(login="street-rep")
    services.add_representative(street, street_rep, actor=admin)
    return Grids(c, root, area, micro, other_micro, market, worker, other_worker, firm, firm_unit, firm_rep,
                 street, street_rep)


def file(w: World, *, category: RequestCategory = RequestCategory.repairs, text: str = "楼道灯坏了",
         now: datetime | None = None, building_name: str = "1栋", requester: User | None = None,
         photos: list[bytes] = ()) -> ResidentRequest:
    fields = handling.RequestFields(type=RequestType.help, category=category, text=text,
                                    building=building(w.community, building_name))
    return handling.file_request(w.community, fields=fields, channel=Channel.app, requester=requester or w.resident,
                                 photos=list(photos), now=now)


def answered(w: World, g: Grids, *, now: datetime | None = None, via_unit: bool = True) -> ResidentRequest:
    """A request filed, signed, whistled to the firm, signed by it and answered."""
    req = file(w, now=now)
    handling.sign(req, actor=g.worker, now=now)
    if via_unit:
        handling.whistle(req, g.firm_unit, actor=g.worker, now=now)
        handling.unit_sign(req, actor=g.firm_rep, now=now)
        handling.answer(req, actor=g.firm_rep, text="已更换灯泡", now=now)
    else:
        handling.answer(req, actor=g.worker, text="已处理", now=now)
    return req
