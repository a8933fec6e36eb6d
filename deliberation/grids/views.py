"""Residents' grids and requests: filing, the handlers' queue, the handling steps and the call-back."""

from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from wtforms import SelectChoice

from deliberation.communities.loaders import get_community
from deliberation.communities.models import Building, Community
from deliberation.core import permissions as perm
from deliberation.core import upload_stash, uploads
from deliberation.core.confirm import confirmation_page, is_confirmed
from deliberation.core.errors import DomainError
from deliberation.core.forms import apply_domain_error, fail_form, form_status
from deliberation.core.htmx import redirect_to, render_page
from deliberation.core.inputs import int_param
from deliberation.core.permissions import require
from deliberation.extensions import db
from deliberation.grids import confirmations, queries
from deliberation.grids import requests as handling
from deliberation.grids.forms import (
    AnswerForm,
    EnteredRequestForm,
    NoteForm,
    OutcomeForm,
    ReclassifyForm,
    RequestForm,
    WhistleForm,
)
from deliberation.grids.loaders import get_request
from deliberation.grids.models import (
    Channel,
    DeadlineClass,
    Grid,
    GridBuilding,
    GridLevel,
    HandlingUnit,
    RequestCategory,
    RequestType,
    StepAction,
)

bp = Blueprint("grids", __name__, url_prefix="/c/<slug>")


# --- the resident's grid ----------------------------------------------------------------

@bp.get("/grids")
def grids(slug: str):
    """The community's grid tree with each grid's workers; a resident sees their own grid first."""
    community = get_community(slug)
    tree = queries.grid_tree(community)
    mine = queries.grid_of_resident(current_user, community) if current_user.is_authenticated else None
    return render_page("grids/grids.html", "grids/grids.html", community=community, roots=queries.roots(tree),
                       mine=mine, show_phones=perm.is_verified_resident(current_user, community))


# --- requests: public and own -------------------------------------------------------------

@bp.get("/requests")
def public_list(slug: str):
    """Recent requests, anonymised: kind, category, grid, status and times only."""
    community = get_community(slug)
    page = queries.public_requests_page(community, int_param(request.args, "page", 1) or 1)
    return render_page("grids/requests.html", "grids/_request_table.html", community=community,
                       requests=page.items, page=page, public=True)


@bp.get("/requests/mine")
@login_required
def mine(slug: str):
    """The user's own requests and their state."""
    community = get_community(slug)
    return render_page("grids/mine.html", "grids/_request_table.html", community=community,
                       requests=queries.requests_of(current_user, community), public=False)


@bp.get("/requests/queue")
@login_required
def queue(slug: str):
    """The handlers' list: the office all open requests, a grid worker their grids', a unit its own."""
    community = get_community(slug)
    require(perm.can_see_request_queue(current_user, community))
    show = request.args.get("show", "all")
    show = show if show in queries.QUEUE_FILTERS else "all"
    return render_page("grids/queue.html", "grids/_request_table.html", community=community, show=show,
                       requests=queries.queue_for(current_user, community, show=show),
                       counts=queries.queue_counts(current_user, community), public=False)


def _detail(req, **forms):
    whistle_form = forms.pop("whistle_form", None) or WhistleForm(formdata=None)
    whistle_form.unit.choices = _unit_choices(req.community)
    context = dict(community=req.community, req=req, note_form=NoteForm(formdata=None),
                   whistle_form=whistle_form, answer_form=AnswerForm(formdata=None),
                   reclassify_form=ReclassifyForm(formdata=None, deadline_class=req.deadline_class.value),
                   outcome_form=OutcomeForm(formdata=None))
    context.update(forms)
    return context


@bp.get("/requests/<int:request_id>")
def request_detail(slug: str, request_id: int):
    """A request and its timeline; its words and the requester only for those handling it."""
    req = get_request(get_community(slug), request_id)
    return render_page("grids/request.html", "grids/request.html", **_detail(req))


@bp.get("/requests/<int:request_id>/photos/<name>")
def request_photo(slug: str, request_id: int, name: str):
    """A photo the requester attached: for those who see the request's own words (its handlers and the
    requester), never cached by anyone else — it may show their home or their face."""
    req = get_request(get_community(slug), request_id)
    require(perm.can_see_requester(current_user, req))
    if not any(photo.filename == name for photo in req.photos):
        abort(404)
    return uploads.file_response(name, uploads.REQUESTS, max_age=0, public=False)


# --- intake --------------------------------------------------------------------------------

def _place_choices(community: Community) -> list[SelectChoice]:
    """Buildings that are in a micro-grid, by estate, then the special grids."""
    choices = [SelectChoice("", _("Choose…"))]
    buildings = db.session.scalars(
        select(Building).join(GridBuilding, GridBuilding.building_id == Building.id)
        .where(Building.community_id == community.id).order_by(Building.name)).all()
    estates = {e.id: e.name for e in community.estates}
    for building in sorted(buildings, key=lambda b: (estates.get(b.estate_id, ""), b.name)):
        choices.append(SelectChoice(f"b{building.id}", building.name, optgroup=estates.get(building.estate_id, "")))
    special = db.session.scalars(select(Grid).where(Grid.community_id == community.id,
                                                    Grid.level == GridLevel.special).order_by(Grid.name)).all()
    choices.extend(SelectChoice(f"g{g.id}", g.name, optgroup=_("Special grids")) for g in special)
    return choices


def _unit_choices(community: Community) -> list[SelectChoice]:
    units = db.session.scalars(select(HandlingUnit).where(HandlingUnit.community_id == community.id,
                                                          HandlingUnit.active).order_by(HandlingUnit.name)).all()
    return [SelectChoice("", _("Choose…"))] + [SelectChoice(u.id, f"{u.name}（{u.kind.label}）") for u in units]


def _fields(form: RequestForm, community: Community) -> handling.RequestFields:
    value = form.place.data or ""
    building = grid = None
    if value[:1] in ("b", "g") and value[1:].isdigit() and len(value) < 12:
        if value[0] == "b":
            building = db.session.get(Building, int(value[1:]))
        else:
            grid = db.session.get(Grid, int(value[1:]))
    return handling.RequestFields(type=RequestType(form.type.data), category=RequestCategory(form.category.data),
                                  text=form.text.data or "", building=building, special_grid=grid,
                                  place=form.place_text.data or "")


def _keep_photos(form: RequestForm) -> str | None:
    """Keep valid photos across a form shown again; refused ones get their message on the photo field."""
    if not form.is_submitted():
        return None
    token = request.form.get("photo_stash") or None
    upload_stash.drop(token, request.form.getlist("drop_photo"))
    uploads = [f.read() for f in (form.photos.data or []) if isinstance(f, FileStorage) and f.filename]
    token, refused = upload_stash.put_aside(token, uploads)
    db.session.commit()  # kept whatever happens next, and whichever host gets the next try
    form.photos.errors = [*form.photos.errors, *(error.message for error in refused)]
    return token


def _file(form: RequestForm, community: Community, stash: str | None, **who):
    """Validate and file; returns the request, or None with the form's errors set."""
    refused = list(form.photos.errors)  # photos put aside refused before validation resets the errors
    valid = form.validate()
    form.photos.errors = list(dict.fromkeys([*form.photos.errors, *refused]))
    if not valid or form.photos.errors:
        return None
    try:
        req = handling.file_request(community, fields=_fields(form, community),
                                    photos=upload_stash.contents(stash), **who)
    except DomainError as error:
        fail_form(form, error)
        return None
    upload_stash.clear(stash)  # in the same transaction as the request that now holds the photos
    db.session.commit()
    return req


@bp.route("/requests/new", methods=["GET", "POST"])
@login_required
def new(slug: str):
    """A verified resident files a request from their phone."""
    community = get_community(slug)
    require(perm.can_file_request(current_user, community))
    form = RequestForm()
    form.place.choices = _place_choices(community)
    stash = _keep_photos(form)
    if form.is_submitted():
        req = _file(form, community, stash, channel=Channel.app, requester=current_user)
        if req is not None:
            flash(_("Your request is filed. Your grid worker will contact you."), "success")
            return redirect_to(url_for("grids.request_detail", slug=slug, request_id=req.id))
    return render_page("grids/request_form.html", "grids/request_form.html", community=community, form=form,
                       stash=stash, kept=upload_stash.names(stash), entered=False, status_code=form_status(form))


@bp.route("/requests/enter", methods=["GET", "POST"])
@login_required
def enter(slug: str):
    """A grid worker or the office enters a request for a resident who phoned or walked in."""
    community = get_community(slug)
    require(perm.can_enter_request(current_user, community))
    form = EnteredRequestForm()
    form.place.choices = _place_choices(community)
    stash = _keep_photos(form)
    if form.is_submitted():
        channel = Channel.walk_in if form.channel.data == Channel.walk_in.value else Channel.phone
        req = _file(form, community, stash, channel=channel, entered_by=current_user,
                    requester_name=form.requester_name.data or "", requester_phone=form.requester_phone.data or "")
        if req is not None:
            flash(_("The request is filed for the resident."), "success")
            return redirect_to(url_for("grids.request_detail", slug=slug, request_id=req.id))
    return render_page("grids/request_form.html", "grids/request_form.html", community=community, form=form,
                       stash=stash, kept=upload_stash.names(stash), entered=True, status_code=form_status(form))


# --- handling steps ------------------------------------------------------------------------

def _detail_url(req) -> str:
    return url_for("grids.request_detail", slug=req.community.slug, request_id=req.id)


def _done(req, message: str):
    db.session.commit()
    flash(message, "success")
    return redirect_to(_detail_url(req))


def _authorize(req, allowed: bool, action: StepAction):
    """A handler whose step someone else has just made impossible (both pressed at once, or this page was
    open while the other acted) is told who got there first, not refused: returns that response."""
    if not allowed and perm.is_told_who_was_first(current_user, req, action.value):
        error = handling.already_done(req, action, since_loaded=False)
        if error is not None:
            return _too_late(req, error)
    require(allowed)
    return None


def _too_late(req, error: DomainError):
    """Someone else acted first: show the request as it is now, with who did what."""
    db.session.rollback()
    flash(str(error.message), "error")
    return redirect_to(_detail_url(req))


def _handle(req, step):
    """Run a step that has no form; a step someone else made impossible becomes a message on the page."""
    try:
        step()
    except DomainError as error:
        if error.status_code != 409:
            raise
        return _too_late(req, error)
    return None


def _again(req, form_name: str, form, error: DomainError | None = None):
    if error is not None and error.status_code == 409:
        return _too_late(req, error)
    if error is not None:
        fail_form(form, error)
    return render_page("grids/request.html", "grids/request.html", status_code=422,
                       **_detail(req, **{form_name: form}))


@bp.post("/requests/<int:request_id>/sign")
@login_required
def sign(slug: str, request_id: int):
    """The grid worker signs for the request (first-responsible)."""
    req = get_request(get_community(slug), request_id)
    if (late := _authorize(req, perm.can_sign_request(current_user, req), StepAction.signed)) is not None:
        return late
    if (late := _handle(req, lambda: handling.sign(req, actor=current_user))) is not None:
        return late
    return _done(req, _("You signed for the request. Contact the resident."))


@bp.post("/requests/<int:request_id>/contact")
@login_required
def contact(slug: str, request_id: int):
    """Record a contact with the resident."""
    req = get_request(get_community(slug), request_id)
    if (late := _authorize(req, perm.can_contact_requester(current_user, req), StepAction.contacted)) is not None:
        return late
    form = NoteForm()
    if not form.validate():
        return _again(req, "note_form", form)
    try:
        handling.record_contact(req, actor=current_user, note=form.note.data or "")
    except DomainError as error:
        return _again(req, "note_form", form, error)
    return _done(req, _("The contact is recorded."))


@bp.post("/requests/<int:request_id>/whistle")
@login_required
def whistle(slug: str, request_id: int):
    """Blow the whistle (吹哨): send the request to the responsible unit."""
    req = get_request(get_community(slug), request_id)
    if (late := _authorize(req, perm.can_whistle(current_user, req), StepAction.whistled)) is not None:
        return late
    form = WhistleForm()
    form.unit.choices = _unit_choices(req.community)
    unit = db.session.get(HandlingUnit, form.unit.data) if form.validate() and form.unit.data else None
    if unit is None or unit.community_id != req.community_id:
        if not form.unit.errors:
            form.unit.errors = [_("Choose a unit of this community.")]
        return _again(req, "whistle_form", form)
    try:
        handling.whistle(req, unit, actor=current_user, note=form.note.data or "")
    except DomainError as error:
        return _again(req, "whistle_form", form, error)
    return _done(req, _("The request is whistled to %(unit)s.", unit=unit.name))


@bp.post("/requests/<int:request_id>/unit-sign")
@login_required
def unit_sign(slug: str, request_id: int):
    """The unit's representative signs for the request (报到)."""
    req = get_request(get_community(slug), request_id)
    if (late := _authorize(req, perm.can_unit_sign(current_user, req), StepAction.unit_signed)) is not None:
        return late
    if (late := _handle(req, lambda: handling.unit_sign(req, actor=current_user))) is not None:
        return late
    return _done(req, _("Your unit signed for the request."))


@bp.post("/requests/<int:request_id>/answer")
@login_required
def answer(slug: str, request_id: int):
    """Answer the request; the resident is asked to rate it."""
    req = get_request(get_community(slug), request_id)
    if (late := _authorize(req, perm.can_answer_request(current_user, req), StepAction.answered)) is not None:
        return late
    if not is_confirmed():
        return confirmation_page(confirmations.answer_request(req), cancel_url=_detail_url(req))
    form = AnswerForm()
    if not form.validate():
        return _again(req, "answer_form", form)
    try:
        handling.answer(req, actor=current_user, text=form.answer.data or "")
    except DomainError as error:
        return _again(req, "answer_form", form, error)
    return _done(req, _("The answer is sent to the resident."))


@bp.post("/requests/<int:request_id>/reclassify")
@login_required
def reclassify(slug: str, request_id: int):
    """Change the request's deadline class."""
    req = get_request(get_community(slug), request_id)
    if (late := _authorize(req, perm.can_reclassify_request(current_user, req), StepAction.reclassified)) is not None:
        return late
    form = ReclassifyForm()
    if not form.validate():
        return _again(req, "reclassify_form", form)
    try:
        handling.reclassify(req, DeadlineClass(form.deadline_class.data), actor=current_user)
    except DomainError as error:
        return _again(req, "reclassify_form", form, error)
    return _done(req, _("The deadline is changed."))


def _outcome(req, record):
    form = OutcomeForm()
    if not form.validate():
        return None, form
    try:
        record(resolved=form.resolved.data == "yes", satisfaction=form.satisfaction.data,
               comment=form.comment.data or "")
    except DomainError as error:
        db.session.rollback()
        if error.status_code == 409:
            return error, form
        apply_domain_error(form, error)
        return None, form
    return True, form


@bp.post("/requests/<int:request_id>/rate")
@login_required
def rate(slug: str, request_id: int):
    """The resident says whether it was resolved and rates the handling."""
    req = get_request(get_community(slug), request_id)
    if (late := _authorize(req, perm.can_rate_request(current_user, req), StepAction.rated)) is not None:
        return late
    if not is_confirmed():
        return confirmation_page(confirmations.close_request(req), cancel_url=_detail_url(req))
    done, form = _outcome(req, lambda **o: handling.rate(req, resident=current_user, **o))
    if isinstance(done, DomainError):
        return _too_late(req, done)
    if not done:
        return _again(req, "outcome_form", form)
    return _done(req, _("Thank you: your rating is recorded."))


@bp.post("/requests/<int:request_id>/callback")
@login_required
def callback(slug: str, request_id: int):
    """The office records what the resident said on a phone call-back."""
    req = get_request(get_community(slug), request_id)
    if (late := _authorize(req, perm.can_record_callback(current_user, req), StepAction.callback)) is not None:
        return late
    if not is_confirmed():
        return confirmation_page(confirmations.close_request(req, callback=True), cancel_url=_detail_url(req))
    done, form = _outcome(req, lambda **o: handling.record_callback(req, actor=current_user, **o))
    if isinstance(done, DomainError):
        return _too_late(req, done)
    if not done:
        return _again(req, "outcome_form", form)
    return _done(req, _("The call-back is recorded."))


from deliberation.grids import admin_views, ranking_views  # noqa: E402,F401  (register the office's and the ranking's routes on bp)
