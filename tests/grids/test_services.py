"""Grids, intake, handling, call-back and the tick, through the services."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from deliberation.communities.models import Role
from deliberation.core.audit import AuditEvent
from deliberation.core.errors import DomainError
from deliberation.extensions import db
from deliberation.grids import requests as handling
from deliberation.grids import services
from deliberation.grids.models import (
    DeadlineClass,
    GridLevel,
    RequestCategory,
    RequestPhoto,
    RequestStatus,
    ResidentRequest,
    StepAction,
    UnitKind,
)
from deliberation.notifications.models import InboxItem
from tests.factories import building, make_user
from tests.grids.factories import answered, file, make_grids

T0 = datetime(2026, 11, 2, 1, 0)  # 09:00 in Beijing


def inbox(user, kind):
    return db.session.scalars(select(InboxItem.title).where(InboxItem.user_id == user.id,
                                                            InboxItem.kind == kind)).all()


def png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "PNG")
    return out.getvalue()


# --- the grid tree ----------------------------------------------------------------------

def test_a_building_belongs_to_one_micro_grid_only(world):
    g = make_grids(world)
    spare = services.create_grid(world.community, level=GridLevel.micro, name="另一个", parent=g.area,
                                 actor=world.admin)
    with pytest.raises(DomainError, match="一区1-2栋"):
        services.set_buildings(spare, [building(world.community, "1栋")], actor=world.admin)
    assert services.micro_grid_of(building(world.community, "1栋")).id == g.micro.id


def test_micro_grid_takes_buildings_of_its_area_estate_only(world):
    g = make_grids(world)
    with pytest.raises(DomainError):
        services.set_buildings(g.micro, [building(world.community, "A座")], actor=world.admin)


def test_tree_levels_nest_as_3_plus_1(world):
    g = make_grids(world)
    with pytest.raises(DomainError):
        services.create_grid(world.community, level=GridLevel.micro, name="错层", parent=g.root, actor=world.admin)
    with pytest.raises(DomainError):
        services.create_grid(world.community, level=GridLevel.community, name="第二个根", actor=world.admin)


def test_micro_grids_cut_from_the_buildings_without_one(world):
    g = make_grids(world)
    services.set_buildings(g.micro, [building(world.community, "1栋")], actor=world.admin)
    made = services.micro_grids_from_buildings(g.area, actor=world.admin)
    assert [grid.buildings[0].name for grid in made] == ["2栋"]
    assert services.buildings_without_grid(world.community) == []


def test_grid_worker_role_follows_assignments(world):
    g = make_grids(world)
    assert any(gr.role == Role.grid_worker for gr in g.other_worker.role_grants)
    services.remove_worker(g.other_micro.workers[0], actor=world.admin)
    db.session.expire(g.other_worker)
    assert not any(gr.role == Role.grid_worker for gr in g.other_worker.role_grants)


def test_party_group_members_come_from_the_party_branch(world):
    g = make_grids(world)
    with pytest.raises(DomainError):
        services.add_party_member(g.micro, world.resident, actor=world.admin)
    services.add_party_member(g.micro, world.party, leader=True, actor=world.admin)
    assert [m.user_id for m in g.micro.party_members] == [world.party.id]


def test_a_firm_unit_is_the_registered_organisation(world):
    g = make_grids(world)
    with pytest.raises(DomainError):
        services.create_unit(world.community, kind=UnitKind.property_firm, name="无名物业", actor=world.admin)
    assert g.firm_unit.name == g.firm.name


# --- intake ---------------------------------------------------------------------------------

def test_request_goes_to_the_micro_grid_worker_with_the_deadline_of_its_class(world):
    g = make_grids(world)
    req = file(world, now=T0)
    assert req.grid_id == g.micro.id and req.status == RequestStatus.new
    assert req.due_at == T0 + timedelta(days=7)
    utilities = file(world, category=RequestCategory.utilities, now=T0)
    assert utilities.due_at == T0 + timedelta(hours=24)
    emergency = file(world, category=RequestCategory.safety, now=T0)
    assert emergency.due_at == T0 + timedelta(hours=2)
    assert inbox(g.worker, "request_assigned") and not inbox(g.other_worker, "request_assigned")


def test_deadlines_are_configurable(world):
    make_grids(world)
    services.update_deadlines(world.community, {DeadlineClass.general: 72}, actor=world.admin)
    assert file(world, now=T0).due_at == T0 + timedelta(hours=72)
    with pytest.raises(DomainError):
        services.update_deadlines(world.community, {DeadlineClass.general: 0}, actor=world.admin)


def test_a_building_without_grid_is_refused_and_nothing_saved(world):
    g = make_grids(world)
    services.set_buildings(g.micro, [building(world.community, "2栋")], actor=world.admin)
    with pytest.raises(DomainError, match="1栋"):
        file(world)
    assert db.session.scalar(select(func.count(ResidentRequest.id))) == 0


def test_at_most_three_photos(world):
    make_grids(world)
    with pytest.raises(DomainError):
        file(world, photos=[png()] * 4)
    req = file(world, photos=[png()] * 3)
    assert len(req.photos) == 3
    assert db.session.scalar(select(func.count(RequestPhoto.id))) == 3


def test_special_grid_request(world):
    g = make_grids(world)
    fields = handling.RequestFields(type=handling.RequestType.complaint, category=RequestCategory.sanitation,
                                    text="市场垃圾", special_grid=g.market)
    req = handling.file_request(world.community, fields=fields, channel=handling_channel("app"),
                                requester=world.resident)
    assert req.grid_id == g.market.id and req.building_id is None


def handling_channel(value):
    from deliberation.grids.models import Channel

    return Channel(value)


def test_phone_request_needs_name_and_phone_and_records_who_entered_it(world):
    g = make_grids(world)
    fields = handling.RequestFields(type=handling.RequestType.inquiry, category=RequestCategory.other, text="咨询",
                                    building=building(world.community, "A座"))
    with pytest.raises(DomainError):
        handling.file_request(world.community, fields=fields, channel=handling_channel("phone"),
                              entered_by=g.other_worker)
    req = handling.file_request(world.community, fields=fields, channel=handling_channel("walk_in"),
                                entered_by=g.other_worker, requester_name="张阿姨", requester_phone="13900000000")
    assert req.entered_by_id == g.other_worker.id and req.requester_id is None
    assert req.requester_phone == "13900000000"


# --- handling -------------------------------------------------------------------------------

def test_every_step_is_timed_on_the_timeline_and_audited(world):
    g = make_grids(world)
    req = file(world, now=T0)
    handling.sign(req, actor=g.worker, now=T0 + timedelta(minutes=10))
    handling.record_contact(req, actor=g.worker, note="电话联系", now=T0 + timedelta(minutes=20))
    handling.whistle(req, g.firm_unit, actor=g.worker, now=T0 + timedelta(hours=1))
    handling.unit_sign(req, actor=g.firm_rep, now=T0 + timedelta(hours=2))
    handling.answer(req, actor=g.firm_rep, text="已修好", now=T0 + timedelta(hours=5))
    assert (req.signed_at, req.contacted_at, req.whistled_at, req.unit_signed_at, req.answered_at) == (
        T0 + timedelta(minutes=10), T0 + timedelta(minutes=20), T0 + timedelta(hours=1), T0 + timedelta(hours=2),
        T0 + timedelta(hours=5))
    assert req.handling_unit_id == g.firm_unit.id and req.answered_in_time
    assert [s.action for s in req.steps] == [StepAction.filed, StepAction.signed, StepAction.contacted,
                                             StepAction.whistled, StepAction.unit_signed, StepAction.answered]
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "ResidentRequest",
                                                                 AuditEvent.object_id == str(req.id))).all()
    assert actions == ["request.filed", "request.signed", "request.contacted", "request.whistled",
                       "request.unit_signed", "request.answered"]
    assert inbox(g.firm_rep, "request_whistled")
    assert inbox(world.resident, "request_answered")


def test_steps_refuse_the_wrong_state(world):
    g = make_grids(world)
    req = file(world)
    with pytest.raises(DomainError):
        handling.whistle(req, g.firm_unit, actor=g.worker)  # not signed yet
    with pytest.raises(DomainError):
        handling.answer(req, actor=g.worker, text="x")
    handling.sign(req, actor=g.worker)
    with pytest.raises(DomainError):
        handling.sign(req, actor=g.worker)


def test_a_unit_of_another_community_cannot_be_whistled(world):
    g = make_grids(world)
    other_unit = services.create_unit(world.other, kind=UnitKind.other, name="外社区单位", actor=world.other_admin)
    req = file(world)
    handling.sign(req, actor=g.worker)
    with pytest.raises(DomainError):
        handling.whistle(req, other_unit, actor=g.worker)


# --- call-back ---------------------------------------------------------------------------------

def test_resident_rates_and_the_request_closes(world):
    g = make_grids(world)
    req = answered(world, g, now=T0)
    with pytest.raises(DomainError):
        handling.rate(req, resident=world.resident, resolved=True, satisfaction=6)
    handling.rate(req, resident=world.resident, resolved=True, satisfaction=5, comment="很快", now=T0 + timedelta(days=1))
    assert req.status == RequestStatus.closed and req.satisfied and req.resolved
    assert req.rated_at == req.closed_at == T0 + timedelta(days=1)


def test_office_records_a_phone_call_back(world):
    g = make_grids(world)
    req = answered(world, g, via_unit=False)
    handling.record_callback(req, actor=world.admin, resolved=False, satisfaction=2)
    assert req.rating_channel.value == "phone_callback" and req.rated_by_id == world.admin.id
    assert req.steps[-1].action == StepAction.callback


# --- time passing --------------------------------------------------------------------------------

def test_tick_flags_overdue_requests_and_escalates_them_to_the_office_once(world):
    g = make_grids(world)
    urgent = file(world, category=RequestCategory.safety, now=T0)
    calm = file(world, now=T0)
    assert handling.tick(T0 + timedelta(hours=1)).overdue == 0
    result = services.tick(T0 + timedelta(hours=3))
    assert result.overdue == 1
    assert urgent.overdue and urgent.escalated_at == T0 + timedelta(hours=3) and not calm.overdue
    assert [s.action for s in urgent.steps][-2:] == [StepAction.overdue, StepAction.escalated]
    assert inbox(world.admin, "request_overdue")
    assert services.tick(T0 + timedelta(hours=4)).overdue == 0  # once only
    assert g.worker  # the worker still handles it


def test_answered_request_unrated_for_7_days_closes_without_counting_as_satisfied(world):
    g = make_grids(world)
    req = answered(world, g, now=T0)
    assert services.tick(T0 + timedelta(days=6, hours=23)).closed_unrated == 0
    assert services.tick(T0 + timedelta(days=7)).closed_unrated == 1
    assert req.status == RequestStatus.closed and req.closed_unrated
    assert req.satisfaction is None and not req.satisfied and req.resolved is None
    with pytest.raises(DomainError):
        handling.rate(req, resident=world.resident, resolved=True, satisfaction=5)


def test_reclassifying_moves_the_deadline_from_filing(world):
    g = make_grids(world)
    req = file(world, now=T0)
    handling.reclassify(req, DeadlineClass.complex, actor=g.worker, now=T0 + timedelta(days=1))
    assert req.due_at == T0 + timedelta(days=15)


def test_unknown_worker_is_not_first_responsible(world):
    from deliberation.core.permissions import can_sign_request

    g = make_grids(world)
    req = file(world)
    assert can_sign_request(g.worker, req) and not can_sign_request(g.other_worker, req)
    assert not can_sign_request(make_user(), req)


def test_a_tick_leaves_alone_what_another_worker_flagged_or_closed_since_it_looked(world, monkeypatch):
    """Every worker (on every host) runs the tick: between its SELECT and its write another worker may
    have flagged the request or closed it; the tick then writes no second step, event or message."""
    g = make_grids(world)
    late = file(world, category=RequestCategory.safety, now=T0)
    unrated = answered(world, g, now=T0)
    now = T0 + timedelta(days=8)
    real_claim = handling._claim

    def other_worker_first(req, condition, **values):
        db.session.execute(update(ResidentRequest).where(ResidentRequest.id == req.id).values(**values)
                           .execution_options(synchronize_session=False))
        return real_claim(req, condition, **values)

    monkeypatch.setattr(handling, "_claim", other_worker_first)
    steps_before = {r.id: len(r.steps) for r in (late, unrated)}
    events_before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    result = services.tick(now)
    assert (result.overdue, result.closed_unrated) == (0, 0)
    assert {r.id: len(r.steps) for r in (late, unrated)} == steps_before
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events_before
    assert not inbox(world.admin, "request_overdue")


def test_what_residents_and_handlers_write_keeps_its_chinese_punctuation(world):
    """Requests, notes, answers and comments used to be NFKC-normalised: a resident's ，：？（） came back as
    ASCII ,:?() on every page that showed them. Only runs of spaces are tidied."""
    g = make_grids(world)
    said = "楼道灯坏了，晚上很黑：能否尽快修？（三单元）"
    req = file(world, text=f"  {said}  ", now=T0)
    assert req.text == said
    handling.sign(req, actor=g.worker, now=T0)
    handling.record_contact(req, actor=g.worker, note="已电话联系，居民说：白天在家。", now=T0)
    handling.answer(req, actor=g.worker, text="已更换灯泡，请您确认！", now=T0)
    handling.rate(req, resident=world.resident, resolved=True, satisfaction=5, comment="很快，谢谢！", now=T0)
    assert req.answer == "已更换灯泡，请您确认！" and req.rating_comment == "很快，谢谢！"
    assert "已电话联系，居民说：白天在家。" in [step.note for step in req.steps]
