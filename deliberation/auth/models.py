"""The User model."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from deliberation.core.models import TimestampMixin
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

    residencies: Mapped[list[Residency]] = relationship(
        back_populates="user", foreign_keys="Residency.user_id", lazy="selectin",
        order_by="Residency.id",
    )
    role_grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", foreign_keys="RoleGrant.user_id", lazy="selectin",
        order_by="RoleGrant.id",
    )

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
