"""A community's council (议事会) for one term (届), its members and its decision rules."""

from __future__ import annotations

import enum
from datetime import date
from fractions import Fraction

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from deliberation.auth.models import User
from deliberation.communities.models import Community
from deliberation.core.models import TimestampMixin, string_enum
from deliberation.councils.rules import CouncilRules, PassBasis, Threshold, quorum_required
from deliberation.extensions import db


class SeatType(enum.StrEnum):
    party_committee = "party_committee"
    residents_committee = "residents_committee"
    deputy = "deputy"
    organisation = "organisation"
    elected_resident = "elected_resident"

    @property
    def label(self):
        return SEAT_LABELS[self]


SEAT_LABELS = {
    SeatType.party_committee: _l("Party committee (党委)"),
    SeatType.residents_committee: _l("Residents' committee (居委会)"),
    SeatType.deputy: _l("People's congress deputy (人大代表)"),
    SeatType.organisation: _l("Local organisation (驻区单位)"),
    SeatType.elected_resident: _l("Elected resident (居民代表)"),
}

PASS_BASIS_LABELS = {
    PassBasis.all_members: _l("all members"),
    PassBasis.present: _l("members present"),
}


class Council(TimestampMixin, db.Model):
    """One term of a community's council. The rules are stored as exact fractions."""

    __tablename__ = "councils"
    __table_args__ = (
        UniqueConstraint("community_id", "term_label"),
        CheckConstraint("quorum_den > 0 AND quorum_num >= 0 AND quorum_num <= quorum_den", name="quorum_fraction"),
        CheckConstraint("pass_den > 0 AND pass_num >= 0 AND pass_num <= pass_den", name="pass_fraction"),
        CheckConstraint("term_end >= term_start", name="term_order"),
        CheckConstraint("notice_days >= 0", name="notice_days_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    term_label: Mapped[str] = mapped_column(String(40))
    term_start: Mapped[date] = mapped_column(Date)
    term_end: Mapped[date] = mapped_column(Date)
    quorum_num: Mapped[int] = mapped_column(Integer, default=2)
    quorum_den: Mapped[int] = mapped_column(Integer, default=3)
    quorum_strict: Mapped[bool] = mapped_column(Boolean, default=True)
    pass_basis: Mapped[PassBasis] = mapped_column(string_enum(PassBasis), default=PassBasis.all_members)
    pass_num: Mapped[int] = mapped_column(Integer, default=1)
    pass_den: Mapped[int] = mapped_column(Integer, default=2)
    pass_strict: Mapped[bool] = mapped_column(Boolean, default=True)
    notice_days: Mapped[int] = mapped_column(Integer, default=3)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    community: Mapped[Community] = relationship()
    members: Mapped[list[CouncilMember]] = relationship(back_populates="council", cascade="all, delete-orphan",
                                                        order_by="CouncilMember.id")

    @property
    def rules(self) -> CouncilRules:
        return CouncilRules(
            quorum=Threshold(Fraction(self.quorum_num, self.quorum_den), strict=self.quorum_strict),
            pass_basis=self.pass_basis,
            pass_threshold=Threshold(Fraction(self.pass_num, self.pass_den), strict=self.pass_strict),
        )

    @property
    def quorum_count(self) -> int:
        """Members who must be present for the meeting to decide."""
        return quorum_required(self.rules, len(self.members))

    @property
    def pass_basis_label(self):
        return PASS_BASIS_LABELS[self.pass_basis]

    @property
    def member_ids(self) -> set[int]:
        return {m.user_id for m in self.members}

    def is_member(self, user) -> bool:
        return user is not None and getattr(user, "id", None) in self.member_ids

    def __repr__(self) -> str:
        return f"<Council {self.name} {self.term_label}>"


class CouncilMember(TimestampMixin, db.Model):
    __tablename__ = "council_members"
    __table_args__ = (UniqueConstraint("council_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    seat: Mapped[SeatType] = mapped_column(string_enum(SeatType), default=SeatType.elected_resident)

    council: Mapped[Council] = relationship(back_populates="members")
    user: Mapped[User] = relationship(lazy="joined")
