"""Grids (微网实格), handling units and resident requests (接诉即办). MODEL.md explains every table."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from deliberation.auth.models import User
from deliberation.communities.models import Building, Community, Estate
from deliberation.core.errors import DomainError
from deliberation.core.models import TimestampMixin, string_enum, utcnow
from deliberation.extensions import db

if TYPE_CHECKING:
    from deliberation.evaluations.models import Organisation


# --- grids ------------------------------------------------------------------------------

class GridLevel(enum.StrEnum):
    community = "community"
    area = "area"
    micro = "micro"
    special = "special"

    @property
    def label(self):
        return GRID_LEVEL_LABELS[self]


GRID_LEVEL_LABELS = {
    GridLevel.community: _l("Community grid"),
    GridLevel.area: _l("Area grid"),
    GridLevel.micro: _l("Micro-grid"),
    GridLevel.special: _l("Special grid"),
}


class Grid(TimestampMixin, db.Model):
    """One node of the community's "3+1" grid tree: community → area → micro, plus special grids."""

    __tablename__ = "grids"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    level: Mapped[GridLevel] = mapped_column(string_enum(GridLevel))
    name: Mapped[str] = mapped_column(String(100))
    # An area grid covers an estate (or part of one); micro-grids under it take that estate's buildings.
    estate_id: Mapped[int | None] = mapped_column(ForeignKey("estates.id"))
    # What a special grid is (a market, a school, a construction site); free text shown to residents.
    description: Mapped[str] = mapped_column(String(300), default="")

    community: Mapped[Community] = relationship()
    parent: Mapped[Grid | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Grid]] = relationship(back_populates="parent", order_by="Grid.name")
    estate: Mapped[Estate | None] = relationship()
    buildings: Mapped[list[Building]] = relationship(secondary="grid_buildings", order_by="Building.name",
                                                     viewonly=True)
    workers: Mapped[list[GridWorker]] = relationship(back_populates="grid", cascade="all, delete-orphan",
                                                     order_by="GridWorker.id")
    party_members: Mapped[list[GridPartyMember]] = relationship(back_populates="grid",
                                                                cascade="all, delete-orphan",
                                                                order_by="GridPartyMember.user_id")

    @property
    def takes_requests(self) -> bool:
        """Requests arise in a micro-grid or a special grid."""
        return self.level in (GridLevel.micro, GridLevel.special)


class GridBuilding(db.Model):
    """A building's micro-grid. The building is the primary key: a building (and so every household
    in it) belongs to at most one micro-grid."""

    __tablename__ = "grid_buildings"

    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"), primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id", ondelete="CASCADE"), index=True)

    building: Mapped[Building] = relationship()
    grid: Mapped[Grid] = relationship()


class GridWorker(db.Model):
    """A grid worker (网格员) assigned to one grid. The user also holds the community-wide
    `grid_worker` RoleGrant while they are assigned to at least one grid."""

    __tablename__ = "grid_workers"
    __table_args__ = (UniqueConstraint("grid_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # How residents reach the worker (a work phone); empty shows the account's phone.
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    grid: Mapped[Grid] = relationship(back_populates="workers")
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")

    @property
    def phone(self) -> str:
        return self.contact_phone or (self.user.phone or "")


class GridPartyMember(db.Model):
    """A member of the grid's Party group (网格党小组), drawn from the community's Party branch."""

    __tablename__ = "grid_party_members"

    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    is_leader: Mapped[bool] = mapped_column(Boolean, default=False)
    assigned_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    grid: Mapped[Grid] = relationship(back_populates="party_members")
    user: Mapped[User] = relationship(lazy="joined")


# --- handling units ---------------------------------------------------------------------

class UnitKind(enum.StrEnum):
    property_firm = "property_firm"
    owner_committee = "owner_committee"
    street_department = "street_department"
    other = "other"

    @property
    def label(self):
        return UNIT_KIND_LABELS[self]


UNIT_KIND_LABELS = {
    UnitKind.property_firm: _l("Property management firm"),
    UnitKind.owner_committee: _l("Owner committee"),
    UnitKind.street_department: _l("Street department"),
    UnitKind.other: _l("Other unit"),
}


class HandlingUnit(TimestampMixin, db.Model):
    """A unit a grid worker can whistle a request to (吹哨) and that reports for it (报到)."""

    __tablename__ = "handling_units"
    __table_args__ = (
        UniqueConstraint("community_id", "name"),
        UniqueConstraint("organisation_id"),
        CheckConstraint("(kind IN ('property_firm', 'owner_committee')) = (organisation_id IS NOT NULL)",
                        name="organisation_for_firms_and_committees"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    kind: Mapped[UnitKind] = mapped_column(string_enum(UnitKind))
    name: Mapped[str] = mapped_column(String(100))
    # The registered organisation, for property firms and owner committees (its org_rep grants sign too).
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    community: Mapped[Community] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    representatives: Mapped[list[UnitRepresentative]] = relationship(back_populates="unit",
                                                                     cascade="all, delete-orphan",
                                                                     order_by="UnitRepresentative.user_id")


class UnitRepresentative(db.Model):
    """A person who signs for and answers the unit's requests (部门报到)."""

    __tablename__ = "unit_representatives"

    unit_id: Mapped[int] = mapped_column(ForeignKey("handling_units.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    unit: Mapped[HandlingUnit] = relationship(back_populates="representatives")
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")


# --- requests ---------------------------------------------------------------------------

class RequestType(enum.StrEnum):
    inquiry = "inquiry"
    help = "help"
    complaint = "complaint"
    report = "report"
    suggestion = "suggestion"

    @property
    def label(self):
        return REQUEST_TYPE_LABELS[self]


REQUEST_TYPE_LABELS = {
    RequestType.inquiry: _l("Inquiry"),
    RequestType.help: _l("Request for help"),
    RequestType.complaint: _l("Complaint"),
    RequestType.report: _l("Report"),
    RequestType.suggestion: _l("Suggestion"),
}


class DeadlineClass(enum.StrEnum):
    emergency = "emergency"
    utilities = "utilities"
    general = "general"
    complex = "complex"

    @property
    def label(self):
        return DEADLINE_CLASS_LABELS[self]


DEADLINE_CLASS_LABELS = {
    DeadlineClass.emergency: _l("Danger or emergency"),
    DeadlineClass.utilities: _l("Water, power, gas or heating"),
    DeadlineClass.general: _l("General"),
    DeadlineClass.complex: _l("Complex"),
}

DEFAULT_DEADLINE_HOURS = {
    DeadlineClass.emergency: 2,
    DeadlineClass.utilities: 24,
    DeadlineClass.general: 7 * 24,
    DeadlineClass.complex: 15 * 24,
}


class RequestCategory(enum.StrEnum):
    """What the request is about; 每月一题 picks the month's most frequent one."""

    safety = "safety"
    utilities = "utilities"
    repairs = "repairs"
    sanitation = "sanitation"
    greenery = "greenery"
    parking = "parking"
    noise = "noise"
    neighbours = "neighbours"
    facilities = "facilities"
    services = "services"
    other = "other"

    @property
    def label(self):
        return REQUEST_CATEGORY_LABELS[self]

    @property
    def deadline_class(self) -> DeadlineClass:
        """The class a new request of this category starts in; handlers may change it."""
        return {RequestCategory.safety: DeadlineClass.emergency,
                RequestCategory.utilities: DeadlineClass.utilities}.get(self, DeadlineClass.general)


REQUEST_CATEGORY_LABELS = {
    RequestCategory.safety: _l("Danger or safety hazard"),
    RequestCategory.utilities: _l("Water, power, gas or heating"),
    RequestCategory.repairs: _l("Repairs and maintenance"),
    RequestCategory.sanitation: _l("Sanitation and rubbish"),
    RequestCategory.greenery: _l("Greenery"),
    RequestCategory.parking: _l("Parking and traffic"),
    RequestCategory.noise: _l("Noise"),
    RequestCategory.neighbours: _l("Disputes between neighbours"),
    RequestCategory.facilities: _l("Public facilities"),
    RequestCategory.services: _l("Community services"),
    RequestCategory.other: _l("Other"),
}


class Channel(enum.StrEnum):
    app = "app"
    phone = "phone"
    walk_in = "walk_in"

    @property
    def label(self):
        return CHANNEL_LABELS[self]


CHANNEL_LABELS = {
    Channel.app: _l("Filed online"),
    Channel.phone: _l("By phone"),
    Channel.walk_in: _l("In person"),
}


class RequestStatus(enum.StrEnum):
    new = "new"                  # waiting for the grid worker to sign
    signed = "signed"            # the grid worker signed for it (first-responsible)
    whistled = "whistled"        # whistled to a unit, waiting for the unit to sign
    unit_signed = "unit_signed"  # the unit's representative signed for it
    answered = "answered"        # answered; waiting for the resident's call-back
    closed = "closed"            # rated by the resident (or the office's call-back), or closed unrated

    @property
    def label(self):
        return REQUEST_STATUS_LABELS[self]

    @property
    def is_open(self) -> bool:
        return self not in (RequestStatus.answered, RequestStatus.closed)


REQUEST_STATUS_LABELS = {
    RequestStatus.new: _l("Waiting for the grid worker"),
    RequestStatus.signed: _l("Being handled by the grid worker"),
    RequestStatus.whistled: _l("Whistled to a unit"),
    RequestStatus.unit_signed: _l("Being handled by the unit"),
    RequestStatus.answered: _l("Answered"),
    RequestStatus.closed: _l("Closed"),
}


class RatingChannel(enum.StrEnum):
    app = "app"
    phone_callback = "phone_callback"

    @property
    def label(self):
        return _l("By the resident online") if self == RatingChannel.app else _l("Office phone call-back")


class DeadlineSettings(db.Model):
    """A community's deadline per class, in hours (defaults: 2 h, 24 h, 7 days, 15 days)."""

    __tablename__ = "request_deadline_settings"

    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True)
    emergency_hours: Mapped[int] = mapped_column(Integer, default=DEFAULT_DEADLINE_HOURS[DeadlineClass.emergency])
    utilities_hours: Mapped[int] = mapped_column(Integer, default=DEFAULT_DEADLINE_HOURS[DeadlineClass.utilities])
    general_hours: Mapped[int] = mapped_column(Integer, default=DEFAULT_DEADLINE_HOURS[DeadlineClass.general])
    complex_hours: Mapped[int] = mapped_column(Integer, default=DEFAULT_DEADLINE_HOURS[DeadlineClass.complex])

    def hours(self, deadline_class: DeadlineClass) -> int:
        return getattr(self, f"{deadline_class.value}_hours")


RATING_WINDOW = timedelta(days=7)  # an answered request not rated within this closes unrated


class ResidentRequest(TimestampMixin, db.Model):
    """A resident's request: who handles it, by when, and every timestamp the three rates need.

    `created_at` is when it was filed (or entered for the resident)."""

    __tablename__ = "resident_requests"
    __table_args__ = (
        CheckConstraint("satisfaction IS NULL OR (satisfaction BETWEEN 1 AND 5)", name="satisfaction_1_to_5"),
        Index("ix_resident_requests_community_created", "community_id", "created_at"),
        Index("ix_resident_requests_unit_created", "handling_unit_id", "created_at"),
        Index("ix_resident_requests_grid_created", "grid_id", "created_at"),
        Index("ix_resident_requests_status_due", "status", "due_at"),
        # The rates' live part: requests not yet answered whose deadline falls in the months asked for.
        Index("ix_resident_requests_unanswered_due", "community_id", "answered_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    # The micro-grid where it arises (the building's) or a special grid: its worker is first-responsible.
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"))
    place: Mapped[str] = mapped_column(String(200), default="")  # more precise place, free text
    type: Mapped[RequestType] = mapped_column(string_enum(RequestType))
    category: Mapped[RequestCategory] = mapped_column(string_enum(RequestCategory), index=True)
    text: Mapped[str] = mapped_column(Text)
    channel: Mapped[Channel] = mapped_column(string_enum(Channel))
    # The requester: a user account, or (phone / walk-in without an account) a name and phone.
    # Shown only to those handling the request.
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    requester_name: Mapped[str] = mapped_column(String(50), default="")
    requester_phone: Mapped[str] = mapped_column(String(20), default="")
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: filed by the requester

    deadline_class: Mapped[DeadlineClass] = mapped_column(string_enum(DeadlineClass))
    deadline_hours: Mapped[int] = mapped_column(Integer)  # copied from the settings when filed or reclassified
    due_at: Mapped[datetime] = mapped_column(DateTime)     # created_at + deadline_hours

    status: Mapped[RequestStatus] = mapped_column(string_enum(RequestStatus), default=RequestStatus.new)
    # The unit it was last whistled to (None while the grid worker handles it alone).
    handling_unit_id: Mapped[int | None] = mapped_column(ForeignKey("handling_units.id"))

    signed_at: Mapped[datetime | None] = mapped_column(DateTime)
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    contacted_at: Mapped[datetime | None] = mapped_column(DateTime)  # first contact with the resident
    whistled_at: Mapped[datetime | None] = mapped_column(DateTime)   # first whistle
    unit_signed_at: Mapped[datetime | None] = mapped_column(DateTime)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answer: Mapped[str] = mapped_column(Text, default="")
    overdue_at: Mapped[datetime | None] = mapped_column(DateTime)    # when the tick found it past due_at
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime)  # when it was escalated to the office

    # The resident's outcome (call-back).
    resolved: Mapped[bool | None] = mapped_column(Boolean)
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str] = mapped_column(String(500), default="")
    rating_channel: Mapped[RatingChannel | None] = mapped_column(string_enum(RatingChannel))
    rated_at: Mapped[datetime | None] = mapped_column(DateTime)
    rated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # the office for a call-back
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_unrated: Mapped[bool] = mapped_column(Boolean, default=False)

    community: Mapped[Community] = relationship()
    grid: Mapped[Grid] = relationship(lazy="joined")
    building: Mapped[Building | None] = relationship()
    requester: Mapped[User | None] = relationship(foreign_keys=[requester_id])
    entered_by: Mapped[User | None] = relationship(foreign_keys=[entered_by_id])
    signed_by: Mapped[User | None] = relationship(foreign_keys=[signed_by_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])
    rated_by: Mapped[User | None] = relationship(foreign_keys=[rated_by_id])
    handling_unit: Mapped[HandlingUnit | None] = relationship()
    photos: Mapped[list[RequestPhoto]] = relationship(back_populates="request", cascade="all, delete-orphan",
                                                      order_by="RequestPhoto.id")
    steps: Mapped[list[RequestStep]] = relationship(back_populates="request", cascade="all, delete-orphan",
                                                    order_by="(RequestStep.at, RequestStep.id)")

    @property
    def overdue(self) -> bool:
        return self.overdue_at is not None

    @property
    def satisfied(self) -> bool:
        """Counts as satisfied: rated 4 or 5. Closed unrated never counts."""
        return self.satisfaction is not None and self.satisfaction >= 4

    @property
    def answered_in_time(self) -> bool:
        return self.answered_at is not None and self.answered_at <= self.due_at

    def require_status(self, *allowed: RequestStatus) -> None:
        if self.status not in allowed:
            raise DomainError(_l("This request is now “%(status)s”; that step is not possible any more.",
                                 status=self.status.label), status_code=409)


class RequestPhoto(db.Model):
    """A photo the requester attached (at most 3), stored through core.uploads."""

    __tablename__ = "request_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("resident_requests.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(64), unique=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    request: Mapped[ResidentRequest] = relationship(back_populates="photos")


MAX_REQUEST_PHOTOS = 3


class StepAction(enum.StrEnum):
    filed = "filed"
    signed = "signed"
    contacted = "contacted"
    whistled = "whistled"
    unit_signed = "unit_signed"
    answered = "answered"
    reclassified = "reclassified"
    overdue = "overdue"
    escalated = "escalated"
    rated = "rated"
    callback = "callback"
    closed_unrated = "closed_unrated"

    @property
    def label(self):
        return STEP_ACTION_LABELS[self]


STEP_ACTION_LABELS = {
    StepAction.filed: _l("Filed"),
    StepAction.signed: _l("Signed for by the grid worker"),
    StepAction.contacted: _l("Resident contacted"),
    StepAction.whistled: _l("Whistled to a unit"),
    StepAction.unit_signed: _l("Signed for by the unit"),
    StepAction.answered: _l("Answered"),
    StepAction.reclassified: _l("Deadline class changed"),
    StepAction.overdue: _l("Past its deadline"),
    StepAction.escalated: _l("Escalated to the community office"),
    StepAction.rated: _l("Rated by the resident"),
    StepAction.callback: _l("Call-back recorded by the office"),
    StepAction.closed_unrated: _l("Closed without a rating"),
}


class RequestStep(db.Model):
    """One timed step on a request's timeline. actor None: the system (the tick)."""

    __tablename__ = "request_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("resident_requests.id", ondelete="CASCADE"), index=True)
    action: Mapped[StepAction] = mapped_column(string_enum(StepAction))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("handling_units.id"))  # for whistled / unit_signed
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    note: Mapped[str] = mapped_column(String(1000), default="")

    request: Mapped[ResidentRequest] = relationship(back_populates="steps")
    actor: Mapped[User | None] = relationship(lazy="joined")
    unit: Mapped[HandlingUnit | None] = relationship(lazy="joined")


# --- 每月一题 -----------------------------------------------------------------------------

class MonthlyTopic(db.Model):
    """The month's topic (每月一题): one category the office follows to resolution for a month."""

    __tablename__ = "monthly_topics"
    __table_args__ = (UniqueConstraint("community_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    month: Mapped[str] = mapped_column(String(7))  # "2026-11", in Asia/Shanghai
    category: Mapped[RequestCategory] = mapped_column(string_enum(RequestCategory))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))  # None: the whole community
    note: Mapped[str] = mapped_column(String(500), default="")
    chosen_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    chosen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    community: Mapped[Community] = relationship()
    grid: Mapped[Grid | None] = relationship()


# --- the rates' monthly roll-up -------------------------------------------------------------

class RateMonth(db.Model):
    """The counts behind the three rates of one handling unit or one grid in one Asia/Shanghai month,
    kept exact in the transaction of every step that changes them (`grids/rollup.py`): answered requests
    by the month of their deadline (`due`, `in_time`) and closed requests by the month they closed
    (`closed`, `resolved`, `satisfied`). Requests not yet answered are counted live, not here."""

    __tablename__ = "request_rate_months"
    __table_args__ = (
        CheckConstraint("(unit_id IS NULL) <> (grid_id IS NULL)", name="unit_or_grid"),
        UniqueConstraint("unit_id", "month"),
        UniqueConstraint("grid_id", "month"),
        Index("ix_request_rate_months_community_month", "community_id", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("handling_units.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    month: Mapped[str] = mapped_column(String(7))  # "2026-11", in Asia/Shanghai
    due: Mapped[int] = mapped_column(Integer, default=0)
    in_time: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)
