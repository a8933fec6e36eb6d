"""Community structure, residency and roles."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from deliberation.auth.models import User
from deliberation.core.errors import DomainError
from deliberation.core.models import TimestampMixin, string_enum, utcnow
from deliberation.extensions import db

if TYPE_CHECKING:
    from deliberation.evaluations.models import Organisation


class Community(TimestampMixin, db.Model):
    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    district: Mapped[str] = mapped_column(String(50))
    street: Mapped[str] = mapped_column(String(50))

    estates: Mapped[list[Estate]] = relationship(back_populates="community", order_by="Estate.name")

    @property
    def full_name(self) -> str:
        return f"{self.district} {self.street} {self.name}"

    def __repr__(self) -> str:
        return f"<Community {self.slug}>"


class Estate(db.Model):
    """A residential estate (小区) inside a community."""

    __tablename__ = "estates"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))

    community: Mapped[Community] = relationship(back_populates="estates")
    buildings: Mapped[list[Building]] = relationship(back_populates="estate", order_by="Building.name")


class Building(db.Model):
    """A building (楼栋); its name is unique within the community so the roll CSV can name it."""

    __tablename__ = "buildings"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))

    estate: Mapped[Estate] = relationship(back_populates="buildings")

    @property
    def label(self) -> str:
        return f"{self.estate.name} {self.name}"


def household_key(building_id: int, unit: str, room: str) -> str:
    """The key that identifies one household: building, unit and room."""
    return f"{building_id}/{unit}/{room}"


class RollEntry(db.Model):
    """One person on the community's residents' roll, imported from CSV."""

    __tablename__ = "roll_entries"
    __table_args__ = (UniqueConstraint("community_id", "household_key", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"))
    unit: Mapped[str] = mapped_column(String(20))
    room: Mapped[str] = mapped_column(String(20))
    household_key: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20))
    imported_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    building: Mapped[Building] = relationship()


class ResidencyStatus(enum.StrEnum):
    pending = "pending"
    verified = "verified"
    rejected = "rejected"
    moved_out = "moved_out"

    @property
    def label(self):
        return RESIDENCY_STATUS_LABELS[self]


RESIDENCY_STATUS_LABELS = {
    ResidencyStatus.pending: _l("Waiting for verification"),
    ResidencyStatus.verified: _l("Verified"),
    ResidencyStatus.rejected: _l("Rejected"),
    ResidencyStatus.moved_out: _l("Moved out"),
}


class Residency(TimestampMixin, db.Model):
    """A user's claim to live at one household of a community, and its verification."""

    __tablename__ = "residencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"))
    unit: Mapped[str] = mapped_column(String(20))
    room: Mapped[str] = mapped_column(String(20))
    household_key: Mapped[str] = mapped_column(String(80), index=True)
    status: Mapped[ResidencyStatus] = mapped_column(string_enum(ResidencyStatus), default=ResidencyStatus.pending,
                                                    index=True)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime)
    rejection_reason: Mapped[str | None] = mapped_column(String(300))
    moved_out_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship(back_populates="residencies", foreign_keys=[user_id])
    community: Mapped[Community] = relationship(lazy="joined")
    building: Mapped[Building] = relationship(lazy="joined")
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])

    @property
    def address(self) -> str:
        return f"{self.building.label} {self.unit}-{self.room}"

    def _require_status(self, *allowed: ResidencyStatus) -> None:
        if self.status not in allowed:
            raise DomainError(_l("This registration is %(status)s and cannot be changed this way.",
                                 status=self.status.label))

    def verify(self, by: User | None) -> None:
        """Mark as verified; by=None means matched automatically against the roll."""
        self._require_status(ResidencyStatus.pending, ResidencyStatus.rejected)
        self.status = ResidencyStatus.verified
        self.verified_by = by
        self.verified_at = utcnow()
        self.rejection_reason = None

    def reject(self, by: User, reason: str) -> None:
        self._require_status(ResidencyStatus.pending)
        self.status = ResidencyStatus.rejected
        self.verified_by = by
        self.verified_at = utcnow()
        self.rejection_reason = reason

    def move_out(self) -> None:
        self._require_status(ResidencyStatus.verified, ResidencyStatus.pending)
        self.status = ResidencyStatus.moved_out
        self.moved_out_at = utcnow()

    @staticmethod
    def select_for(community: Community, status: ResidencyStatus | None = None):
        query = select(Residency).where(Residency.community_id == community.id)
        if status is not None:
            query = query.where(Residency.status == status)
        return query


class Role(enum.StrEnum):
    council_member = "council_member"
    council_secretary = "council_secretary"
    party_branch = "party_branch"
    community_admin = "community_admin"
    org_rep = "org_rep"
    grid_worker = "grid_worker"

    @property
    def label(self):
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.council_member: _l("Council member"),
    Role.council_secretary: _l("Council secretary"),
    Role.party_branch: _l("Party branch"),
    Role.community_admin: _l("Community administrator"),
    Role.org_rep: _l("Organisation representative"),
    Role.grid_worker: _l("Grid worker"),
}


class RoleGrant(db.Model):
    """A role held by a user in one community; `org_rep` also names the organisation represented."""

    __tablename__ = "role_grants"
    __table_args__ = (
        UniqueConstraint("user_id", "community_id", "role"),
        # Only an organisation representative's grant names an organisation (services require it there).
        CheckConstraint("role = 'org_rep' OR organisation_id IS NULL", name="organisation_only_for_org_rep"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    role: Mapped[Role] = mapped_column(string_enum(Role))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    granted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)

    user: Mapped[User] = relationship(back_populates="role_grants", foreign_keys=[user_id])
    community: Mapped[Community] = relationship(lazy="joined")
    organisation: Mapped[Organisation | None] = relationship()
