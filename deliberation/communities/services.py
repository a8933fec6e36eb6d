"""Community operations: they flush but never commit, and raise DomainError on refusal."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select
from sqlalchemy.orm import contains_eager

from deliberation.auth import phone_codes
from deliberation.auth import services as auth_services
from deliberation.auth.models import PhoneChallenge, PhonePurpose, User
from deliberation.auth.phone_codes import PhoneMessage
from deliberation.communities.models import (
    Building,
    Community,
    Estate,
    Residency,
    ResidencyStatus,
    Role,
    RoleGrant,
    RollEntry,
    household_key,
)
from deliberation.communities.roll import RollProblem, RollRow, parse_roll
from deliberation.core import audit
from deliberation.core.errors import DomainError
from deliberation.core.models import utcnow
from deliberation.core.text import clean, normalise_phone, normalise_room, normalise_unit
from deliberation.extensions import db
from deliberation.notifications import events as notification_events

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,58}[a-z0-9]$")
MAX_REASON = 300


def _required(value: str, field_name: str, message, *, max_length: int) -> str:
    value = clean(value)
    if not value:
        raise DomainError(message, field=field_name, status_code=422)
    if len(value) > max_length:
        raise DomainError(_l("At most %(n)d characters.", n=max_length), field=field_name, status_code=422)
    return value


# --- communities, estates, buildings -------------------------------------------------

def create_community(*, slug: str, name: str, district: str, street: str, actor: User) -> Community:
    """Create a community; the slug is its address in URLs."""
    slug = clean(slug).lower()
    if not SLUG_RE.match(slug):
        raise DomainError(_l("Use 3–60 lowercase letters, digits and dashes, for example taoyuan."),
                          field="slug", status_code=422)
    if db.session.scalar(select(Community).where(Community.slug == slug)) is not None:
        raise DomainError(_l("Another community already uses this address."), field="slug")
    community = Community(
        slug=slug,
        name=_required(name, "name", _l("Enter the community's name."), max_length=100),
        district=_required(district, "district", _l("Enter the district."), max_length=50),
        street=_required(street, "street", _l("Enter the street (subdistrict)."), max_length=50),
    )
    db.session.add(community)
    db.session.flush()
    audit.record("community.created", community, actor=actor, community=community,
                 summary=f"{community.full_name} ({slug})")
    return community


def add_estate(community: Community, *, name: str, actor: User) -> Estate:
    name = _required(name, "name", _l("Enter the estate's name."), max_length=100)
    exists = select(Estate).where(Estate.community_id == community.id, Estate.name == name)
    if db.session.scalar(exists) is not None:
        raise DomainError(_l("This community already has an estate with this name."), field="name")
    estate = Estate(community=community, name=name)
    db.session.add(estate)
    db.session.flush()
    audit.record("estate.created", estate, actor=actor, community=community, summary=name)
    return estate


def add_building(estate: Estate, *, name: str, actor: User) -> Building:
    name = _required(name, "name", _l("Enter the building's name."), max_length=60)
    exists = select(Building).where(Building.community_id == estate.community_id, Building.name == name)
    if db.session.scalar(exists) is not None:
        raise DomainError(_l("Building names must be unique in the community so that the roll can name them."),
                          field="name")
    building = Building(estate=estate, community_id=estate.community_id, name=name)
    db.session.add(building)
    db.session.flush()
    audit.record("building.created", building, actor=actor, community=estate.community,
                 summary=f"{estate.name} {name}")
    return building


def buildings_of(community: Community) -> list[Building]:
    return list(db.session.scalars(
        select(Building).join(Estate).options(contains_eager(Building.estate))
        .where(Building.community_id == community.id).order_by(Estate.name, Building.name)
    ))


# --- residency ------------------------------------------------------------------------

def _household_address(community: Community, building: Building, unit: str, room: str) -> tuple[str, str]:
    """The normalised unit and room, or DomainError."""
    if building.community_id != community.id:
        raise DomainError(_l("Choose a building of this community."), field="building", status_code=422)
    unit = normalise_unit(unit)
    room = normalise_room(room)
    if not unit:
        raise DomainError(_l("Enter the unit, for example 1."), field="unit", status_code=422)
    if not room:
        raise DomainError(_l("Enter the room, for example 301."), field="room", status_code=422)
    if len(unit) > 20 or len(room) > 20:
        raise DomainError(_l("Unit and room have at most 20 characters."), field="room", status_code=422)
    return unit, room


def register_residency(user: User, community: Community, *, building: Building, unit: str, room: str) -> Residency:
    """Claim a household. It is verified at once when the user's phone is proven by a one-time code
    and the roll lists that phone at this household; otherwise it waits in the office's queue
    (knowing a neighbour's phone number and address is not proof of owning that phone)."""
    unit, room = _household_address(community, building, unit, room)
    for existing in user.residencies:
        if existing.community_id == community.id and existing.status in (ResidencyStatus.pending,
                                                                         ResidencyStatus.verified):
            raise DomainError(_l("You already have a registration in this community."))
    key = household_key(building.id, unit, room)
    residency = Residency(user=user, community=community, building=building, unit=unit, room=room,
                          household_key=key)
    db.session.add(residency)
    db.session.flush()
    audit.record("residency.registered", residency, actor=user, community=community,
                 summary=f"{user.login} at {building.name} {unit}-{room}")
    _verify_if_proven_roll_match(residency)
    return residency


def _verify_if_proven_roll_match(residency: Residency) -> bool:
    """Verify a waiting registration whose proven phone the roll lists at its household."""
    user = residency.user
    if residency.status != ResidencyStatus.pending or not user.phone_proven:
        return False
    if residency.id not in roll_matches([residency]):
        return False
    residency.verify(None)
    db.session.flush()
    audit.record("residency.verified", residency, actor=None, community=residency.community,
                 summary=f"{user.login} matched the roll with a proven phone")
    return True


def verify_proven_roll_matches(user: User) -> list[Residency]:
    """After the user proved their phone: verify their waiting registrations the roll lists with it."""
    return [r for r in list(user.residencies) if _verify_if_proven_roll_match(r)]


def _registration_checks(community: Community, *, phone: str, display_name: str, password: str,
                         building: Building, unit: str, room: str) -> tuple[str, str, str]:
    phone = auth_services.validate_phone(phone)
    unit, room = _household_address(community, building, unit, room)
    if not clean(display_name):
        raise DomainError(_l("Enter a display name."), field="display_name")
    auth_services.validate_password(password)
    return phone, unit, room


def start_resident_registration(community: Community, *, phone: str, display_name: str, password: str,
                                building: Building, unit: str, room: str, locale: str | None = None,
                                ) -> tuple[PhoneChallenge, PhoneMessage]:
    """Check a new resident's registration and send a one-time code to the phone; the account and
    the household are created only when the code comes back (`complete_resident_registration`).

    If the phone already has an account, nothing is created: its holder gets an SMS saying someone
    tried (no code) and sees it on their page, and the caller answers exactly as for a free number
    (so nobody learns which numbers have accounts). Every input is checked first, the same way."""
    phone, unit, room = _registration_checks(community, phone=phone, display_name=display_name,
                                             password=password, building=building, unit=unit, room=room)
    holder = auth_services.account_for_phone(phone)
    if holder is not None:
        auth_services.note_phone_claim(holder, community_name=community.name)
        return phone_codes.start_challenge(PhonePurpose.register, phone, holder=holder)
    registration = {"community_id": community.id, "building_id": building.id, "unit": unit, "room": room,
                    "display_name": clean(display_name), "password_hash": auth_services.hash_password(password),
                    "locale": locale}
    return phone_codes.start_challenge(PhonePurpose.register, phone, registration=registration)


def complete_resident_registration(challenge: PhoneChallenge) -> Residency:
    """The account and household of a registration whose code was just accepted; the phone is proven,
    so a roll match verifies the household at once."""
    data = challenge.registration or {}
    challenge.registration = None  # the password hash is kept no longer than needed
    db.session.flush()
    if challenge.purpose != PhonePurpose.register or challenge.used_at is None or not data:
        raise DomainError(_l("This code was not sent for a registration."), status_code=403)
    if auth_services.account_for_phone(challenge.phone) is not None:
        # Only the phone's owner gets here (they typed its code): telling them is safe.
        raise DomainError(_l("This number already has an account. Log in instead."), field="code")
    community = db.session.get(Community, data["community_id"])
    building = db.session.get(Building, data["building_id"])
    if community is None or building is None:
        raise DomainError(_l("Choose a building of this community."), status_code=409)
    user = auth_services.create_user(login=challenge.phone, phone=challenge.phone, display_name=data["display_name"],
                                     password_hash=data["password_hash"], locale=data.get("locale"))
    user.phone_verified_at = challenge.used_at
    db.session.flush()
    return register_residency(user, community, building=building, unit=data["unit"], room=data["room"])


def roll_matches(residencies: list[Residency]) -> dict[int, RollEntry]:
    """For each residency whose household lists the user's phone on the roll, that roll entry (one query)."""
    if not residencies:
        return {}
    rows = db.session.execute(
        select(Residency.id, RollEntry).join(User, Residency.user_id == User.id).join(
            RollEntry,
            (RollEntry.community_id == Residency.community_id)
            & (RollEntry.household_key == Residency.household_key)
            & (RollEntry.phone == User.phone),
        ).where(Residency.id.in_([r.id for r in residencies]))
    ).tuples()
    return {residency_id: entry for residency_id, entry in rows}


def verify_residency(residency: Residency, *, actor: User) -> None:
    residency.verify(actor)
    db.session.flush()
    audit.record("residency.verified", residency, actor=actor, community=residency.community,
                 summary=f"{residency.user.login} verified by {actor.login}")
    notification_events.residency_decided(residency)


def reject_residency(residency: Residency, *, actor: User, reason: str) -> None:
    reason = _required(reason, "reason", _l("Give the resident a reason."), max_length=MAX_REASON)
    residency.reject(actor, reason)
    db.session.flush()
    audit.record("residency.rejected", residency, actor=actor, community=residency.community, summary=reason)
    notification_events.residency_decided(residency)


def mark_moved_out(residency: Residency, *, actor: User) -> None:
    residency.move_out()
    db.session.flush()
    audit.record("residency.moved_out", residency, actor=actor, community=residency.community,
                 summary=residency.user.login)


# --- the residents' roll --------------------------------------------------------------

@dataclass
class RollImportReport:
    imported: list[RollRow] = field(default_factory=list)
    unchanged: list[RollRow] = field(default_factory=list)
    rejected: list[RollProblem] = field(default_factory=list)
    matching_registrations: int = 0  # waiting in the queue and listed by the roll


def import_roll(community: Community, *, data: bytes, actor: User) -> RollImportReport:
    """Add the CSV's valid rows to the roll in one go; report every other row with its reason."""
    parsed = parse_roll(data)
    report = RollImportReport(rejected=list(parsed.problems))
    buildings = {b.name: b for b in buildings_of(community)}
    existing = set(db.session.execute(
        select(RollEntry.household_key, RollEntry.phone).where(RollEntry.community_id == community.id)
    ).tuples())
    seen: dict[tuple[str, str], int] = {}
    new_entries: list[dict] = []
    now = utcnow()
    for row in parsed.rows:
        problem = _check_roll_row(row, buildings, seen)
        if problem is not None:
            report.rejected.append(RollProblem(row.line, _row_text(row), problem))
            continue
        building = buildings[row.building]
        key = household_key(building.id, row.unit, row.room)
        seen[(key, row.phone)] = row.line
        if (key, row.phone) in existing:
            report.unchanged.append(row)
            continue
        report.imported.append(row)
        new_entries.append(dict(community_id=community.id, building_id=building.id, unit=row.unit, room=row.room,
                                household_key=key, name=row.name, phone=row.phone, imported_at=now,
                                imported_by_id=actor.id))
    if new_entries:
        db.session.execute(insert(RollEntry), new_entries)
    report.rejected.sort(key=lambda p: p.line)
    report.matching_registrations = _count_pending_matches(community)
    audit.record("roll.imported", community, actor=actor, community=community,
                 summary=f"{len(report.imported)} imported, {len(report.unchanged)} unchanged, "
                         f"{len(report.rejected)} rejected, "
                         f"{report.matching_registrations} waiting registrations match")
    return report


def _row_text(row: RollRow) -> str:
    return ",".join([row.building, row.unit, row.room, row.name, row.phone])


def _check_roll_row(row: RollRow, buildings: dict[str, Building], seen: dict) -> object | None:
    """Normalise the row in place and return the reason it is rejected, or None."""
    row.building = clean(row.building)
    row.unit = normalise_unit(row.unit)
    row.room = normalise_room(row.room)
    row.name = clean(row.name)
    row.phone = normalise_phone(row.phone)
    if row.building not in buildings:
        return _l("Unknown building «%(name)s».", name=row.building)
    if not row.unit or len(row.unit) > 20:
        return _l("The unit is missing or too long.")
    if not row.room or len(row.room) > 20:
        return _l("The room is missing or too long.")
    if not row.name or len(row.name) > 50:
        return _l("The name is missing or too long.")
    if not auth_services.PHONE_RE.match(row.phone):
        return _l("«%(phone)s» is not an 11-digit mobile number.", phone=row.phone)
    key = household_key(buildings[row.building].id, row.unit, row.room)
    if (key, row.phone) in seen:
        return _l("Same person as line %(line)d.", line=seen[(key, row.phone)])
    return None


def _count_pending_matches(community: Community) -> int:
    """How many registrations in the queue the roll now lists (the office approves them)."""
    return db.session.scalar(
        select(db.func.count(db.func.distinct(Residency.id))).join(User, Residency.user_id == User.id).join(
            RollEntry,
            (RollEntry.community_id == Residency.community_id)
            & (RollEntry.household_key == Residency.household_key)
            & (RollEntry.phone == User.phone),
        ).where(Residency.community_id == community.id, Residency.status == ResidencyStatus.pending)
    ) or 0


# --- roles ----------------------------------------------------------------------------

def find_user(login_or_phone: str) -> User:
    user = db.session.scalar(User.by_login(login_or_phone)) if clean(login_or_phone) else None
    if user is None:
        raise DomainError(_l("No account has this login name or phone number."), field="user", status_code=422)
    return user


def grant_role(community: Community, *, user: User, role: Role, actor: User, organisation=None) -> RoleGrant:
    """Grant a role; an organisation representative (`org_rep`) names the organisation of this community."""
    if role == Role.org_rep:
        if organisation is None:
            raise DomainError(_l("Choose the organisation this representative speaks for."), field="organisation",
                              status_code=422)
        if organisation.community_id != community.id:
            raise DomainError(_l("Choose an organisation of this community."), field="organisation",
                              status_code=422)
    elif organisation is not None:
        raise DomainError(_l("Only an organisation representative is linked to an organisation."),
                          field="organisation", status_code=422)
    if any(g.community_id == community.id and g.role == role for g in user.role_grants):
        raise DomainError(_l("%(user)s already holds this role.", user=user.display_name), field="user")
    grant = RoleGrant(user=user, community=community, role=role, granted_by_id=actor.id,
                      organisation_id=organisation.id if organisation is not None else None)
    db.session.add(grant)
    db.session.flush()
    summary = f"{role.value} to {user.login}" + (f" for {organisation.name}" if organisation is not None else "")
    audit.record("role.granted", grant, actor=actor, community=community, summary=summary)
    return grant


def revoke_role(grant: RoleGrant, *, actor: User) -> None:
    community = grant.community
    if grant.role == Role.community_admin and grant.user_id == actor.id:
        others = db.session.scalar(select(db.func.count(RoleGrant.id)).where(
            RoleGrant.community_id == community.id, RoleGrant.role == Role.community_admin,
            RoleGrant.id != grant.id))
        if not others:
            raise DomainError(_l("You are the last administrator of this community; appoint another one first."))
    audit.record("role.revoked", grant, actor=actor, community=community,
                 summary=f"{grant.role.value} from {grant.user.login}")
    user = grant.user
    db.session.delete(grant)
    db.session.flush()
    # A session opened with the role must not outlive it (a copied cookie, a forgotten device).
    auth_services.end_all_sessions(user, actor=actor, reason=f"role {grant.role.value} revoked")


def appoint_community_admin(community: Community, *, login: str, display_name: str, password: str,
                            actor: User) -> User:
    """Grant community_admin to an existing account, or create the account first."""
    user = db.session.scalar(User.by_login(login)) if clean(login) else None
    if user is None:
        if not password:
            raise DomainError(_l("This account does not exist yet: give a display name and a first password."),
                              field="password", status_code=422)
        user = auth_services.create_user(login=login, display_name=display_name or login, password=password,
                                         actor=actor)
    grant_role(community, user=user, role=Role.community_admin, actor=actor)
    return user
