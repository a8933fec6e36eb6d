"""The community office draws the grid tree, assigns workers and Party groups, lists units, sets deadlines."""

from __future__ import annotations

from flask import flash, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import SelectChoice

from deliberation.communities.loaders import get_community
from deliberation.communities.models import Building, Community, Estate
from deliberation.communities.services import find_user
from deliberation.core import permissions as perm
from deliberation.core.confirm import confirmation_page, is_confirmed
from deliberation.core.errors import DomainError
from deliberation.core.forms import fail_form
from deliberation.core.htmx import redirect_to, render_page
from deliberation.core.permissions import require
from deliberation.evaluations.models import Organisation
from deliberation.extensions import db
from deliberation.grids import confirmations, queries, services
from deliberation.grids.forms import BuildingsForm, DeadlinesForm, GridForm, PersonForm, UnitForm
from deliberation.grids.loaders import get_grid, get_party_member, get_representative, get_unit, get_worker
from deliberation.grids.models import DeadlineClass, GridLevel, UnitKind
from deliberation.grids.views import bp


def _office(slug: str) -> Community:
    community = get_community(slug)
    require(perm.can_manage_grids(current_user, community))
    return community


def _admin_page(community: Community, status_code: int = 200, **forms):
    tree = queries.grid_tree(community)
    grid_form = forms.get("grid_form") or GridForm(formdata=None)
    _grid_choices(grid_form, community, tree)
    unit_form = forms.get("unit_form") or UnitForm(formdata=None)
    unit_form.organisation.choices = _organisation_choices(community)
    settings = services.deadline_settings(community)
    deadlines_form = forms.get("deadlines_form") or DeadlinesForm(formdata=None, obj=settings)
    buildings = db.session.scalars(select(Building).where(Building.community_id == community.id)
                                   .order_by(Building.name)).all()
    return render_page("grids/admin.html", "grids/admin.html", status_code=status_code, community=community,
                       roots=queries.roots(tree), grids=tree, grid_form=grid_form, unit_form=unit_form,
                       deadlines_form=deadlines_form, person_form=forms.get("person_form") or PersonForm(formdata=None),
                       failed_grid=forms.get("failed_grid"), failed_unit=forms.get("failed_unit"),
                       buildings_form=forms.get("buildings_form"), buildings=buildings,
                       unassigned=services.buildings_without_grid(community), units=services.units_of(community),
                       party_users=queries.party_branch_users(community))


def _grid_choices(form: GridForm, community: Community, tree) -> None:
    form.parent.choices = [SelectChoice("", _("None (the community grid)"))] + [
        SelectChoice(g.id, f"{g.name}（{g.level.label}）") for g in tree
        if g.level in (GridLevel.community, GridLevel.area)]
    form.estate.choices = [SelectChoice("", _("None"))] + [SelectChoice(e.id, e.name) for e in community.estates]


def _organisation_choices(community: Community) -> list[SelectChoice]:
    organisations = db.session.scalars(select(Organisation).where(Organisation.community_id == community.id)
                                       .order_by(Organisation.name)).all()
    return [SelectChoice("", _("None"))] + [SelectChoice(o.id, f"{o.name}（{o.kind.label}）") for o in organisations]


def _back(community: Community, message: str):
    db.session.commit()
    flash(message, "success")
    return redirect_to(url_for("grids.admin", slug=community.slug))


@bp.get("/grids/manage")
@login_required
def admin(slug: str):
    """The office's page: the grid tree, its workers and Party groups, the units and the deadlines."""
    return _admin_page(_office(slug))


@bp.post("/grids/new")
@login_required
def create_grid(slug: str):
    """Add a grid to the tree."""
    community = _office(slug)
    form = GridForm()
    _grid_choices(form, community, queries.grid_tree(community))
    if form.validate():
        parent = get_grid(community, form.parent.data) if form.parent.data else None
        estate = db.session.get(Estate, form.estate.data) if form.estate.data else None
        try:
            grid = services.create_grid(community, level=GridLevel(form.level.data), name=form.name.data,
                                        parent=parent, estate=estate, description=form.description.data or "",
                                        actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            return _back(community, _("The grid %(name)s is added.", name=grid.name))
    return _admin_page(community, 422, grid_form=form)


@bp.post("/grids/<int:grid_id>/buildings")
@login_required
def set_buildings(slug: str, grid_id: int):
    """Set the buildings of a micro-grid."""
    community = _office(slug)
    grid = get_grid(community, grid_id)
    form = BuildingsForm()
    if form.validate():
        ids = set(form.buildings.data or [])
        buildings = db.session.scalars(select(Building).where(Building.id.in_(ids))).all() if ids else []
        try:
            if len(buildings) != len(ids):
                raise DomainError(_("Choose buildings of this community."), field="buildings", status_code=422)
            services.set_buildings(grid, list(buildings), actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            return _back(community, _("The buildings of %(name)s are saved.", name=grid.name))
    return _admin_page(community, 422, buildings_form=form, failed_grid=grid.id)


@bp.post("/grids/<int:grid_id>/micro-grids")
@login_required
def cut_micro_grids(slug: str, grid_id: int):
    """Cut one micro-grid per building of the area's estate that has none yet."""
    community = _office(slug)
    area = get_grid(community, grid_id)
    made = services.micro_grids_from_buildings(area, actor=current_user)
    return _back(community, _("%(n)d micro-grids are added.", n=len(made)))


def _person(form: PersonForm):
    """The person the form names, or None with the error on the form."""
    if not form.validate():
        return None
    try:
        return find_user(form.user.data)
    except DomainError as error:
        fail_form(form, error)
        return None


def _person_failed(community: Community, form: PersonForm, **where):
    return _admin_page(community, 422, person_form=form, **where)


@bp.post("/grids/<int:grid_id>/workers")
@login_required
def assign_worker(slug: str, grid_id: int):
    """Assign a grid worker to the grid (grants the `grid_worker` role)."""
    community = _office(slug)
    grid = get_grid(community, grid_id)
    form = PersonForm()
    user = _person(form)
    if user is not None:
        try:
            services.assign_worker(grid, user, contact_phone=form.contact_phone.data or "", actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            return _back(community, _("%(user)s is a worker of %(grid)s.", user=user.display_name, grid=grid.name))
    return _person_failed(community, form, failed_grid=grid.id)


@bp.post("/grids/<int:grid_id>/workers/<int:worker_id>/remove")
@login_required
def remove_worker(slug: str, grid_id: int, worker_id: int):
    """Take a worker off the grid."""
    community = _office(slug)
    worker = get_worker(get_grid(community, grid_id), worker_id)
    services.remove_worker(worker, actor=current_user)
    return _back(community, _("The worker is removed from the grid."))


@bp.post("/grids/<int:grid_id>/party")
@login_required
def add_party_member(slug: str, grid_id: int):
    """Add a Party branch member to the grid's Party group."""
    community = _office(slug)
    grid = get_grid(community, grid_id)
    form = PersonForm()
    user = _person(form)
    if user is not None:
        try:
            services.add_party_member(grid, user, leader=form.leader.data, actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            return _back(community, _("%(user)s is in the Party group of %(grid)s.", user=user.display_name,
                                      grid=grid.name))
    return _person_failed(community, form, failed_grid=grid.id)


@bp.post("/grids/<int:grid_id>/party/<int:user_id>/remove")
@login_required
def remove_party_member(slug: str, grid_id: int, user_id: int):
    """Take a member out of the grid's Party group."""
    community = _office(slug)
    member = get_party_member(get_grid(community, grid_id), user_id)
    services.remove_party_member(member, actor=current_user)
    return _back(community, _("The member is removed from the Party group."))


@bp.post("/units/new")
@login_required
def create_unit(slug: str):
    """List a handling unit."""
    community = _office(slug)
    form = UnitForm()
    form.organisation.choices = _organisation_choices(community)
    if form.validate():
        organisation = db.session.get(Organisation, form.organisation.data) if form.organisation.data else None
        try:
            unit = services.create_unit(community, kind=UnitKind(form.kind.data), name=form.name.data or "",
                                        organisation=organisation, contact_phone=form.contact_phone.data or "",
                                        actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            return _back(community, _("The unit %(name)s is listed.", name=unit.name))
    return _admin_page(community, 422, unit_form=form)


@bp.post("/units/<int:unit_id>/deactivate")
@login_required
def deactivate_unit(slug: str, unit_id: int):
    """Stop offering a unit for whistling; its history and rates stay."""
    community = _office(slug)
    unit = get_unit(community, unit_id)
    if not is_confirmed():
        return confirmation_page(confirmations.deactivate_unit(unit, services.open_requests_with(unit)),
                                 cancel_url=url_for("grids.admin", slug=community.slug))
    services.set_unit_active(unit, False, actor=current_user)
    return _back(community, _("%(unit)s is deactivated: it is no longer offered for whistling.", unit=unit.name))


@bp.post("/units/<int:unit_id>/reactivate")
@login_required
def reactivate_unit(slug: str, unit_id: int):
    """Offer a deactivated unit for whistling again."""
    community = _office(slug)
    unit = get_unit(community, unit_id)
    services.set_unit_active(unit, True, actor=current_user)
    return _back(community, _("%(unit)s is listed again.", unit=unit.name))


@bp.post("/units/<int:unit_id>/representatives")
@login_required
def add_representative(slug: str, unit_id: int):
    """Name a person who signs for the unit (部门报到)."""
    community = _office(slug)
    unit = get_unit(community, unit_id)
    form = PersonForm()
    user = _person(form)
    if user is not None:
        try:
            services.add_representative(unit, user, actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            return _back(community, _("%(user)s signs for %(unit)s.", user=user.display_name, unit=unit.name))
    return _person_failed(community, form, failed_unit=unit.id)


@bp.post("/units/<int:unit_id>/representatives/<int:user_id>/remove")
@login_required
def remove_representative(slug: str, unit_id: int, user_id: int):
    """Remove a unit's representative."""
    community = _office(slug)
    rep = get_representative(get_unit(community, unit_id), user_id)
    services.remove_representative(rep, actor=current_user)
    return _back(community, _("The representative is removed."))


@bp.post("/requests/deadlines")
@login_required
def deadlines(slug: str):
    """Set the deadline of each class for requests filed from now on."""
    community = _office(slug)
    form = DeadlinesForm()
    if form.validate():
        try:
            services.update_deadlines(community, {c: getattr(form, f"{c.value}_hours").data for c in DeadlineClass},
                                      actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            return _back(community, _("The deadlines are saved."))
    return _admin_page(community, 422, deadlines_form=form)
