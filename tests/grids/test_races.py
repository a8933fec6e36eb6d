"""Two handlers acting on the same request at the same moment: each step happens once, and the second
attempt is told who got there first (not a 500, not a second timeline row)."""

from __future__ import annotations

import os
import threading
from datetime import datetime

import pytest
from sqlalchemy import func, insert, select, update

from deliberation.core.audit import AuditEvent
from deliberation.core.errors import DomainError
from deliberation.extensions import db
from deliberation.grids import requests as handling
from deliberation.grids.models import (
    DeadlineClass,
    RequestStatus,
    RequestStep,
    ResidentRequest,
    StepAction,
)
from tests.conftest import login_as
from tests.factories import build_world, make_user
from tests.grids.factories import answered, file, make_grids

T0 = datetime(2026, 11, 2, 1, 0)


def _signed(w, g):
    req = file(w, now=T0)
    handling.sign(req, actor=g.worker, now=T0)
    return req


def _whistled(w, g):
    req = _signed(w, g)
    handling.whistle(req, g.firm_unit, actor=g.worker, now=T0)
    return req


def _answered(w, g):
    return answered(w, g, now=T0)


def _second_rep(w, g):
    from deliberation.grids import services

    rep = make_user(login="firm-rep-2", display_name="赵物业")
    services.add_representative(g.firm_unit, rep, actor=w.admin)
    return rep


# transition: (set-up, who acts first and what it leaves, the late attempt)
CASES = {
    "sign": (lambda w, g: file(w, now=T0), lambda w, g: w.admin, StepAction.signed,
             {"status": RequestStatus.signed},
             lambda w, g, req: handling.sign(req, actor=g.worker)),
    "contact": (_signed, lambda w, g: w.admin, StepAction.answered, {"status": RequestStatus.answered},
                lambda w, g, req: handling.record_contact(req, actor=g.worker, note="打过电话")),
    "whistle": (_signed, lambda w, g: w.admin, StepAction.whistled,
                {"status": RequestStatus.whistled, "handling_unit_id": "street"},
                lambda w, g, req: handling.whistle(req, g.firm_unit, actor=g.worker)),
    "unit_sign": (_whistled, _second_rep, StepAction.unit_signed, {"status": RequestStatus.unit_signed},
                  lambda w, g, req: handling.unit_sign(req, actor=g.firm_rep)),
    "answer": (_signed, lambda w, g: w.admin, StepAction.answered, {"status": RequestStatus.answered},
               lambda w, g, req: handling.answer(req, actor=g.worker, text="已修好")),
    "reclassify": (lambda w, g: file(w, now=T0), lambda w, g: w.admin, StepAction.reclassified,
                   {"deadline_class": DeadlineClass.emergency},
                   lambda w, g, req: handling.reclassify(req, DeadlineClass.complex, actor=g.worker)),
    "rate": (_answered, lambda w, g: w.admin, StepAction.callback, {"status": RequestStatus.closed},
             lambda w, g, req: handling.rate(req, resident=w.resident, resolved=True, satisfaction=5)),
    "callback": (_answered, lambda w, g: w.resident, StepAction.rated, {"status": RequestStatus.closed},
                 lambda w, g, req: handling.record_callback(req, actor=w.admin, resolved=False, satisfaction=2)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_step_someone_else_took_since_the_page_loaded_is_refused_naming_them(world, monkeypatch, case):
    """Between loading the request and claiming it, another handler (another connection) did the step:
    the late attempt writes nothing and names who was first."""
    g = make_grids(world)
    setup, first_actor, first_action, first_values, attempt = CASES[case]
    req = setup(world, g)
    first = first_actor(world, g)
    db.session.flush()
    values = {k: (g.street.id if v == "street" else v) for k, v in first_values.items()}
    real_claim = handling._claim

    def other_handler_first(claimed, condition, **claim_values):
        db.session.execute(update(ResidentRequest).where(ResidentRequest.id == claimed.id).values(**values)
                           .execution_options(synchronize_session=False))
        db.session.execute(insert(RequestStep).values(request_id=claimed.id, action=first_action,
                                                      actor_id=first.id, at=T0, note=""))
        monkeypatch.setattr(handling, "_claim", real_claim)
        return real_claim(claimed, condition, **claim_values)

    monkeypatch.setattr(handling, "_claim", other_handler_first)
    steps_before = db.session.scalar(select(func.count()).select_from(RequestStep))
    events_before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(DomainError) as raised:
        attempt(world, g, req)
    assert raised.value.status_code == 409
    assert first.display_name in str(raised.value.message)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(RequestStep)) == steps_before + 1  # the other's
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events_before


def test_pressing_sign_after_the_office_signed_says_who_did(client, world, g):
    req = file(world)
    url = f"/c/taoyuan/requests/{req.id}"
    login_as(client, world.admin)
    assert client.post(f"{url}/sign").status_code == 303
    login_as(client, g.worker)
    response = client.post(f"{url}/sign", follow_redirects=True)
    assert response.status_code == 200
    assert world.admin.display_name in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(RequestStep).where(
        RequestStep.request_id == req.id, RequestStep.action == StepAction.signed)) == 1


def test_rating_twice_closes_once(client, world, g):
    req = answered(world, g)
    url = f"/c/taoyuan/requests/{req.id}"
    login_as(client, world.admin)
    data = {"resolved": "yes", "satisfaction": "4", "confirmed": "1"}
    assert client.post(f"{url}/callback", data=data).status_code == 303
    login_as(client, world.resident)
    response = client.post(f"{url}/rate", data={**data, "satisfaction": "1"}, follow_redirects=True)
    assert response.status_code == 200 and world.admin.display_name in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ResidentRequest, req.id).satisfaction == 4


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                    reason="real concurrent writers need PostgreSQL")
def test_two_workers_signing_at_once_sign_once(committing_app):
    app = committing_app
    with app.app_context():
        world = build_world()
        g = make_grids(world)
        req = file(world)
        db.session.commit()
        request_id, actors = req.id, [g.worker.id, world.admin.id]
        db.session.remove()

    loaded = threading.Barrier(2)
    outcomes = []

    def sign(actor_id):
        with app.app_context():
            try:
                from deliberation.auth.models import User

                mine = db.session.get(ResidentRequest, request_id)
                actor = db.session.get(User, actor_id)
                assert mine.status == RequestStatus.new
                loaded.wait(timeout=30)  # both saw it new
                try:
                    handling.sign(mine, actor=actor)
                    db.session.commit()
                    outcomes.append(("signed", actor.display_name))
                except DomainError as error:
                    db.session.rollback()
                    outcomes.append(("refused", str(error.message)))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sign, args=(actor_id,)) for actor_id in actors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(kind for kind, _ in outcomes) == ["refused", "signed"]
    winner = next(name for kind, name in outcomes if kind == "signed")
    assert winner in next(message for kind, message in outcomes if kind == "refused")
    with app.app_context():
        signed = db.session.scalar(select(func.count()).select_from(RequestStep).where(
            RequestStep.request_id == request_id, RequestStep.action == StepAction.signed))
        events = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "request.signed"))
        db.session.remove()
    assert (signed, events) == (1, 1)
