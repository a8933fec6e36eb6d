"""Sessions (council meetings, open consultations, hearings), their agenda, attendance,
speaker queue, motions with named votes, and the minutes."""

from __future__ import annotations

import enum
import json
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from deliberation.auth.models import User
from deliberation.communities.models import Community
from deliberation.core.errors import DomainError
from deliberation.core.models import TimestampMixin, string_enum, utcnow
from deliberation.councils.models import Council
from deliberation.councils.rules import Outcome
from deliberation.extensions import db
from deliberation.proposals.models import Proposal, Round

DEFAULT_SPEAKER_SECONDS = 180


class SessionKind(enum.StrEnum):
    council_meeting = "council_meeting"
    consultation = "consultation"
    hearing = "hearing"

    @property
    def label(self):
        return KIND_LABELS[self]


KIND_LABELS = {
    SessionKind.council_meeting: _l("Council meeting (议事会会议)"),
    SessionKind.consultation: _l("Open consultation (协商会)"),
    SessionKind.hearing: _l("Hearing (听证会)"),
}


class SessionStatus(enum.StrEnum):
    draft = "draft"
    noticed = "noticed"
    in_session = "in_session"
    adjourned = "adjourned"
    minutes_published = "minutes_published"
    cancelled = "cancelled"

    @property
    def label(self):
        return STATUS_LABELS[self]


STATUS_LABELS = {
    SessionStatus.draft: _l("Draft"),
    SessionStatus.noticed: _l("Noticed"),
    SessionStatus.in_session: _l("In session"),
    SessionStatus.adjourned: _l("Adjourned"),
    SessionStatus.minutes_published: _l("Minutes published"),
    SessionStatus.cancelled: _l("Cancelled"),
}


class MotionStatus(enum.StrEnum):
    open = "open"
    closed = "closed"


class VoteChoice(enum.StrEnum):
    yes = "yes"
    no = "no"
    abstain = "abstain"

    @property
    def label(self):
        return CHOICE_LABELS[self]


CHOICE_LABELS = {VoteChoice.yes: _l("Yes"), VoteChoice.no: _l("No"), VoteChoice.abstain: _l("Abstain")}


class CountMethod(enum.StrEnum):
    phones = "phones"  # members vote on their own phones; the secretary enters only those present without one
    roll_call = "roll_call"  # the secretary calls each member's name and enters every answer
    show_of_hands = "show_of_hands"  # the secretary enters the counts only


OUTCOME_LABELS = {
    Outcome.passed: _l("Passed"),
    Outcome.failed: _l("Failed"),
    Outcome.no_quorum: _l("No quorum"),
}


class ConsultationSession(TimestampMixin, db.Model):
    __tablename__ = "consultation_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    council_id: Mapped[int | None] = mapped_column(ForeignKey("councils.id"), index=True)
    kind: Mapped[SessionKind] = mapped_column(string_enum(SessionKind), default=SessionKind.council_meeting)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    place: Mapped[str] = mapped_column(String(200))
    status: Mapped[SessionStatus] = mapped_column(string_enum(SessionStatus), default=SessionStatus.draft,
                                                  index=True)
    noticed_at: Mapped[datetime | None] = mapped_column(DateTime)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    adjourned_at: Mapped[datetime | None] = mapped_column(DateTime)
    minutes_published_at: Mapped[datetime | None] = mapped_column(DateTime)
    urgent_reason: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    minutes_summary: Mapped[str] = mapped_column(Text, default="")
    # A plain column, not a foreign key: items belong to the session, a cycle would complicate both.
    current_item_id: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Bumped by every change the room, the phones and the console show (services.bump_live_version):
    # the ETag of the live partials and the id of the events streamed to them.
    live_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    community: Mapped[Community] = relationship()
    council: Mapped[Council | None] = relationship()
    items: Mapped[list[AgendaItem]] = relationship(back_populates="session", order_by="AgendaItem.position",
                                                   cascade="all, delete-orphan",
                                                   foreign_keys="AgendaItem.session_id")

    @property
    def current_item(self) -> AgendaItem | None:
        return next((i for i in self.items if i.id == self.current_item_id), None)

    @property
    def is_council_meeting(self) -> bool:
        return self.kind == SessionKind.council_meeting

    @property
    def is_public(self) -> bool:
        """Noticed once: a draft, or a draft cancelled before its notice, stays the secretary's."""
        return self.noticed_at is not None

    @property
    def earliest_start(self) -> datetime | None:
        """A council meeting may start once the notice period has run since the notice."""
        if self.noticed_at is None:
            return None
        days = self.council.notice_days if self.council is not None and self.is_council_meeting else 0
        return self.noticed_at + timedelta(days=days)

    def _require(self, *allowed: SessionStatus) -> None:
        if self.status not in allowed:
            raise DomainError(_l("This session is %(status)s; that cannot be done now.", status=self.status.label))

    def notice(self) -> None:
        self._require(SessionStatus.draft)
        self.status = SessionStatus.noticed
        self.noticed_at = utcnow()

    def start(self, *, urgent_reason: str | None = None, now: datetime | None = None) -> None:
        self._require(SessionStatus.noticed)
        now = now or utcnow()
        if self.is_council_meeting and now < self.earliest_start and not urgent_reason:
            raise DomainError(_l("The notice period has not passed yet. Record why the meeting is urgent to "
                                 "start it now."), field="urgent_reason", status_code=422)
        self.urgent_reason = urgent_reason or None
        self.status = SessionStatus.in_session
        self.started_at = now

    def cancel(self, *, reason: str) -> None:
        """Call the session off before it starts (the reason is public)."""
        self._require(SessionStatus.draft, SessionStatus.noticed)
        self.status = SessionStatus.cancelled
        self.cancelled_at = utcnow()
        self.cancel_reason = reason

    def adjourn(self) -> None:
        self._require(SessionStatus.in_session)
        self.status = SessionStatus.adjourned
        self.adjourned_at = utcnow()

    def publish_minutes(self) -> None:
        self._require(SessionStatus.adjourned)
        self.status = SessionStatus.minutes_published
        self.minutes_published_at = utcnow()


class AgendaItem(db.Model):
    __tablename__ = "agenda_items"
    __table_args__ = (CheckConstraint("minutes_allotted >= 0", name="allotment_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("consultation_sessions.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id"))
    minutes_allotted: Mapped[int] = mapped_column(Integer, default=15)
    minutes_text: Mapped[str] = mapped_column(Text, default="")

    session: Mapped[ConsultationSession] = relationship(back_populates="items", foreign_keys=[session_id])
    proposal: Mapped[Proposal | None] = relationship()
    round: Mapped[Round | None] = relationship()
    motions: Mapped[list[Motion]] = relationship(back_populates="item", order_by="Motion.id")


class Attendance(db.Model):
    __tablename__ = "attendances"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("consultation_sessions.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    signed_in_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # the secretary ticked them
    # Ticked by the secretary as present without a phone: the secretary may then enter their votes.
    without_phone: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")


class SpeakerSlot(db.Model):
    __tablename__ = "speaker_slots"
    __table_args__ = (CheckConstraint("seconds_allowed > 0", name="speaker_seconds_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("consultation_sessions.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_items.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    requested_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    seconds_allowed: Mapped[int] = mapped_column(Integer, default=DEFAULT_SPEAKER_SECONDS)

    user: Mapped[User] = relationship(lazy="joined")
    item: Mapped[AgendaItem | None] = relationship()

    @property
    def waiting(self) -> bool:
        return self.started_at is None and self.ended_at is None

    @property
    def speaking(self) -> bool:
        return self.started_at is not None and self.ended_at is None

    def remaining_seconds(self, now: datetime | None = None) -> int:
        """Computed from the stored start, so every poll and every device shows the same time."""
        if self.started_at is None:
            return self.seconds_allowed
        end = self.ended_at or now or utcnow()
        return max(0, self.seconds_allowed - int((end - self.started_at).total_seconds()))


class Motion(TimestampMixin, db.Model):
    __tablename__ = "motions"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("consultation_sessions.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id"))
    funded_json: Mapped[str | None] = mapped_column(Text)  # proposal ids a resolution motion funds
    advisory: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[MotionStatus] = mapped_column(string_enum(MotionStatus), default=MotionStatus.open)
    method: Mapped[CountMethod] = mapped_column(string_enum(CountMethod), default=CountMethod.phones)
    opened_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Recorded at closing: the counts, who could vote, and the outcome.
    yes_count: Mapped[int | None] = mapped_column(Integer)
    no_count: Mapped[int | None] = mapped_column(Integer)
    abstain_count: Mapped[int | None] = mapped_column(Integer)
    present_count: Mapped[int | None] = mapped_column(Integer)
    members_count: Mapped[int | None] = mapped_column(Integer)
    quorum_required: Mapped[int | None] = mapped_column(Integer)
    yes_required: Mapped[int | None] = mapped_column(Integer)
    basis_count: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[Outcome | None] = mapped_column(string_enum(Outcome))

    session: Mapped[ConsultationSession] = relationship()
    item: Mapped[AgendaItem] = relationship(back_populates="motions")
    round: Mapped[Round | None] = relationship()
    votes: Mapped[list[MotionVote]] = relationship(back_populates="motion", order_by="MotionVote.id")

    @property
    def funded_ids(self) -> list[int]:
        return json.loads(self.funded_json) if self.funded_json else []

    @funded_ids.setter
    def funded_ids(self, ids) -> None:
        self.funded_json = json.dumps(sorted({int(i) for i in ids}))

    @property
    def is_open(self) -> bool:
        return self.status == MotionStatus.open

    @property
    def outcome_label(self):
        return OUTCOME_LABELS[self.outcome] if self.outcome else ""


class MotionVote(db.Model):
    """A named vote: one per member and motion, enforced by the database."""

    __tablename__ = "motion_votes"
    __table_args__ = (UniqueConstraint("motion_id", "user_id", name="one_vote_per_member"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    motion_id: Mapped[int] = mapped_column(ForeignKey("motions.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    choice: Mapped[VoteChoice] = mapped_column(string_enum(VoteChoice))
    cast_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # roll call by the secretary

    motion: Mapped[Motion] = relationship(back_populates="votes")
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")

    @property
    def entered_by_secretary(self) -> bool:
        return self.recorded_by_id is not None and self.recorded_by_id != self.user_id


class MinutesCorrection(TimestampMixin, db.Model):
    """After publication the minutes change only through an audited correction with a reason."""

    __tablename__ = "minutes_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("consultation_sessions.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_items.id"))
    old_text: Mapped[str] = mapped_column(Text)
    new_text: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    item: Mapped[AgendaItem | None] = relationship()
    actor: Mapped[User | None] = relationship()
