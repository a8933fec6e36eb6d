"""Every grids and requests route, every role, the grid worker and unit representatives included."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from deliberation.grids import rates, services, topics
from deliberation.grids import requests as handling
from deliberation.grids.models import HandlingUnit, RequestCategory, ResidentRequest, UnitKind
from tests.access import assert_access
from tests.grids.factories import Grids, answered, file
from tests.proposals.factories import jpeg_bytes

ROLES = ["anonymous", "unverified", "resident", "secretary", "party", "admin", "other_admin", "site_admin",
         "worker", "other_worker", "firm_rep", "street_rep"]
EVERYONE = set(ROLES)
LOGGED_IN = EVERYONE - {"anonymous"}
OFFICE = {"admin"}
VERIFIED = {"resident", "secretary"}
FIRST = {"admin", "worker"}  # the office and the micro-grid's worker
QUEUE = {"admin", "worker", "other_worker", "firm_rep", "street_rep"}
ENTER = {"admin", "worker", "other_worker"}


@dataclass
class Objects:
    g: Grids
    new: ResidentRequest
    signed: ResidentRequest
    whistled: ResidentRequest   # to the street department
    unit_signed: ResidentRequest  # by the firm
    answered: ResidentRequest
    inactive: HandlingUnit  # a unit the office deactivated


@pytest.fixture
def objects(world, g) -> Objects:
    new = file(world, photos=[jpeg_bytes()])
    signed = file(world)
    handling.sign(signed, actor=g.worker)
    whistled = file(world)
    handling.sign(whistled, actor=g.worker)
    handling.whistle(whistled, g.street, actor=g.worker)
    unit_signed = file(world)
    handling.sign(unit_signed, actor=g.worker)
    handling.whistle(unit_signed, g.firm_unit, actor=g.worker)
    handling.unit_sign(unit_signed, actor=g.firm_rep)
    services.add_party_member(g.micro, world.party, actor=world.admin)
    topics.choose(world.community, rates.current_month(), category=RequestCategory.repairs, actor=world.admin)
    inactive = services.create_unit(world.community, kind=UnitKind.other, name="停用的供水站", actor=world.admin)
    services.set_unit_active(inactive, False, actor=world.admin)
    return Objects(g, new, signed, whistled, unit_signed, answered(world, g), inactive)


def user(world, g, role):
    if role in ("worker", "other_worker", "firm_rep", "street_rep"):
        return getattr(g, role)
    return world.user(role)


OUTCOME = {"resolved": "yes", "satisfaction": "4", "confirmed": "1"}
REQUEST = lambda o: {"type": "help", "category": "repairs", "place": f"b{o.g.micro.buildings[0].id}",  # noqa: E731
                     "text": "楼道灯坏了"}
ENTERED = lambda o: {**REQUEST(o), "channel": "phone", "requester_name": "张", "requester_phone": "13900000000"}  # noqa: E731

ROUTES = [
    ("GET", lambda o: "/c/taoyuan/grids", None, EVERYONE),
    ("GET", lambda o: "/c/taoyuan/requests", None, EVERYONE),
    ("GET", lambda o: f"/c/taoyuan/requests/{o.new.id}", None, EVERYONE),
    ("GET", lambda o: f"/c/taoyuan/requests/{o.new.id}/photos/{o.new.photos[0].filename}", None, FIRST | {"resident"}),
    ("GET", lambda o: "/c/taoyuan/requests/mine", None, LOGGED_IN),
    ("GET", lambda o: "/c/taoyuan/requests/queue", None, QUEUE),
    ("GET", lambda o: "/c/taoyuan/requests/new", None, VERIFIED),
    ("POST", lambda o: "/c/taoyuan/requests/new", REQUEST, VERIFIED),
    ("GET", lambda o: "/c/taoyuan/requests/enter", None, ENTER),
    ("POST", lambda o: "/c/taoyuan/requests/enter", ENTERED, ENTER),
    ("POST", lambda o: f"/c/taoyuan/requests/{o.new.id}/sign", None, FIRST),
    ("POST", lambda o: f"/c/taoyuan/requests/{o.signed.id}/contact", {"note": "已联系"}, FIRST),
    ("POST", lambda o: f"/c/taoyuan/requests/{o.unit_signed.id}/contact", {"note": "已联系"}, FIRST | {"firm_rep"}),
    ("POST", lambda o: f"/c/taoyuan/requests/{o.signed.id}/whistle", lambda o: {"unit": o.g.street.id}, FIRST),
    ("POST", lambda o: f"/c/taoyuan/requests/{o.whistled.id}/unit-sign", None, {"street_rep"}),
    ("POST", lambda o: f"/c/taoyuan/requests/{o.signed.id}/answer", {"answer": "已处理", "confirmed": "1"}, FIRST),
    ("POST", lambda o: f"/c/taoyuan/requests/{o.unit_signed.id}/answer", {"answer": "已处理", "confirmed": "1"}, {"firm_rep"}),
    ("POST", lambda o: f"/c/taoyuan/requests/{o.new.id}/reclassify", {"deadline_class": "complex"}, FIRST),
    ("POST", lambda o: f"/c/taoyuan/requests/{o.answered.id}/rate", OUTCOME, {"resident"}),
    ("POST", lambda o: f"/c/taoyuan/requests/{o.answered.id}/callback", OUTCOME, OFFICE),
    ("GET", lambda o: "/c/taoyuan/grids/manage", None, OFFICE),
    ("POST", lambda o: "/c/taoyuan/grids/new", lambda o: {"level": "special", "name": "小学",
                                                          "parent": o.g.root.id}, OFFICE),
    ("POST", lambda o: f"/c/taoyuan/grids/{o.g.micro.id}/buildings",
     lambda o: {"buildings": [b.id for b in o.g.micro.buildings]}, OFFICE),
    ("POST", lambda o: f"/c/taoyuan/grids/{o.g.area.id}/micro-grids", None, OFFICE),
    ("POST", lambda o: f"/c/taoyuan/grids/{o.g.micro.id}/workers", {"user": "secretary"}, OFFICE),
    ("POST", lambda o: f"/c/taoyuan/grids/{o.g.micro.id}/workers/{o.g.micro.workers[0].id}/remove", None, OFFICE),
    ("POST", lambda o: f"/c/taoyuan/grids/{o.g.micro.id}/party", {"user": "party"}, OFFICE),
    ("POST", lambda o: f"/c/taoyuan/grids/{o.g.micro.id}/party/{o.g.micro.party_members[0].user_id}/remove", None,
     OFFICE),
    ("POST", lambda o: "/c/taoyuan/units/new", {"kind": "other", "name": "供电所"}, OFFICE),
    ("POST", lambda o: f"/c/taoyuan/units/{o.g.street.id}/deactivate", {"confirmed": "1"}, OFFICE),
    ("POST", lambda o: f"/c/taoyuan/units/{o.inactive.id}/reactivate", None, OFFICE),
    ("POST", lambda o: f"/c/taoyuan/units/{o.g.street.id}/representatives", {"user": "secretary"}, OFFICE),
    ("POST", lambda o: f"/c/taoyuan/units/{o.g.street.id}/representatives/{o.g.street_rep.id}/remove", None,
     OFFICE),
    ("POST", lambda o: "/c/taoyuan/requests/deadlines", {"emergency_hours": "2", "utilities_hours": "24",
                                                         "general_hours": "168", "complex_hours": "360"}, OFFICE),
    # Part B: the ranking, trends, exports and 每月一题.
    ("GET", lambda o: "/c/taoyuan/requests/ranking", None, EVERYONE),
    ("GET", lambda o: f"/c/taoyuan/requests/ranking/units/{o.g.firm_unit.id}", None, EVERYONE),
    ("GET", lambda o: f"/c/taoyuan/requests/ranking/grids/{o.g.micro.id}", None, EVERYONE),
    ("GET", lambda o: "/c/taoyuan/requests/ranking/export.csv", None, EVERYONE),
    ("GET", lambda o: "/c/taoyuan/requests/ranking/export.xlsx", None, EVERYONE),
    ("GET", lambda o: "/c/taoyuan/requests/export.csv", None, OFFICE),
    ("GET", lambda o: "/c/taoyuan/requests/export.xlsx", None, OFFICE),
    ("GET", lambda o: "/c/taoyuan/requests/topics", None, EVERYONE),
    ("GET", lambda o: f"/c/taoyuan/requests/topics/{rates.current_month()}", None, EVERYONE),
    ("GET", lambda o: "/c/taoyuan/requests/topics/choose", None, OFFICE),
    ("POST", lambda o: "/c/taoyuan/requests/topics/choose",
     lambda o: {"month": rates.current_month(), "category": "parking", "grid": str(o.g.micro.id)}, OFFICE),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "url", "data", "allowed"), ROUTES,
                         ids=[f"{m} {i}" for i, (m, *_rest) in enumerate(ROUTES)])
def test_route_access(client, world, g, objects, as_user, role, method, url, data, allowed):
    as_user(user(world, g, role))
    form = data(objects) if callable(data) else data
    response = client.open(url(objects), method=method, data=form)
    # The area's 422 is a refusal of the input, reached only by those let in.
    assert_access(response, role, allowed)


def test_every_route_of_the_area_is_in_the_matrix(app, objects):
    adapter = app.url_map.bind("localhost")
    tested = {(adapter.match(url(objects), method=method)[0], method) for method, url, _data, _allowed in ROUTES}
    ours = {(rule.endpoint, method) for rule in app.url_map.iter_rules() if rule.endpoint.startswith("grids.")
            for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert ours == tested


def test_another_communitys_office_reaches_nothing(client, world, g, objects, as_user):
    as_user(world.other_admin)
    assert client.get(f"/c/other/requests/{objects.new.id}").status_code == 404
    assert client.post(f"/c/other/requests/{objects.new.id}/sign").status_code == 404
    assert client.post(f"/c/other/grids/{g.micro.id}/workers", data={"user": "secretary"}).status_code == 404
