"""Account operations: they flush but never commit, and raise DomainError on refusal."""

from __future__ import annotations

import functools
import re

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select
from sqlalchemy.orm import lazyload
from werkzeug.security import check_password_hash, generate_password_hash

from deliberation.auth.models import User
from deliberation.core import audit
from deliberation.core.errors import DomainError
from deliberation.core.text import normalise_phone
from deliberation.extensions import db

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
MIN_PASSWORD_LENGTH = 8
# Checked against when the login is unknown, so both failures take the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="pbkdf2:sha256:1000")


def validate_phone(phone: str) -> str:
    """Return the normalised mobile number or raise DomainError."""
    normalised = normalise_phone(phone)
    if not PHONE_RE.match(normalised):
        raise DomainError(_l("Enter an 11-digit mainland mobile number, for example 13812345678."), field="phone")
    return normalised


def validate_password(password: str, *, field: str = "password") -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise DomainError(_l("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH), field=field)


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def create_user(*, login: str, display_name: str, password: str, phone: str | None = None,
                locale: str | None = None, is_site_admin: bool = False, actor: User | None = None) -> User:
    """Create an account after checking that login and phone are free."""
    login = login.strip()
    display_name = display_name.strip()
    if not login:
        raise DomainError(_l("Enter a login name."), field="login")
    if not display_name:
        raise DomainError(_l("Enter a display name."), field="display_name")
    validate_password(password)
    if phone:
        phone = validate_phone(phone)
    if phone and db.session.scalar(select(User).where(User.phone == phone)) is not None:
        raise DomainError(_l("An account with this phone number already exists. Log in instead."), field="phone")
    if db.session.scalar(User.by_login(login)) is not None:
        raise DomainError(_l("This login name is already taken."), field="login")
    user = User(login=login, display_name=display_name, phone=phone or None, locale=locale,
                password_hash=hash_password(password), is_site_admin=is_site_admin)
    db.session.add(user)
    db.session.flush()
    audit.record("user.created", user, actor=actor or user,
                 summary=f"account {login}" + (" (site admin)" if is_site_admin else ""))
    return user


@functools.cache
def _user_by_id():
    # Built once: a constant statement reuses its compiled SQL, several times cheaper than session.get.
    return select(User).where(User.id == bindparam("user_id")).options(lazyload(User.residencies),
                                                                      lazyload(User.role_grants))


def session_user(user_id: int) -> User | None:
    """The user a request's session names, in one query: residencies and roles load when a
    permission first asks for them (most pages need neither)."""
    return db.session.execute(_user_by_id(), {"user_id": user_id}).scalar_one_or_none()


def authenticate(login: str, password: str) -> User | None:
    """The active user with this login or phone and password, or None (same cost either way)."""
    user = db.session.scalar(User.by_login(login))
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.active:
        return None
    return user


def change_password(user: User, *, current_password: str, new_password: str) -> None:
    """Replace the password; other sessions of this user end."""
    if not check_password_hash(user.password_hash, current_password or ""):
        raise DomainError(_l("The current password is not correct."), field="current_password")
    validate_password(new_password, field="new_password")
    user.password_hash = hash_password(new_password)
    user.auth_version = (user.auth_version or 1) + 1
    db.session.flush()
    audit.record("user.password_changed", user, actor=user)


def set_locale(user: User, locale: str) -> None:
    """Remember the interface language on the account."""
    if locale not in current_app.config["LANGUAGES"]:
        raise DomainError(_l("This language is not available."), status_code=400)
    if user.locale == locale:
        return
    user.locale = locale
    db.session.flush()
    audit.record("user.locale_changed", user, actor=user, summary=locale)
