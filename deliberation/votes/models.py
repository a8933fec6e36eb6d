"""Ballots. Who voted (BallotParticipation) and what was chosen (Ballot) share nothing.

No foreign key, id, order or fine timestamp links a participation to its ballot: while voting is
open a web ballot is only a sealed row (`core.secrecy`: encrypted, fixed length, random id, no
time); at closing the round's ballots are opened into this table in receipt-hash order, with
random ids and no time, so that even their physical order says nothing. Participations carry
only the day.
"""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from deliberation.auth.models import User
from deliberation.core.models import string_enum, utcnow
from deliberation.extensions import db
from deliberation.proposals.models import CountingRule


class Channel(enum.StrEnum):
    web = "web"
    paper = "paper"

    @property
    def label(self):
        return _l("on paper") if self is Channel.paper else _l("online")


class BallotParticipation(db.Model):
    """That a voter (or household) has voted in a round, on which channel and day."""

    __tablename__ = "ballot_participations"
    __table_args__ = (UniqueConstraint("round_id", "eligibility_key"), UniqueConstraint("round_id", "user_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own: both unique keys begin with it, and every ballot would write a third one.
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The household key in per-household rounds, "person:<user id>" otherwise: one vote per key.
    eligibility_key: Mapped[str] = mapped_column(String(80))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"))
    channel: Mapped[Channel] = mapped_column(string_enum(Channel))
    voted_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])


def _random_id() -> str:
    return secrets.token_hex(16)


class Ballot(db.Model):
    """What one ballot chose, findable by its receipt hash; nothing says whose it is. Web ballots
    arrive here when voting closes (sealed until then); counted paper sheets as they are keyed."""

    __tablename__ = "ballots"
    # SQLite: store rows by the random key, not by an insertion-ordered hidden rowid.
    __table_args__ = {"sqlite_with_rowid": False}

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_random_id)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    receipt_hash: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[Channel] = mapped_column(string_enum(Channel))
    choices: Mapped[list] = mapped_column(JSON)


class PaperEntry(db.Model):
    """One operator's keying of one paper ballot sheet; two matching keyings make a ballot."""

    __tablename__ = "paper_entries"
    __table_args__ = (UniqueConstraint("round_id", "sheet", "operator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    sheet: Mapped[str] = mapped_column(String(30))
    operator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    choices: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    operator: Mapped[User] = relationship()


class RoundResult(db.Model):
    """The count of a round's ballots, with the rule's explanation and any public override."""

    __tablename__ = "round_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), unique=True)
    rule: Mapped[CountingRule] = mapped_column(string_enum(CountingRule))
    computed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    ballots_counted: Mapped[int] = mapped_column(Integer)
    approvals: Mapped[dict] = mapped_column(JSON)
    winners: Mapped[list] = mapped_column(JSON)
    steps: Mapped[list] = mapped_column(JSON)
    details: Mapped[dict] = mapped_column(JSON)
    override_winners: Mapped[list | None] = mapped_column(JSON)
    override_reason: Mapped[str | None] = mapped_column(Text)
    overridden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    overridden_at: Mapped[datetime | None] = mapped_column(DateTime)

    overridden_by: Mapped[User | None] = relationship()

    @property
    def final_winners(self) -> list[int]:
        """Proposal ids the result funds: the override if there is one, else the computed winners."""
        return list(self.override_winners if self.override_winners is not None else self.winners)
