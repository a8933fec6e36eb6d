"""Account operations: they flush but never commit, and raise DomainError on refusal."""

from __future__ import annotations

import functools
import re
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select
from sqlalchemy.orm import lazyload
from werkzeug.security import check_password_hash, generate_password_hash

from deliberation.auth.models import User
from deliberation.core import audit
from deliberation.core.errors import DomainError
from deliberation.core.models import utcnow
from deliberation.core.text import clean, clean_name, normalise_phone
from deliberation.extensions import db

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
MIN_PASSWORD_LENGTH = 8


@functools.cache
def _dummy_hash(method: str) -> str:
    """A hash made with the configured method, checked when the login is unknown so that an unknown
    login and a wrong password cost the same time (a cheaper dummy would tell which logins exist)."""
    return generate_password_hash(secrets.token_hex(16), method=method)


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


def create_user(*, login: str, display_name: str, password: str | None = None, phone: str | None = None,
                locale: str | None = None, is_site_admin: bool = False, actor: User | None = None,
                password_hash: str | None = None) -> User:
    """Create an account after checking that login and phone are free (`password_hash`: a password
    checked and hashed earlier, as for a registration waiting for its SMS code)."""
    # Logins are looked up cleaned (User.by_login); names keep only what shows (no bidi override or
    # zero-width character to look like someone else).
    login = clean(login)
    display_name = clean_name(display_name)
    if not login:
        raise DomainError(_l("Enter a login name."), field="login")
    if not display_name:
        raise DomainError(_l("Enter a display name."), field="display_name")
    if password_hash is None:
        validate_password(password)
        password_hash = hash_password(password)
    if phone:
        phone = validate_phone(phone)
    if phone and db.session.scalar(select(User).where(User.phone == phone)) is not None:
        raise DomainError(_l("An account with this phone number already exists. Log in instead."), field="phone")
    if db.session.scalar(User.by_login(login)) is not None:
        raise DomainError(_l("This login name is already taken."), field="login")
    user = User(login=login, display_name=display_name, phone=phone or None, locale=locale,
                password_hash=password_hash, is_site_admin=is_site_admin)
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
        check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.active:
        return None
    return user


def check_current_password(user: User, password: str | None, *, field: str = "current_password") -> None:
    """Refuse unless `password` is the user's: account changes are made by the owner, not by whoever finds
    the browser logged in."""
    if not check_password_hash(user.password_hash, password or ""):
        raise DomainError(_l("The current password is not correct."), field=field)


def change_password(user: User, *, current_password: str, new_password: str) -> None:
    """Replace the password; other sessions of this user end."""
    check_current_password(user, current_password)
    validate_password(new_password, field="new_password")
    user.password_hash = hash_password(new_password)
    user.end_all_sessions()
    db.session.flush()
    audit.record("user.password_changed", user, actor=user, summary="every session ended")


def end_all_sessions(user: User, *, actor: User | None, reason: str) -> None:
    """Log the user out on every device: sessions and remember-me cookies issued so far stop working."""
    user.end_all_sessions()
    db.session.flush()
    audit.record("user.sessions_ended", user, actor=actor, summary=reason)


def account_for_phone(phone: str) -> User | None:
    """The account that holds this phone number, as a phone or as a login name."""
    return db.session.scalar(select(User).where(User.phone == phone)) or db.session.scalar(User.by_login(phone))


def note_phone_claim(owner: User, *, community_name: str) -> None:
    """Someone tried to register a new account with the owner's phone: nothing changes for them,
    the owner sees it on their own page (the person registering is told nothing either way)."""
    hash_password(secrets.token_hex(8))  # what creating the account would have cost: same timing
    owner.phone_claims = (owner.phone_claims or 0) + 1
    owner.phone_claimed_at = utcnow()
    db.session.flush()
    audit.record("user.phone_claimed", owner, actor=None,
                 summary=f"a new registration in {community_name} gave this account's phone number; refused")


PHONE_CLAIM_NOTICE_DAYS = 90


def recent_phone_claim(user: User):
    """When someone last tried to register with the user's phone, if within the notice period."""
    claimed = user.phone_claimed_at
    if claimed is None or utcnow() - claimed > timedelta(days=PHONE_CLAIM_NOTICE_DAYS):
        return None
    return claimed


def set_locale(user: User, locale: str) -> None:
    """Remember the interface language on the account."""
    if locale not in current_app.config["LANGUAGES"]:
        raise DomainError(_l("This language is not available."), status_code=400)
    if user.locale == locale:
        return
    user.locale = locale
    db.session.flush()
    audit.record("user.locale_changed", user, actor=user, summary=locale)
