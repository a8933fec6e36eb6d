"""Resident requests: intake, handling (sign, contact, whistle, unit sign, answer), call-back and the tick.

Every step sets its timestamp (the first time it happens), writes a timeline row and an audit event,
and notifies whom it concerns, all in the caller's transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from deliberation.auth.models import User
from deliberation.communities.models import Building, Community, Role, RoleGrant
from deliberation.core import audit
from deliberation.core.errors import DomainError
from deliberation.core.models import utcnow
from deliberation.core.text import clean, clean_prose, normalise_phone
from deliberation.core.uploads import REQUESTS, store_image
from deliberation.extensions import db
from deliberation.grids import rollup
from deliberation.grids.models import (
    DEFAULT_DEADLINE_HOURS,
    MAX_REQUEST_PHOTOS,
    RATING_WINDOW,
    Channel,
    DeadlineClass,
    DeadlineSettings,
    Grid,
    GridBuilding,
    GridLevel,
    GridWorker,
    HandlingUnit,
    RatingChannel,
    RequestCategory,
    RequestPhoto,
    RequestStatus,
    RequestStep,
    RequestType,
    ResidentRequest,
    StepAction,
    UnitRepresentative,
)

log = logging.getLogger(__name__)
MAX_TEXT = 2000
MAX_NOTE = 1000


def _refuse(message, field: str | None = None) -> DomainError:
    return DomainError(message, field=field, status_code=422)


def _step(req: ResidentRequest, action: StepAction, *, actor: User | None, at: datetime, note: str = "",
          unit: HandlingUnit | None = None) -> None:
    req.steps.append(RequestStep(action=action, actor=actor, at=at, note=note, unit=unit))
    db.session.flush()
    audit.record(f"request.{action.value}", req, actor=actor, community=req.community,
                 summary=f"#{req.id} {action.value}" + (f" to {unit.name}" if unit is not None else ""))


def _path(req: ResidentRequest) -> str:
    from deliberation.notifications.events import path_for

    return path_for("grids.request_detail", slug=req.community.slug, request_id=req.id)


def _notify(user_ids, kind: str, req: ResidentRequest, key: str, **context) -> None:
    from deliberation.notifications.services import notify

    notify(user_ids, kind, key=f"{kind}:{req.id}:{key}", link=_path(req),
           context={"number": req.id, "category": str(req.category.label), **context},
           community_id=req.community_id, emergency=req.deadline_class == DeadlineClass.emergency)


# --- who --------------------------------------------------------------------------------

def worker_ids(grid: Grid) -> list[int]:
    return list(db.session.scalars(select(GridWorker.user_id).where(GridWorker.grid_id == grid.id)))


def representative_ids(unit: HandlingUnit) -> list[int]:
    """The unit's listed representatives and, for a firm or committee, its organisation's `org_rep`s."""
    ids = set(db.session.scalars(select(UnitRepresentative.user_id).where(UnitRepresentative.unit_id == unit.id)))
    if unit.organisation_id is not None:
        ids |= set(db.session.scalars(select(RoleGrant.user_id).where(
            RoleGrant.role == Role.org_rep, RoleGrant.organisation_id == unit.organisation_id)))
    return sorted(ids)


def office_ids(community_id: int) -> list[int]:
    return list(db.session.scalars(select(RoleGrant.user_id).where(
        RoleGrant.community_id == community_id, RoleGrant.role == Role.community_admin)))


# --- intake ------------------------------------------------------------------------------

@dataclass
class RequestFields:
    type: RequestType
    category: RequestCategory
    text: str
    building: Building | None = None
    special_grid: Grid | None = None
    place: str = ""


def deadline_hours(community_id: int, deadline_class: DeadlineClass) -> int:
    """The community's deadline for the class now, in hours."""
    settings = db.session.get(DeadlineSettings, community_id)
    return settings.hours(deadline_class) if settings is not None else DEFAULT_DEADLINE_HOURS[deadline_class]


def _grid_for(community: Community, fields: RequestFields) -> Grid:
    if fields.special_grid is not None:
        grid = fields.special_grid
        if grid.community_id != community.id or grid.level != GridLevel.special:
            raise _refuse(_l("Choose a special grid of this community."), "place")
        return grid
    building = fields.building
    if building is None or building.community_id != community.id:
        raise _refuse(_l("Choose the building (or the special grid) where this arises."), "place")
    grid = db.session.scalar(select(Grid).join(GridBuilding, GridBuilding.grid_id == Grid.id)
                             .where(GridBuilding.building_id == building.id))
    if grid is None:
        raise _refuse(_l("%(building)s is in no micro-grid yet; the community office has to draw it first.",
                         building=building.label), "place")
    return grid


def file_request(community: Community, *, fields: RequestFields, channel, requester: User | None = None,
                 entered_by: User | None = None, requester_name: str = "", requester_phone: str = "",
                 photos: list[bytes] = (), now: datetime | None = None) -> ResidentRequest:
    """File a request: it goes to the micro-grid (or special grid) where it arises, with its deadline."""
    now = now or utcnow()
    text = clean_prose(fields.text)
    if not text:
        raise _refuse(_l("Describe the problem or the question."), "text")
    if len(text) > MAX_TEXT:
        raise _refuse(_l("At most %(max)d characters.", max=MAX_TEXT), "text")
    place = clean_prose(fields.place)
    if len(place) > 200:
        raise _refuse(_l("At most %(max)d characters.", max=200), "place_text")
    if len(photos) > MAX_REQUEST_PHOTOS:
        raise _refuse(_l("At most %(n)d photos.", n=MAX_REQUEST_PHOTOS), "photos")
    grid = _grid_for(community, fields)
    requester_name = clean(requester_name)
    requester_phone = normalise_phone(requester_phone) if requester_phone else ""
    if channel == Channel.app:
        if requester is None or entered_by is not None:
            raise _refuse(_l("Only the resident files a request online."))
    else:
        if entered_by is None:
            raise _refuse(_l("Say who entered the request."))
        if requester is None and not (requester_name and requester_phone):
            raise _refuse(_l("Give the resident's name and a phone number for the call-back."), "requester_name")
        if len(requester_name) > 50:
            raise _refuse(_l("At most %(max)d characters.", max=50), "requester_name")
    deadline_class = fields.category.deadline_class
    hours = deadline_hours(community.id, deadline_class)
    req = ResidentRequest(
        community=community, grid=grid, building=fields.building if fields.special_grid is None else None,
        place=place, type=fields.type, category=fields.category, text=text, channel=channel,
        requester=requester, requester_name=requester_name, requester_phone=requester_phone,
        entered_by=entered_by, deadline_class=deadline_class, deadline_hours=hours,
        due_at=now + timedelta(hours=hours), status=RequestStatus.new, created_at=now)
    db.session.add(req)
    for data in photos:
        stored = store_image(data, area=REQUESTS)  # served only to those who see the request's words
        req.photos.append(RequestPhoto(filename=stored.filename, width=stored.width, height=stored.height))
    db.session.flush()
    _step(req, StepAction.filed, actor=entered_by or requester, at=now,
          note="" if channel == Channel.app else str(channel.label))
    _notify(worker_ids(grid), "request_assigned", req, "filed", grid=grid.name)
    log.info("request %s filed in grid %s (channel %s)", req.id, grid.id, channel.value)
    return req


# --- handling ----------------------------------------------------------------------------

def _note(note: str, *, required: bool = False, field: str = "note") -> str:
    note = clean_prose(note)
    if required and not note:
        raise _refuse(_l("This field is required."), field)
    if len(note) > MAX_NOTE:
        raise _refuse(_l("At most %(max)d characters.", max=MAX_NOTE), field)
    return note


# Two handlers may act on the same request at the same moment (two grid workers, a worker and the office,
# a unit's two representatives): each transition first claims the request with a conditional UPDATE
# (`_claim`) that only matches while the request is still as this handler saw it, so one step happens
# once and the second attempt is told who was first.

DONE_BY = {StepAction.signed: (StepAction.signed,), StepAction.contacted: (StepAction.answered,),
           StepAction.whistled: (StepAction.whistled, StepAction.answered),
           StepAction.unit_signed: (StepAction.unit_signed, StepAction.whistled),
           StepAction.answered: (StepAction.answered, StepAction.whistled),
           StepAction.reclassified: (StepAction.reclassified, StepAction.answered),
           StepAction.rated: (StepAction.rated, StepAction.callback, StepAction.closed_unrated),
           StepAction.callback: (StepAction.rated, StepAction.callback, StepAction.closed_unrated)}


# What a handler pressing a button on a page loaded before someone else acted is told about.
DONE_ALREADY = {StepAction.signed: (StepAction.signed,), StepAction.contacted: (StepAction.answered,),
                StepAction.whistled: (StepAction.answered,), StepAction.unit_signed: (StepAction.unit_signed,),
                StepAction.answered: (StepAction.answered,), StepAction.reclassified: (StepAction.answered,),
                StepAction.rated: (StepAction.rated, StepAction.callback),
                StepAction.callback: (StepAction.rated, StepAction.callback)}


def already_done(req: ResidentRequest, action: StepAction, *, since_loaded: bool = True) -> DomainError | None:
    """Who got there first: the error for a step someone else's step has made impossible, or None when no
    such step is on the timeline (then the attempt is simply not allowed). `since_loaded=False`: the
    request was loaded after the other step, so only the same step (or the answer ending it) counts."""
    actions = DONE_BY[action] if since_loaded else DONE_ALREADY[action]
    first = db.session.scalar(
        select(RequestStep).where(RequestStep.request_id == req.id, RequestStep.action.in_(actions))
        .order_by(RequestStep.at.desc(), RequestStep.id.desc()).limit(1))
    if first is None:
        return None
    if first.actor is None:
        return _not_now(req)
    return DomainError(_l("%(who)s got there first (%(step)s); the request is now “%(status)s”.",
                          who=first.actor.display_name, step=first.action.label, status=req.status.label),
                       status_code=409)


def _take(req: ResidentRequest, action: StepAction, allowed: tuple[RequestStatus, ...], condition=None,
          **values) -> None:
    """Claim the request for `action`: its status is still the one this handler saw (and one of
    `allowed`), and `condition` still holds; otherwise refuse, naming who acted first."""
    seen = req.status
    if seen in allowed:
        where = ResidentRequest.status == seen
        if condition is not None:
            where = where & condition
        if _claim(req, where, status=values.pop("status", seen), **values):
            return
        db.session.refresh(req)  # what the other handler committed
    raise already_done(req, action) or _not_now(req)


def _not_now(req: ResidentRequest) -> DomainError:
    return DomainError(_l("This request is now “%(status)s”; that step is not possible any more.",
                          status=req.status.label), status_code=409)


def _check(req: ResidentRequest, action: StepAction, *allowed: RequestStatus) -> None:
    """Refuse a step the request's status no longer allows, naming who acted first when someone did."""
    if req.status not in allowed:
        raise already_done(req, action) or _not_now(req)


def _same_unit(req: ResidentRequest):
    """The request is still with the unit this handler saw (or still with none)."""
    return ResidentRequest.handling_unit_id.is_not_distinct_from(req.handling_unit_id)


def sign(req: ResidentRequest, *, actor: User, now: datetime | None = None) -> None:
    """The grid worker signs for the request: from now on they are first-responsible."""
    now = now or utcnow()
    _take(req, StepAction.signed, (RequestStatus.new,), status=RequestStatus.signed)
    req.signed_at, req.signed_by = now, actor
    _step(req, StepAction.signed, actor=actor, at=now)


def record_contact(req: ResidentRequest, *, actor: User, note: str = "", now: datetime | None = None) -> None:
    """The handler contacted the resident (the first contact is the one the rates read)."""
    now = now or utcnow()
    _check(req, StepAction.contacted, RequestStatus.signed, RequestStatus.whistled, RequestStatus.unit_signed)
    note = _note(note)
    _take(req, StepAction.contacted, (RequestStatus.signed, RequestStatus.whistled, RequestStatus.unit_signed))
    if req.contacted_at is None:
        req.contacted_at = now
    _step(req, StepAction.contacted, actor=actor, at=now, note=note)


def whistle(req: ResidentRequest, unit: HandlingUnit, *, actor: User, note: str = "",
            now: datetime | None = None) -> None:
    """Blow the whistle (吹哨): send the request to the responsible unit, which has to sign for it."""
    now = now or utcnow()
    _check(req, StepAction.whistled, RequestStatus.signed, RequestStatus.whistled, RequestStatus.unit_signed)
    if unit.community_id != req.community_id or not unit.active:
        raise _refuse(_l("Choose a unit of this community."), "unit")
    if unit.id == req.handling_unit_id:
        raise _refuse(_l("The request is already with this unit."), "unit")
    note = _note(note)
    with rollup.tracked(req):  # the unit changes (unanswered requests contribute nothing yet)
        _take(req, StepAction.whistled, (RequestStatus.signed, RequestStatus.whistled, RequestStatus.unit_signed),
              _same_unit(req), status=RequestStatus.whistled)
        req.handling_unit = unit
        if req.whistled_at is None:
            req.whistled_at = now
        req.unit_signed_at = None  # the new unit signs for itself
    _step(req, StepAction.whistled, actor=actor, at=now, note=note, unit=unit)
    _notify(representative_ids(unit), "request_whistled", req, f"unit{unit.id}", unit=unit.name)


def unit_sign(req: ResidentRequest, *, actor: User, now: datetime | None = None) -> None:
    """The unit's representative signs for the request (报到)."""
    now = now or utcnow()
    _take(req, StepAction.unit_signed, (RequestStatus.whistled,), _same_unit(req), status=RequestStatus.unit_signed)
    req.unit_signed_at = now
    _step(req, StepAction.unit_signed, actor=actor, at=now, unit=req.handling_unit)


def answer(req: ResidentRequest, *, actor: User, text: str, now: datetime | None = None) -> None:
    """Answer the request: the grid worker when they solved it, or the unit that signed for it."""
    now = now or utcnow()
    _check(req, StepAction.answered, RequestStatus.signed, RequestStatus.unit_signed)
    text = _note(text, required=True, field="answer")
    with rollup.tracked(req):
        _take(req, StepAction.answered, (RequestStatus.signed, RequestStatus.unit_signed), _same_unit(req),
              status=RequestStatus.answered)
        req.answer, req.answered_at, req.answered_by = text, now, actor
    _step(req, StepAction.answered, actor=actor, at=now, unit=req.handling_unit)
    if req.requester_id is not None:
        _notify([req.requester_id], "request_answered", req, "answered")


def reclassify(req: ResidentRequest, deadline_class: DeadlineClass, *, actor: User,
               now: datetime | None = None) -> None:
    """Change the deadline class of an open request; the deadline counts from when it was filed."""
    now = now or utcnow()
    if not req.status.is_open:
        raise DomainError(_l("This request is now “%(status)s”; that step is not possible any more.",
                             status=req.status.label), status_code=409)
    if deadline_class == req.deadline_class:
        raise _refuse(_l("The request is already in this class."), "deadline_class")
    with rollup.tracked(req):
        _take(req, StepAction.reclassified, tuple(s for s in RequestStatus if s.is_open),
              ResidentRequest.deadline_class == req.deadline_class, deadline_class=deadline_class)
        req.deadline_hours = deadline_hours(req.community_id, deadline_class)
        req.due_at = req.created_at + timedelta(hours=req.deadline_hours)
    if req.overdue_at is not None and req.due_at > now:
        req.overdue_at = None  # no longer late; escalated_at stays as history
    _step(req, StepAction.reclassified, actor=actor, at=now, note=str(deadline_class.label))


# --- call-back ---------------------------------------------------------------------------

def _outcome(req: ResidentRequest, *, resolved: bool, satisfaction: int, comment: str) -> str:
    _check(req, StepAction.rated, RequestStatus.answered)
    if resolved not in (True, False):
        raise _refuse(_l("Say whether the problem was resolved."), "resolved")
    if satisfaction not in (1, 2, 3, 4, 5):
        raise _refuse(_l("Choose a rating from 1 to 5."), "satisfaction")
    comment = clean_prose(comment)
    if len(comment) > 500:
        raise _refuse(_l("At most %(max)d characters.", max=500), "comment")
    return comment


def rate(req: ResidentRequest, *, resident: User, resolved: bool, satisfaction: int, comment: str = "",
         now: datetime | None = None) -> None:
    """The resident says whether it was resolved and rates the handling 1–5; the request closes."""
    now = now or utcnow()
    comment = _outcome(req, resolved=resolved, satisfaction=satisfaction, comment=comment)
    _take(req, StepAction.rated, (RequestStatus.answered,), status=RequestStatus.closed)
    _close_rated(req, resolved, satisfaction, comment, RatingChannel.app, resident, now)
    _step(req, StepAction.rated, actor=resident, at=now, note=f"{satisfaction}/5")


def record_callback(req: ResidentRequest, *, actor: User, resolved: bool, satisfaction: int, comment: str = "",
                    now: datetime | None = None) -> None:
    """The office phoned the resident back and records what they said; the request closes."""
    now = now or utcnow()
    comment = _outcome(req, resolved=resolved, satisfaction=satisfaction, comment=comment)
    _take(req, StepAction.callback, (RequestStatus.answered,), status=RequestStatus.closed)
    _close_rated(req, resolved, satisfaction, comment, RatingChannel.phone_callback, actor, now)
    _step(req, StepAction.callback, actor=actor, at=now, note=f"{satisfaction}/5")


def _close_rated(req, resolved, satisfaction, comment, channel, by, now) -> None:
    with rollup.tracked(req):
        req.resolved, req.satisfaction, req.rating_comment = resolved, satisfaction, comment
        req.rating_channel, req.rated_at, req.rated_by = channel, now, by
        req.status, req.closed_at = RequestStatus.closed, now


# --- time passing ------------------------------------------------------------------------

@dataclass
class TickResult:
    overdue: int = 0
    closed_unrated: int = 0


def _claim(req: ResidentRequest, condition, **values) -> bool:
    """Set `values` on the request only if `condition` still holds in the database: several workers (on
    several hosts) run the tick at once, and only the one whose UPDATE matched writes the steps."""
    claimed = db.session.execute(
        update(ResidentRequest).where(ResidentRequest.id == req.id, condition).values(**values)
        .execution_options(synchronize_session=False)).rowcount == 1
    if claimed:
        for name, value in values.items():
            set_committed_value(req, name, value)
    return claimed


def tick(now: datetime | None = None) -> TickResult:
    """Flag and escalate to the office every open request past its deadline; close every answered
    request left unrated for 7 days (not counting as resolved or satisfied). Flushes, never commits;
    running it twice changes nothing more."""
    now = now or utcnow()
    result = TickResult()
    late = db.session.scalars(
        select(ResidentRequest).options(selectinload(ResidentRequest.steps))
        .where(ResidentRequest.status.in_([s for s in RequestStatus if s.is_open]),
               ResidentRequest.due_at < now, ResidentRequest.overdue_at.is_(None))
        .order_by(ResidentRequest.id)).all()
    for req in late:
        if not _claim(req, ResidentRequest.overdue_at.is_(None), overdue_at=now):
            continue  # another worker flagged it first
        req.escalated_at = req.escalated_at or now
        _step(req, StepAction.overdue, actor=None, at=now)
        _step(req, StepAction.escalated, actor=None, at=now)
        _notify(office_ids(req.community_id), "request_overdue", req, "overdue", grid=req.grid.name)
        result.overdue += 1
    unrated = db.session.scalars(
        select(ResidentRequest).options(selectinload(ResidentRequest.steps))
        .where(ResidentRequest.status == RequestStatus.answered,
               ResidentRequest.answered_at <= now - RATING_WINDOW)
        .order_by(ResidentRequest.id)).all()
    for req in unrated:
        with rollup.tracked(req):
            claimed = _claim(req, ResidentRequest.status == RequestStatus.answered, status=RequestStatus.closed,
                             closed_at=now, closed_unrated=True)
        if not claimed:
            continue
        _step(req, StepAction.closed_unrated, actor=None, at=now)
        result.closed_unrated += 1
    if result.overdue or result.closed_unrated:
        log.info("requests tick: %s overdue, %s closed unrated", result.overdue, result.closed_unrated)
    return result
