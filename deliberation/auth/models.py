"""The User model."""

from __future__ import annotations

import enum
import hmac
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from deliberation.core.models import TimestampMixin, string_enum, utcnow
from deliberation.core.text import clean, normalise_phone
from deliberation.extensions import db

if TYPE_CHECKING:
    from deliberation.communities.models import Residency, RoleGrant


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(10))
    is_site_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of every session and remember-me cookie (see get_id): a new value on logout, password
    # change or a revoked role ends every session of the user, on every device.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    # Registrations refused because they gave this account's phone: shown to the owner on their page.
    phone_claims: Mapped[int] = mapped_column(Integer, default=0)
    phone_claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # When the holder last proved the phone with a one-time SMS code (None: never proven, as for
    # accounts made before codes existed). Only a proven phone lets a roll match verify at once.
    phone_verified_at: Mapped[datetime | None] = mapped_column(DateTime)

    residencies: Mapped[list[Residency]] = relationship(
        back_populates="user", foreign_keys="Residency.user_id", lazy="selectin",
        order_by="Residency.id",
    )
    role_grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", foreign_keys="RoleGrant.user_id", lazy="selectin",
        order_by="RoleGrant.id",
    )

    @property
    def phone_proven(self) -> bool:
        return self.phone is not None and self.phone_verified_at is not None

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def end_all_sessions(self) -> None:
        """Make every session and remember-me cookie issued so far worthless."""
        self.session_token = new_session_token()

    def has_session_token(self, token: str) -> bool:
        return hmac.compare_digest(self.session_token or "", token)

    @staticmethod
    def by_login(login: str):
        """Query for the user with this login (case-insensitive) or phone."""
        return select(User).where(
            (db.func.lower(User.login) == clean(login).lower()) | (User.phone == normalise_phone(login))
        )

    def __repr__(self) -> str:
        return f"<User {self.login}>"


class PhonePurpose(enum.StrEnum):
    register = "register"
    change_phone = "change_phone"


class PhoneChallenge(db.Model):
    """A one-time code sent by SMS to prove a phone number, for one browser's registration or
    phone change (the browser holds `token`; a stranger's request for the same number is another
    challenge and cannot use up or replace this one's code).

    Only an HMAC of the code is kept (see auth/phone_codes.py). A number that already has an
    account (`holder_id`) gets a notice instead of a code, and its challenge holds a hash no code
    matches, so the person registering sees exactly the same pages either way."""

    __tablename__ = "phone_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[PhonePurpose] = mapped_column(string_enum(PhonePurpose))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    code_hash: Mapped[str] = mapped_column(String(80))
    sent_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    resend_at: Mapped[datetime] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sends: Mapped[int] = mapped_column(Integer, default=1)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    # A registration waiting for its code: community, building, unit, room, display name, password
    # hash, locale. The account is created only once the code is entered; cleared then.
    registration: Mapped[dict | None] = mapped_column(JSON)
