"""The council (议事会): public page of its term, members and rules; set-up by the community office."""

from __future__ import annotations

from flask import Blueprint, abort, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import SelectChoice

from deliberation.auth.models import User
from deliberation.communities.loaders import get_community
from deliberation.communities.models import Residency, ResidencyStatus
from deliberation.core import permissions as perm
from deliberation.core.errors import DomainError
from deliberation.core.forms import fail_form, form_status
from deliberation.core.htmx import redirect_to, render_page
from deliberation.core.permissions import require
from deliberation.councils import services
from deliberation.councils.forms import CouncilForm, MemberForm
from deliberation.councils.models import SEAT_LABELS, Council, CouncilMember, SeatType
from deliberation.councils.rules import PassBasis
from deliberation.extensions import db

bp = Blueprint("councils", __name__, url_prefix="/c/<slug>/council")



def get_council(slug: str, council_id: int) -> Council:
    council = db.get_or_404(Council, council_id)
    if council.community.slug != slug:
        abort(404)
    return council


def _settings(form: CouncilForm) -> services.CouncilSettings:
    return services.CouncilSettings(
        name=form.name.data or "", term_label=form.term_label.data or "", term_start=form.term_start.data,
        term_end=form.term_end.data, quorum_num=form.quorum_num.data, quorum_den=form.quorum_den.data,
        quorum_strict=form.quorum_strict.data, pass_basis=PassBasis(form.pass_basis.data),
        pass_num=form.pass_num.data, pass_den=form.pass_den.data, pass_strict=form.pass_strict.data,
        notice_days=form.notice_days.data,
    )


def _member_form(council: Council) -> MemberForm:
    form = MemberForm()
    taken = council.member_ids
    residents = db.session.scalars(
        select(User).join(Residency, Residency.user_id == User.id)
        .where(Residency.community_id == council.community_id, Residency.status == ResidencyStatus.verified)
        .order_by(User.display_name)).all()
    form.user.choices = [SelectChoice("", _("Choose a resident"))] + [
        SelectChoice(str(u.id), f"{u.display_name} ({u.login})") for u in residents if u.id not in taken]
    form.seat.choices = [SelectChoice(s.value, label) for s, label in SEAT_LABELS.items()]
    return form


@bp.get("")
def current(slug: str):
    """The current council: members, seats and rules; earlier terms below."""
    community = get_community(slug)
    councils = services.councils_of(community)
    return render_page("councils/council.html", "councils/council.html", community=community,
                       council=councils[0] if councils else None, councils=councils)


@bp.get("/<int:council_id>")
def detail(slug: str, council_id: int):
    """One term of the council."""
    council = get_council(slug, council_id)
    return render_page("councils/council.html", "councils/council.html", community=council.community,
                       council=council, councils=services.councils_of(council.community))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new(slug: str):
    """Set up the council for a new term."""
    community = get_community(slug)
    require(perm.can_manage_council(current_user, community))
    form = CouncilForm()
    if form.validate_on_submit():
        try:
            council = services.create_council(community, settings=_settings(form), actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(_("The council is set up. Now add its members."), "success")
            return redirect_to(url_for("councils.manage", slug=slug, council_id=council.id))
    return render_page("councils/form.html", "councils/form.html", community=community, form=form, council=None,
                       status_code=form_status(form))


@bp.route("/<int:council_id>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str, council_id: int):
    """Change the council's name, term and rules."""
    council = get_council(slug, council_id)
    require(perm.can_manage_council(current_user, council.community))
    form = CouncilForm(obj=council)
    if form.validate_on_submit():
        try:
            services.update_council(council, settings=_settings(form), actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(_("The council's rules are saved."), "success")
            return redirect_to(url_for("councils.manage", slug=slug, council_id=council.id))
    return render_page("councils/form.html", "councils/form.html", community=council.community, form=form,
                       council=council, status_code=form_status(form))


@bp.get("/<int:council_id>/members")
@login_required
def manage(slug: str, council_id: int):
    """The members of a term, with the form to seat another resident."""
    council = get_council(slug, council_id)
    require(perm.can_manage_council(current_user, council.community))
    return render_page("councils/members.html", "councils/_members.html", community=council.community,
                       council=council, form=_member_form(council))


@bp.post("/<int:council_id>/members")
@login_required
def add_member(slug: str, council_id: int):
    """Seat a verified resident on the council."""
    council = get_council(slug, council_id)
    require(perm.can_manage_council(current_user, council.community))
    form = _member_form(council)
    if form.validate_on_submit():
        user = db.session.get(User, int(form.user.data))
        try:
            services.add_member(council, user, seat=SeatType(form.seat.data), actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            return render_page("councils/members.html", "councils/_members.html", community=council.community,
                               council=council, form=_member_form(council))
    return render_page("councils/members.html", "councils/_members.html", community=council.community,
                       council=council, form=form, status_code=form_status(form))


@bp.post("/<int:council_id>/members/<int:member_id>/remove")
@login_required
def remove_member(slug: str, council_id: int, member_id: int):
    """Remove a member from the term."""
    council = get_council(slug, council_id)
    require(perm.can_manage_council(current_user, council.community))
    member = db.get_or_404(CouncilMember, member_id)
    if member.council_id != council.id:
        abort(404)
    try:
        services.remove_member(member, actor=current_user)
    except DomainError as error:  # a motion is being voted on: said on the members page
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect_to(url_for("councils.manage", slug=slug, council_id=council.id))
    db.session.commit()
    return render_page("councils/members.html", "councils/_members.html", community=council.community,
                       council=council, form=_member_form(council))
