"""Grid tree, grid workers and Party groups, handling units: what the community office sets up."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from deliberation.auth.models import User
from deliberation.communities.models import Building, Community, Estate, Role, RoleGrant
from deliberation.core import audit
from deliberation.core.errors import DomainError
from deliberation.core.text import clean
from deliberation.extensions import db
from deliberation.grids.models import (
    DEFAULT_DEADLINE_HOURS,
    DeadlineClass,
    DeadlineSettings,
    Grid,
    GridBuilding,
    GridLevel,
    GridPartyMember,
    GridWorker,
    HandlingUnit,
    RequestStatus,
    ResidentRequest,
    UnitKind,
    UnitRepresentative,
)
from deliberation.grids.requests import tick  # noqa: F401  (the one import path the worker and the CLI use)

MAX_DEADLINE_HOURS = 24 * 90


def _refuse(message, field: str | None = None) -> DomainError:
    return DomainError(message, field=field, status_code=422)


# --- grid tree ----------------------------------------------------------------------------

def community_grid(community: Community) -> Grid | None:
    return db.session.scalar(select(Grid).where(Grid.community_id == community.id,
                                                Grid.level == GridLevel.community))


def grids_of(community: Community) -> list[Grid]:
    return list(db.session.scalars(select(Grid).where(Grid.community_id == community.id).order_by(Grid.name)))


def create_grid(community: Community, *, level: GridLevel, name: str, actor: User, parent: Grid | None = None,
                estate: Estate | None = None, description: str = "") -> Grid:
    """Add a grid: one community grid, area grids under it, micro-grids under an area, special grids
    under the community grid."""
    name = clean(name)
    if not name:
        raise _refuse(_l("This field is required."), "name")
    if db.session.scalar(select(Grid.id).where(Grid.community_id == community.id, Grid.name == name)):
        raise _refuse(_l("A grid of this community already has this name."), "name")
    if parent is not None and parent.community_id != community.id:
        raise _refuse(_l("Choose a grid of this community."), "parent")
    expected_parent = {GridLevel.community: None, GridLevel.area: GridLevel.community,
                       GridLevel.micro: GridLevel.area, GridLevel.special: GridLevel.community}[level]
    if level == GridLevel.community:
        if community_grid(community) is not None:
            raise _refuse(_l("The community grid exists already."), "level")
        parent = None
    elif parent is None or parent.level != expected_parent:
        raise _refuse(_l("A %(level)s belongs under a %(parent)s.", level=level.label,
                         parent=expected_parent.label), "parent")
    if estate is not None and (level != GridLevel.area or estate.community_id != community.id):
        raise _refuse(_l("Only an area grid covers an estate of this community."), "estate")
    grid = Grid(community=community, level=level, name=name, parent=parent, estate=estate,
                description=clean(description))
    db.session.add(grid)
    db.session.flush()
    audit.record("grid.created", grid, actor=actor, community=community, summary=f"{level.value} {name}")
    return grid


def micro_grid_of(building: Building) -> Grid | None:
    return db.session.scalar(select(Grid).join(GridBuilding, GridBuilding.grid_id == Grid.id)
                             .where(GridBuilding.building_id == building.id))


def set_buildings(grid: Grid, buildings: list[Building], *, actor: User) -> None:
    """The micro-grid holds exactly these buildings; a building already in another micro-grid is refused."""
    if grid.level != GridLevel.micro:
        raise _refuse(_l("Only a micro-grid holds buildings."), "buildings")
    wanted = {b.id: b for b in buildings}
    for building in buildings:
        if building.community_id != grid.community_id:
            raise _refuse(_l("Choose buildings of this community."), "buildings")
        area_estate = grid.parent.estate_id if grid.parent is not None else None
        if area_estate is not None and building.estate_id != area_estate:
            raise _refuse(_l("%(building)s is not in the estate of this area grid.", building=building.label),
                          "buildings")
    taken = db.session.execute(select(GridBuilding.building_id, Grid.name).join(Grid).where(
        GridBuilding.building_id.in_(wanted), GridBuilding.grid_id != grid.id)).first() if wanted else None
    if taken is not None:
        raise _refuse(_l("%(building)s is already in the micro-grid %(grid)s.",
                         building=wanted[taken.building_id].label, grid=taken.name), "buildings")
    db.session.execute(delete(GridBuilding).where(GridBuilding.grid_id == grid.id,
                                                  GridBuilding.building_id.not_in(wanted)))
    present = set(db.session.scalars(select(GridBuilding.building_id).where(GridBuilding.grid_id == grid.id)))
    db.session.add_all(GridBuilding(building_id=b_id, grid_id=grid.id) for b_id in wanted if b_id not in present)
    db.session.flush()
    db.session.expire(grid, ["buildings"])
    audit.record("grid.buildings_set", grid, actor=actor, community=grid.community,
                 summary=", ".join(sorted(b.label for b in buildings)))


def micro_grids_from_buildings(area: Grid, *, actor: User) -> list[Grid]:
    """One micro-grid per building of the area's estate that is in no micro-grid yet."""
    if area.level != GridLevel.area or area.estate is None:
        raise _refuse(_l("Only an area grid that covers an estate can cut micro-grids from its buildings."))
    assigned = select(GridBuilding.building_id)
    free = db.session.scalars(select(Building).where(Building.estate_id == area.estate_id,
                                                     Building.id.not_in(assigned)).order_by(Building.name)).all()
    if not free:
        raise _refuse(_l("Every building of this estate is already in a micro-grid."))
    made = []
    for building in free:
        name = building.label
        if db.session.scalar(select(Grid.id).where(Grid.community_id == area.community_id, Grid.name == name)):
            name = f"{name}（{building.id}）"
        grid = create_grid(area.community, level=GridLevel.micro, name=name, parent=area, actor=actor)
        set_buildings(grid, [building], actor=actor)
        made.append(grid)
    return made


def buildings_without_grid(community: Community) -> list[Building]:
    """Buildings in no micro-grid: their households have no first-responsible grid worker yet."""
    return list(db.session.scalars(select(Building).where(
        Building.community_id == community.id, Building.id.not_in(select(GridBuilding.building_id)))
        .order_by(Building.name)))


# --- grid workers and Party groups ---------------------------------------------------------

def assign_worker(grid: Grid, user: User, *, actor: User, contact_phone: str = "") -> GridWorker:
    """Make `user` a worker of `grid`; the first assignment grants the community's `grid_worker` role."""
    if db.session.scalar(select(GridWorker.id).where(GridWorker.grid_id == grid.id, GridWorker.user_id == user.id)):
        raise _refuse(_l("%(user)s is already a worker of this grid.", user=user.display_name), "user")
    worker = GridWorker(grid=grid, user=user, contact_phone=clean(contact_phone), assigned_by_id=actor.id)
    db.session.add(worker)
    if not _grant(user, grid.community_id):
        db.session.add(RoleGrant(user=user, community_id=grid.community_id, role=Role.grid_worker,
                                 granted_by_id=actor.id))
    db.session.flush()
    audit.record("grid.worker_assigned", worker, actor=actor, community=grid.community,
                 summary=f"{user.login} to {grid.name}")
    return worker


def _grant(user: User, community_id: int) -> RoleGrant | None:
    return db.session.scalar(select(RoleGrant).where(RoleGrant.user_id == user.id, RoleGrant.community_id ==
                                                     community_id, RoleGrant.role == Role.grid_worker))


def remove_worker(worker: GridWorker, *, actor: User) -> None:
    """Take a worker off a grid; off their last grid, the `grid_worker` role goes too."""
    grid, user = worker.grid, worker.user
    audit.record("grid.worker_removed", worker, actor=actor, community=grid.community,
                 summary=f"{user.login} from {grid.name}")
    db.session.delete(worker)
    db.session.flush()
    others = db.session.scalar(select(func.count(GridWorker.id)).join(Grid).where(
        GridWorker.user_id == user.id, Grid.community_id == grid.community_id))
    grant = _grant(user, grid.community_id)
    if not others and grant is not None:
        db.session.delete(grant)
        db.session.flush()
        db.session.expire(user, ["role_grants"])


def add_party_member(grid: Grid, user: User, *, actor: User, leader: bool = False) -> GridPartyMember:
    """Put a member of the community's Party branch into the grid's Party group."""
    if not db.session.scalar(select(RoleGrant.id).where(RoleGrant.user_id == user.id, RoleGrant.community_id ==
                                                        grid.community_id, RoleGrant.role == Role.party_branch)):
        raise _refuse(_l("%(user)s is not a member of the community's Party branch.", user=user.display_name),
                      "user")
    if db.session.get(GridPartyMember, (grid.id, user.id)) is not None:
        raise _refuse(_l("%(user)s is already in this grid's Party group.", user=user.display_name), "user")
    member = GridPartyMember(grid=grid, user=user, is_leader=leader)
    db.session.add(member)
    db.session.flush()
    audit.record("grid.party_member_added", grid, actor=actor, community=grid.community,
                 summary=f"{user.login}{' (leader)' if leader else ''}")
    return member


def remove_party_member(member: GridPartyMember, *, actor: User) -> None:
    grid = member.grid
    audit.record("grid.party_member_removed", grid, actor=actor, community=grid.community, summary=member.user.login)
    db.session.delete(member)
    db.session.flush()


# --- handling units --------------------------------------------------------------------------

def units_of(community: Community) -> list[HandlingUnit]:
    return list(db.session.scalars(select(HandlingUnit).where(HandlingUnit.community_id == community.id)
                                   .order_by(HandlingUnit.kind, HandlingUnit.name)))


def create_unit(community: Community, *, kind: UnitKind, actor: User, name: str = "", organisation=None,
                contact_phone: str = "") -> HandlingUnit:
    """List a unit requests can be whistled to; a firm or committee is the registered organisation."""
    name = clean(name)
    if kind in (UnitKind.property_firm, UnitKind.owner_committee):
        if organisation is None or organisation.community_id != community.id or organisation.kind.value != kind.value:
            raise _refuse(_l("Choose the registered organisation of this kind."), "organisation")
        if db.session.scalar(select(HandlingUnit.id).where(HandlingUnit.organisation_id == organisation.id)):
            raise _refuse(_l("This organisation is already listed as a unit."), "organisation")
        name = name or organisation.name
    elif organisation is not None:
        raise _refuse(_l("Only a property firm or an owner committee is a registered organisation."),
                      "organisation")
    if not name:
        raise _refuse(_l("This field is required."), "name")
    if db.session.scalar(select(HandlingUnit.id).where(HandlingUnit.community_id == community.id,
                                                       HandlingUnit.name == name)):
        raise _refuse(_l("A unit of this community already has this name."), "name")
    unit = HandlingUnit(community=community, kind=kind, name=name, organisation=organisation,
                        contact_phone=clean(contact_phone))
    db.session.add(unit)
    db.session.flush()
    audit.record("unit.created", unit, actor=actor, community=community, summary=f"{kind.value} {name}")
    return unit


def open_requests_with(unit: HandlingUnit) -> int:
    """How many open requests are with the unit now."""
    return db.session.scalar(select(func.count()).select_from(ResidentRequest).where(
        ResidentRequest.handling_unit_id == unit.id,
        ResidentRequest.status.in_([s for s in RequestStatus if s.is_open]))) or 0


def set_unit_active(unit: HandlingUnit, active: bool, *, actor: User) -> None:
    """Deactivate a unit (no longer offered for whistling) or list it again. Its requests, timeline and
    rates stay; the requests already with it stay with it until a grid worker whistles them elsewhere."""
    if unit.active == active:
        raise DomainError(_l("The unit is already active.") if active else _l("The unit is already inactive."),
                          status_code=409)
    unit.active = active
    db.session.flush()
    audit.record("unit.reactivated" if active else "unit.deactivated", unit, actor=actor, community=unit.community,
                 summary=unit.name)


def add_representative(unit: HandlingUnit, user: User, *, actor: User) -> UnitRepresentative:
    """The unit reports (报到): this person signs for and answers its requests."""
    if db.session.get(UnitRepresentative, (unit.id, user.id)) is not None:
        raise _refuse(_l("%(user)s already represents this unit.", user=user.display_name), "user")
    rep = UnitRepresentative(unit=unit, user=user, added_by_id=actor.id)
    db.session.add(rep)
    db.session.flush()
    audit.record("unit.representative_added", unit, actor=actor, community=unit.community, summary=user.login)
    return rep


def remove_representative(rep: UnitRepresentative, *, actor: User) -> None:
    unit = rep.unit
    audit.record("unit.representative_removed", unit, actor=actor, community=unit.community,
                 summary=rep.user.login)
    db.session.delete(rep)
    db.session.flush()


# --- deadlines ------------------------------------------------------------------------------

def deadline_settings(community: Community) -> DeadlineSettings:
    """The community's deadlines (the defaults when the office never changed them; not added to the session)."""
    return db.session.get(DeadlineSettings, community.id) or DeadlineSettings(
        community_id=community.id, **{f"{c.value}_hours": h for c, h in DEFAULT_DEADLINE_HOURS.items()})


def update_deadlines(community: Community, hours: dict[DeadlineClass, int], *, actor: User) -> DeadlineSettings:
    """Change the deadline of each class (in hours) for requests filed from now on."""
    for deadline_class, value in hours.items():
        if not 1 <= value <= MAX_DEADLINE_HOURS:
            raise _refuse(_l("A deadline is between 1 hour and %(days)d days.", days=MAX_DEADLINE_HOURS // 24),
                          f"{deadline_class.value}_hours")
    settings = db.session.get(DeadlineSettings, community.id)
    if settings is None:
        settings = deadline_settings(community)
        db.session.add(settings)
    for deadline_class, value in hours.items():
        setattr(settings, f"{deadline_class.value}_hours", value)
    db.session.flush()
    audit.record("requests.deadlines_set", audit.Ref("DeadlineSettings", community.id), actor=actor,
                 community=community,
                 summary=", ".join(f"{c.value}={h}h" for c, h in hours.items()))
    return settings
