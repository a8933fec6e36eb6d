"""Public community pages, registration, and the community administration."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from wtforms import SelectChoice

from deliberation.auth.forms import RegistrationForm
from deliberation.auth.models import User
from deliberation.auth.phone_requests import phone_code_limits, send_phone_code
from deliberation.communities import confirmations, services
from deliberation.communities.forms import (
    AppointAdminForm,
    BuildingForm,
    CommunityForm,
    EstateForm,
    RejectForm,
    RoleGrantForm,
    RollImportForm,
)
from deliberation.communities.loaders import get_community
from deliberation.communities.models import (
    Building,
    Community,
    Estate,
    Residency,
    ResidencyStatus,
    Role,
    RoleGrant,
    RollEntry,
)
from deliberation.core import audit_anchors, notice_board
from deliberation.core.confirm import confirmation_page, is_confirmed
from deliberation.core.errors import DomainError
from deliberation.core.forms import fail_form, form_status
from deliberation.core.htmx import is_htmx_request, redirect_to, render_page
from deliberation.core.inputs import int_param
from deliberation.core.permissions import (
    can_administer_community,
    can_appoint_community_admin,
    can_create_community,
    can_import_roll,
    can_manage_places,
    can_manage_roles,
    can_register_residency,
    can_verify_residents,
    require,
)
from deliberation.evaluations import services as evaluation_services
from deliberation.evaluations.models import Organisation
from deliberation.extensions import db, limiter

bp = Blueprint("communities", __name__)


# --- loaders --------------------------------------------------------------------------


def get_residency(community: Community, residency_id: int) -> Residency:
    residency = db.get_or_404(Residency, residency_id)
    if residency.community_id != community.id:
        abort(404)
    return residency


def _building_choices(community: Community) -> list[SelectChoice]:
    return [SelectChoice(b.id, b.name, optgroup=b.estate.name) for b in services.buildings_of(community)]


def _estate_choices(community: Community) -> list[SelectChoice]:
    return [SelectChoice(e.id, e.name) for e in community.estates]


# --- public pages ---------------------------------------------------------------------

@bp.get("/")
def index():
    """All communities on this deployment."""
    communities = db.session.scalars(select(Community).order_by(Community.district, Community.name)).all()
    return render_page("communities/index.html", "communities/index.html", communities=communities)


@bp.get("/c/<slug>")
def home(slug: str):
    """The community's public notice board (公示栏)."""
    community = get_community(slug)
    if audit_anchors.anchor_today_if_missing():  # the first view of a day the cron job has not anchored yet
        db.session.commit()
    return render_page("communities/home.html", "communities/_notice_board.html", community=community,
                       sections=notice_board.sections_for(community))


def _register_limit() -> str:
    return current_app.config["REGISTER_RATE_LIMIT"]


def _new_account_submitted(response) -> bool:
    return bool(g.get("new_account_submitted"))


@bp.route("/c/<slug>/register", methods=["GET", "POST"])
@limiter.limit(_register_limit, methods=["POST"], deduct_when=_new_account_submitted)
@phone_code_limits
def register(slug: str):
    """Register as a resident: a new account with a household (after the SMS code), or a household for
    a logged-in user."""
    community = get_community(slug)
    if not can_register_residency(current_user, community):
        flash(_("You already have a registration in this community."), "info")
        return redirect_to(url_for("auth.account"))
    logged_in = current_user.is_authenticated
    form = RegistrationForm()
    if logged_in:
        for name in ("display_name", "phone", "password", "confirm"):
            delattr(form, name)
    form.building.choices = _building_choices(community)
    if form.validate_on_submit():
        building = db.session.get(Building, form.building.data)
        try:
            if building is None:
                raise DomainError(_("Choose a building of this community."), field="building", status_code=422)
            if logged_in:
                residency = services.register_residency(current_user, community, building=building,
                                                        unit=form.unit.data, room=form.room.data)
            else:
                # A number that already has an account gets a notice instead of a code: answered the same way.
                challenge, message = services.start_resident_registration(
                    community, phone=form.phone.data, display_name=form.display_name.data,
                    password=form.password.data, building=building, unit=form.unit.data, room=form.room.data,
                    locale=session.get("locale"))
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            if logged_in:
                if residency.status == ResidencyStatus.verified:
                    flash(_("Your phone is proven and the residents' roll lists it at this address: you are "
                            "verified."), "success")
                else:
                    flash(_("Your registration is received. The community office checks your address; you will "
                            "see the result on your page."), "info")
                return redirect_to(url_for("auth.account"))
            g.new_account_submitted = True
            send_phone_code(challenge, message)
            return redirect_to(url_for("auth.phone_code"))
    return render_page("communities/register.html", "communities/_register_form.html", community=community,
                       form=form, logged_in=logged_in, status_code=form_status(form))


# --- administration -------------------------------------------------------------------

@bp.get("/c/<slug>/admin")
@login_required
def admin(slug: str):
    """The community administration dashboard."""
    community = get_community(slug)
    require(can_administer_community(current_user, community))
    counts = dict(db.session.execute(
        select(Residency.status, func.count(Residency.id)).where(Residency.community_id == community.id)
        .group_by(Residency.status)
    ).tuples().all())
    roll_size = db.session.scalar(select(func.count(RollEntry.id)).where(RollEntry.community_id == community.id))
    return render_page("communities/admin/dashboard.html", "communities/admin/dashboard.html",
                       community=community, counts=counts, roll_size=roll_size)


RESIDENTS_PER_PAGE = 50


@bp.get("/c/<slug>/admin/residents")
@login_required
def residents(slug: str):
    """The verification queue and the list of residents, filtered by status."""
    community = get_community(slug)
    require(can_verify_residents(current_user, community))
    try:
        status = ResidencyStatus(request.args.get("status", ResidencyStatus.pending.value))
    except ValueError:
        status = ResidencyStatus.pending
    query = (Residency.select_for(community, status)
             .options(joinedload(Residency.user), joinedload(Residency.building).joinedload(Building.estate))
             .order_by(Residency.created_at, Residency.id))
    page = db.paginate(query, page=int_param(request.args, "page", 1), per_page=RESIDENTS_PER_PAGE, error_out=False)
    return render_page("communities/admin/residents.html", "communities/admin/_residents_table.html",
                       community=community, page=page, status=status, statuses=list(ResidencyStatus),
                       roll_matches=services.roll_matches(page.items))


def _after_residency_action(community: Community, residency: Residency):
    if is_htmx_request():
        return render_page("communities/admin/_residency_row.html", "communities/admin/_residency_row.html",
                           community=community, residency=residency)
    return redirect_to(url_for("communities.residents", slug=community.slug, status=request.args.get("status")))


@bp.post("/c/<slug>/admin/residents/<int:residency_id>/verify")
@login_required
def verify_residency(slug: str, residency_id: int):
    """Approve a pending registration."""
    community = get_community(slug)
    require(can_verify_residents(current_user, community))
    residency = get_residency(community, residency_id)
    services.verify_residency(residency, actor=current_user)
    db.session.commit()
    flash(_("%(name)s is now a verified resident.", name=residency.user.display_name), "success")
    return _after_residency_action(community, residency)


@bp.route("/c/<slug>/admin/residents/<int:residency_id>/reject", methods=["GET", "POST"])
@login_required
def reject_residency(slug: str, residency_id: int):
    """Reject a pending registration with a reason the resident sees."""
    community = get_community(slug)
    require(can_verify_residents(current_user, community))
    residency = get_residency(community, residency_id)
    form = RejectForm()
    if form.validate_on_submit():
        try:
            services.reject_residency(residency, actor=current_user, reason=form.reason.data)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(_("The registration of %(name)s was rejected.", name=residency.user.display_name), "info")
            return redirect_to(url_for("communities.residents", slug=slug))
    return render_page("communities/admin/reject.html", "communities/admin/_reject_form.html",
                       community=community, residency=residency, form=form, status_code=form_status(form))


@bp.post("/c/<slug>/admin/residents/<int:residency_id>/moved-out")
@login_required
def mark_moved_out(slug: str, residency_id: int):
    """Record that a resident has moved out: they lose resident capabilities here."""
    community = get_community(slug)
    require(can_verify_residents(current_user, community))
    residency = get_residency(community, residency_id)
    if not is_confirmed():
        return confirmation_page(confirmations.mark_moved_out(residency),
                                 cancel_url=url_for("communities.residents", slug=slug,
                                                    status=residency.status.value))
    services.mark_moved_out(residency, actor=current_user)
    db.session.commit()
    flash(_("%(name)s is marked as moved out.", name=residency.user.display_name), "info")
    return _after_residency_action(community, residency)


@bp.route("/c/<slug>/admin/roll", methods=["GET", "POST"])
@login_required
def roll(slug: str):
    """Import the residents' roll from CSV and show the per-row report."""
    community = get_community(slug)
    require(can_import_roll(current_user, community))
    form = RollImportForm()
    report = None
    if form.validate_on_submit():
        try:
            report = services.import_roll(community, data=form.file.data.read(), actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
    roll_size = db.session.scalar(select(func.count(RollEntry.id)).where(RollEntry.community_id == community.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_page("communities/admin/roll.html", "communities/admin/_roll_report.html", community=community,
                       form=form, report=report, roll_size=roll_size, status_code=status)


@bp.route("/c/<slug>/admin/roles", methods=["GET", "POST"])
@login_required
def roles(slug: str):
    """List role holders and grant roles."""
    community = get_community(slug)
    require(can_manage_roles(current_user, community))
    form = RoleGrantForm()
    organisations = evaluation_services.organisations_of(community)
    form.organisation.choices = [SelectChoice("", _("— none —"))] + [
        SelectChoice(o.id, o.name, optgroup=o.kind.label) for o in organisations]
    if form.validate_on_submit():
        try:
            user = services.find_user(form.user.data)
            organisation = db.session.get(Organisation, form.organisation.data) if form.organisation.data else None
            services.grant_role(community, user=user, role=form.role_enum(), actor=current_user,
                                organisation=organisation)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(_("%(name)s is now: %(role)s.", name=user.display_name, role=form.role_enum().label), "success")
            return redirect_to(url_for("communities.roles", slug=slug))
    grants = db.session.scalars(
        select(RoleGrant).options(joinedload(RoleGrant.user), joinedload(RoleGrant.organisation))
        .where(RoleGrant.community_id == community.id).order_by(RoleGrant.role, RoleGrant.id)
    ).all()
    return render_page("communities/admin/roles.html", "communities/admin/roles.html", community=community,
                       form=form, grants=grants, status_code=form_status(form))


@bp.post("/c/<slug>/admin/roles/<int:grant_id>/revoke")
@login_required
def revoke_role(slug: str, grant_id: int):
    """Take a role away."""
    community = get_community(slug)
    require(can_manage_roles(current_user, community))
    grant = db.get_or_404(RoleGrant, grant_id)
    if grant.community_id != community.id:
        abort(404)
    if not is_confirmed():
        return confirmation_page(confirmations.revoke_role(grant), cancel_url=url_for("communities.roles", slug=slug))
    name, label = grant.user.display_name, grant.role.label
    services.revoke_role(grant, actor=current_user)
    db.session.commit()
    flash(_("%(name)s no longer holds the role %(role)s.", name=name, role=label), "info")
    return redirect_to(url_for("communities.roles", slug=slug))


def _places_page(community: Community, estate_form: EstateForm, building_form: BuildingForm):
    building_form.estate.choices = _estate_choices(community)
    status = 422 if estate_form.is_submitted() or building_form.is_submitted() else 200
    return render_page("communities/admin/places.html", "communities/admin/places.html", community=community,
                       estate_form=estate_form, building_form=building_form, status_code=status)


@bp.route("/c/<slug>/admin/places", methods=["GET", "POST"])
@login_required
def places(slug: str):
    """Estates and buildings: list them and add an estate."""
    community = get_community(slug)
    require(can_manage_places(current_user, community))
    estate_form = EstateForm(prefix="estate")
    if estate_form.validate_on_submit():
        try:
            estate = services.add_estate(community, name=estate_form.name.data, actor=current_user)
        except DomainError as error:
            fail_form(estate_form, error)
        else:
            db.session.commit()
            flash(_("Estate %(name)s added.", name=estate.name), "success")
            return redirect_to(url_for("communities.places", slug=slug))
    return _places_page(community, estate_form, BuildingForm(prefix="building", formdata=None))


@bp.post("/c/<slug>/admin/places/buildings")
@login_required
def add_building(slug: str):
    """Add a building to one of the community's estates."""
    community = get_community(slug)
    require(can_manage_places(current_user, community))
    building_form = BuildingForm(prefix="building")
    building_form.estate.choices = _estate_choices(community)
    if building_form.validate_on_submit():
        estate = db.session.get(Estate, building_form.estate.data)
        try:
            if estate is None or estate.community_id != community.id:
                raise DomainError(_("Choose an estate of this community."), field="estate", status_code=422)
            building = services.add_building(estate, name=building_form.name.data, actor=current_user)
        except DomainError as error:
            fail_form(building_form, error)
        else:
            db.session.commit()
            flash(_("Building %(name)s added.", name=building.label), "success")
            return redirect_to(url_for("communities.places", slug=slug))
    return _places_page(community, EstateForm(prefix="estate", formdata=None), building_form)


# --- site administration --------------------------------------------------------------

@bp.route("/site/communities", methods=["GET", "POST"])
@login_required
def site_communities():
    """The site administrator's list of communities, and the form to create one."""
    require(can_create_community(current_user))
    form = CommunityForm()
    if form.validate_on_submit():
        try:
            community = services.create_community(slug=form.slug.data, name=form.name.data,
                                                  district=form.district.data, street=form.street.data,
                                                  actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(_("Community %(name)s created. Now appoint its first administrator.", name=community.name),
                  "success")
            return redirect_to(url_for("communities.appoint_admin", slug=community.slug))
    communities = db.session.scalars(select(Community).order_by(Community.district, Community.name)).all()
    admins = _admins_by_community()
    return render_page("communities/site/communities.html", "communities/site/communities.html",
                       communities=communities, admins=admins, form=form, status_code=form_status(form))


def _admins_by_community() -> dict[int, list[str]]:
    rows = db.session.execute(
        select(RoleGrant.community_id, User.display_name).join(User, RoleGrant.user_id == User.id)
        .where(RoleGrant.role == Role.community_admin).order_by(User.display_name)
    ).tuples()
    admins: dict[int, list[str]] = {}
    for community_id, name in rows:
        admins.setdefault(community_id, []).append(name)
    return admins


@bp.route("/site/communities/<slug>/admins", methods=["GET", "POST"])
@login_required
def appoint_admin(slug: str):
    """Appoint a community administrator, creating the account if needed."""
    community = get_community(slug)
    require(can_appoint_community_admin(current_user, community))
    form = AppointAdminForm()
    if form.validate_on_submit():
        try:
            user = services.appoint_community_admin(community, login=form.login.data,
                                                    display_name=form.display_name.data,
                                                    password=form.password.data, actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(_("%(name)s now administers %(community)s.", name=user.display_name, community=community.name),
                  "success")
            return redirect_to(url_for("communities.site_communities"))
    return render_page("communities/site/appoint_admin.html", "communities/site/appoint_admin.html",
                       community=community, form=form, admins=_admins_by_community().get(community.id, []),
                       status_code=form_status(form))
