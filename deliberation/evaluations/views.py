"""Organisation pages, rubrics, satisfaction surveys, evaluations, replies and exports."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, make_response, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import SelectChoice

from deliberation.communities.models import Community, Estate
from deliberation.communities.views import get_community
from deliberation.core import uploads
from deliberation.core.confirm import confirmation_page, is_confirmed
from deliberation.core.errors import DomainError
from deliberation.core.forms import fail_form, form_status, optional_int
from deliberation.core.htmx import redirect_to, render_page
from deliberation.core.models import utcnow
from deliberation.core.permissions import (
    can_answer_survey,
    can_change_evaluation,
    can_evaluate,
    can_export_evaluations,
    can_manage_organisations,
    can_manage_rubrics,
    can_reply,
    can_view_evaluation,
    can_view_survey_results,
    is_party_branch,
    is_served_resident,
    represents,
    require,
)
from deliberation.evaluations import chart, confirmations, export, periods, services
from deliberation.evaluations import notice as _notice  # noqa: F401  (registers the notice-board section)
from deliberation.evaluations.forms import (
    CorrectionForm,
    CriterionForm,
    EmptyForm,
    EvaluationCreateForm,
    OrganisationForm,
    PhotoForm,
    PublishForm,
    ReplyForm,
    RubricForm,
    SurveyForm,
    evaluation_form,
    survey_answer_form,
)
from deliberation.evaluations.models import (
    PART_LABELS,
    Evaluation,
    EvaluationPhoto,
    EvaluationStatus,
    Organisation,
    OrganisationKind,
    Rubric,
    SatisfactionSurvey,
    grade_label,
)
from deliberation.extensions import db

bp = Blueprint("evaluations", __name__)
bp.add_app_template_global(grade_label, "grade_label")


# --- loaders --------------------------------------------------------------------------

def _in_community(obj, community: Community):
    if obj is None or obj.community_id != community.id:
        abort(404)
    return obj


def get_organisation(community: Community, organisation_id: int) -> Organisation:
    return _in_community(db.session.get(Organisation, organisation_id), community)


def get_evaluation(community: Community, evaluation_id: int) -> Evaluation:
    return _in_community(db.session.get(Evaluation, evaluation_id), community)


def get_survey(community: Community, survey_id: int) -> SatisfactionSurvey:
    return _in_community(db.session.get(SatisfactionSurvey, survey_id), community)


def get_rubric(community: Community, rubric_id: int) -> Rubric:
    return _in_community(db.session.get(Rubric, rubric_id), community)


def cooling_off() -> timedelta:
    return timedelta(hours=current_app.config.get("EVALUATION_COOLING_OFF_HOURS", 24))


def _history_chart(history: list[Evaluation]) -> chart.Chart:
    return chart.history_chart([(e.period, e.total, e.grade.value) for e in history if e.total is not None])


# --- public pages ---------------------------------------------------------------------

@bp.get("/c/<slug>/organisations")
def organisations(slug: str):
    """Every property firm and owner committee of the community with its current grade."""
    community = get_community(slug)
    summaries = services.organisation_summaries(community)
    return render_page("evaluations/organisations.html", "evaluations/_organisation_cards.html",
                       community=community, summaries=summaries)


def _request_rates(organisation_id: int, period: str | None = None) -> dict:
    """The organisation's three rates as a handling unit of residents' requests (grids area): over the
    evaluated quarter when a period is given, else the last 12 months."""
    from deliberation.grids import rates

    quarter = rates.quarter_months(period) if period else None
    found = (rates.organisation_rates(organisation_id, last_month=quarter[0], months=quarter[1]) if quarter
             else rates.organisation_rates(organisation_id))
    return {"request_rates": found, "rate_percent": rates.percent}


@bp.get("/c/<slug>/organisations/<int:organisation_id>")
def organisation(slug: str, organisation_id: int):
    """An organisation's page: current grade, history chart, criterion scores, turnout and replies."""
    community = get_community(slug)
    org = get_organisation(community, organisation_id)
    history = services.published_history([org.id])[org.id]
    summary = services.OrganisationSummary(org, history)
    latest = summary.latest
    replies = services.replies_for([e.id for e in history])
    open_surveys = [s for s in services.open_surveys(community) if s.organisation_id == org.id]
    answered = {s.id for s in open_surveys if current_user.is_authenticated and services.has_answered(s, current_user)}
    return render_page("evaluations/organisation.html", "evaluations/organisation.html", community=community,
                       org=org, summary=summary, latest=latest, history=list(reversed(history)),
                       chart=_history_chart(history), replies=replies, open_surveys=open_surveys, answered=answered,
                       breakdown=services.score_breakdown(latest) if latest else None, part_labels=PART_LABELS,
                       **_request_rates(org.id))


@bp.get("/c/<slug>/evaluations/<int:evaluation_id>")
def evaluation(slug: str, evaluation_id: int):
    """One evaluation: scores, the survey result, findings, evidence, versions and the reply."""
    community = get_community(slug)
    ev = get_evaluation(community, evaluation_id)
    require(can_view_evaluation(current_user, ev))
    reply = services.reply_for(ev)
    return render_page("evaluations/evaluation.html", "evaluations/evaluation.html", community=community, ev=ev,
                       reply=reply, versions=services.versions_of(ev), breakdown=services.score_breakdown(ev),
                       part_labels=PART_LABELS, publish_form=PublishForm(formdata=None),
                       can_reply_now=can_reply(current_user, ev, has_reply=reply is not None),
                       cooling_off_ends=services.cooling_off_ends(ev, cooling_off()), now=utcnow(),
                       cooling_off_hours=int(cooling_off().total_seconds() // 3600))


@bp.get("/c/<slug>/evaluations/photos/<name>")
def photo(slug: str, name: str):
    """An evidence photo: public once its evaluation is, otherwise only for the branch."""
    community = get_community(slug)
    rows = db.session.scalars(select(EvaluationPhoto).join(Evaluation)
                              .where(EvaluationPhoto.filename == name, Evaluation.community_id == community.id)).all()
    if not rows:
        abort(404)
    require(any(can_view_evaluation(current_user, p.evaluation) for p in rows))
    public = any(p.evaluation.is_public for p in rows)
    return uploads.file_response(name, uploads.EVIDENCE, max_age=3600, public=public,
                                 content_type=rows[0].content_type)


# --- community office: organisations --------------------------------------------------

def _organisation_form(community: Community, org: Organisation | None = None) -> OrganisationForm:
    form = OrganisationForm(obj=org)
    form.estates.choices = [SelectChoice(e.id, e.name) for e in community.estates]
    if org is not None and not form.is_submitted():
        form.kind.data = org.kind.value
        form.estates.data = sorted(org.estate_ids)
    return form


def _chosen_estates(form: OrganisationForm) -> list[Estate]:
    """The estates ticked (the service refuses any outside the community)."""
    return list(db.session.scalars(select(Estate).where(Estate.id.in_(form.estates.data or [])).order_by(Estate.name)))


@bp.route("/c/<slug>/admin/organisations", methods=["GET", "POST"])
@login_required
def admin_organisations(slug: str):
    """Register property firms and owner committees and list them."""
    community = get_community(slug)
    require(can_manage_organisations(current_user, community))
    form = _organisation_form(community)
    if form.validate_on_submit():
        try:
            org = services.register_organisation(
                community, kind=OrganisationKind(form.kind.data), name=form.name.data,
                estates=_chosen_estates(form), term_start=form.term_start.data,
                term_end=form.term_end.data, actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(_("%(name)s is registered. Grant the representative the role “Organisation representative” "
                    "under Roles.", name=org.name), "success")
            return redirect_to(url_for("evaluations.admin_organisations", slug=slug))
    return render_page("evaluations/admin/organisations.html", "evaluations/admin/organisations.html",
                       community=community, form=form, organisations=services.organisations_of(community),
                       status_code=form_status(form))


@bp.route("/c/<slug>/admin/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
@login_required
def edit_organisation(slug: str, organisation_id: int):
    """Correct an organisation's name, kind, estates or contract/term (audited)."""
    community = get_community(slug)
    require(can_manage_organisations(current_user, community))
    org = get_organisation(community, organisation_id)
    form = _organisation_form(community, org)
    if form.validate_on_submit():
        try:
            services.update_organisation(
                org, kind=OrganisationKind(form.kind.data), name=form.name.data,
                estates=_chosen_estates(form), term_start=form.term_start.data,
                term_end=form.term_end.data, actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(_("The changes to %(name)s are saved.", name=org.name), "success")
            return redirect_to(url_for("evaluations.admin_organisations", slug=slug))
    return render_page("evaluations/admin/organisation_edit.html", "evaluations/admin/organisation_edit.html",
                       community=community, org=org, form=form, kind_fixed=services.has_record(org),
                       status_code=form_status(form))


# --- Party branch ---------------------------------------------------------------------

@bp.get("/c/<slug>/branch")
@login_required
def dashboard(slug: str):
    """The Party branch's dashboard: ballot lists to review, organisations with warnings, work in progress,
    surveys."""
    from deliberation.proposals.models import RoundPhase
    from deliberation.proposals.queries import rounds_in_phase

    community = get_community(slug)
    require(is_party_branch(current_user, community))
    return render_page("evaluations/dashboard.html", "evaluations/dashboard.html", community=community,
                       reviews=rounds_in_phase(community.id, RoundPhase.branch_review),
                       summaries=services.organisation_summaries(community),
                       in_progress=services.evaluations_in_progress(community),
                       surveys=services.surveys_of(community))


@bp.get("/c/<slug>/branch/rubrics")
@login_required
def rubrics(slug: str):
    """Rubrics of the community: the defaults and the branch's adjusted copies."""
    community = get_community(slug)
    require(can_manage_rubrics(current_user, community))
    return render_page("evaluations/rubrics.html", "evaluations/rubrics.html", community=community,
                       rubrics=services.rubrics_of(community), in_use=services.rubrics_in_use(community),
                       part_labels=PART_LABELS)


@bp.get("/c/<slug>/branch/rubrics/<int:rubric_id>")
@login_required
def rubric(slug: str, rubric_id: int):
    """One rubric with its criteria, weights and score-band descriptions."""
    community = get_community(slug)
    require(can_manage_rubrics(current_user, community))
    item = get_rubric(community, rubric_id)
    return render_page("evaluations/rubric.html", "evaluations/rubric.html", community=community, rubric=item,
                       in_use=services.rubric_in_use(item), part_labels=PART_LABELS)


@bp.post("/c/<slug>/branch/rubrics/<int:rubric_id>/copy")
@login_required
def copy_rubric(slug: str, rubric_id: int):
    """Copy a rubric to adjust its criteria and weights."""
    community = get_community(slug)
    require(can_manage_rubrics(current_user, community))
    source = get_rubric(community, rubric_id)
    copy = services.copy_rubric(source, actor=current_user)
    db.session.commit()
    flash(_("A copy was made. Adjust it before using it for a survey or an evaluation."), "success")
    return redirect_to(url_for("evaluations.edit_rubric", slug=slug, rubric_id=copy.id))


def _criterion_inputs(form: RubricForm) -> list[services.CriterionInput]:
    inputs = []
    for entry in form.criteria.entries:
        data = entry.form
        if data.remove.data or (not (data.name.data or "").strip() and data.weight.data is None):
            continue
        inputs.append(services.CriterionInput(
            name=data.name.data or "", part=data.part.data or "", weight=data.weight.data,
            resident_facing=bool(data.resident_facing.data),
            bands=(data.band_excellent.data or "", data.band_good.data or "", data.band_pass.data or "",
                   data.band_fail.data or "")))
    return inputs


@bp.route("/c/<slug>/branch/rubrics/<int:rubric_id>/edit", methods=["GET", "POST"])
@login_required
def edit_rubric(slug: str, rubric_id: int):
    """Adjust a copied rubric that no survey or evaluation uses yet; weights must add up to 100."""
    community = get_community(slug)
    require(can_manage_rubrics(current_user, community))
    item = get_rubric(community, rubric_id)
    if item.is_default or services.rubric_in_use(item):
        flash(_("This rubric cannot change. Copy it to adjust the copy."), "info")
        return redirect_to(url_for("evaluations.rubric", slug=slug, rubric_id=item.id))
    if request.method == "POST":
        form = RubricForm()
    else:
        form = RubricForm(data={
            "name": item.name, "satisfaction_weight": item.satisfaction_weight,
            "criteria": [{"name": c.name, "part": c.part.value, "weight": c.weight,
                          "resident_facing": c.resident_facing, "band_excellent": c.band_excellent,
                          "band_good": c.band_good, "band_pass": c.band_pass, "band_fail": c.band_fail}
                         for c in item.criteria]})
        form.criteria.append_entry()  # one empty row to add a criterion
    if form.validate_on_submit():
        try:
            services.update_rubric(item, name=form.name.data, satisfaction_weight=form.satisfaction_weight.data,
                                   criteria=_criterion_inputs(form), actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(_("The rubric is saved."), "success")
            return redirect_to(url_for("evaluations.rubric", slug=slug, rubric_id=item.id))
    return render_page("evaluations/rubric_edit.html", "evaluations/rubric_edit.html", community=community,
                       rubric=item, form=form, status_code=form_status(form), blank=CriterionForm)


def _rubric_choices(community: Community, kind: OrganisationKind) -> list[SelectChoice]:
    return [SelectChoice(r.id, r.name) for r in services.rubrics_of(community, kind)]


@bp.route("/c/<slug>/organisations/<int:organisation_id>/surveys/new", methods=["GET", "POST"])
@login_required
def open_survey(slug: str, organisation_id: int):
    """Open a satisfaction survey window for an organisation."""
    community = get_community(slug)
    org = get_organisation(community, organisation_id)
    require(can_evaluate(current_user, org))
    form = SurveyForm()
    form.rubric.choices = _rubric_choices(community, org.kind)
    if request.method == "GET":
        form.closes_on.data = (utcnow() + timedelta(hours=8) + timedelta(days=14)).date()
    if form.validate_on_submit():
        try:
            chosen = db.session.get(Rubric, form.rubric.data) if form.rubric.data else None
            if chosen is None:
                raise DomainError(_("Choose a rubric for this kind of organisation."), field="rubric", status_code=422)
            survey = services.open_survey(org, rubric=chosen, closes_on=form.closes_on.data, actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(_("The survey is open. Residents of %(estates)s can answer it from the notice board.",
                    estates=org.estate_names), "success")
            return redirect_to(url_for("evaluations.survey", slug=slug, survey_id=survey.id))
    return render_page("evaluations/survey_new.html", "evaluations/survey_new.html", community=community, org=org,
                       form=form, status_code=form_status(form))


@bp.route("/c/<slug>/surveys/<int:survey_id>", methods=["GET", "POST"])
def survey(slug: str, survey_id: int):
    """A survey: residents of the served estates answer once; the branch sees turnout by building."""
    community = get_community(slug)
    item = get_survey(community, survey_id)
    items = item.rubric.resident_items
    answered = current_user.is_authenticated and services.has_answered(item, current_user)
    may_answer = can_answer_survey(current_user, item) and not answered
    form = survey_answer_form(items)
    if request.method == "POST":
        require(is_served_resident(current_user, item.organisation))
        if form.validate_on_submit():
            ratings = {c.id: optional_int(form[f"item_{c.id}"].data) for c in items}
            try:
                services.answer_survey(item, current_user, ratings=ratings, comment=form.comment.data)
            except DomainError as error:
                fail_form(form, error)
            else:
                db.session.commit()
                flash(_("Thank you. Your answers are counted without your name."), "success")
                return redirect_to(url_for("evaluations.survey", slug=slug, survey_id=item.id))
    details = can_view_survey_results(current_user, item)
    if services.settle_survey(item):  # the first view after its last day opens the sealed answers
        db.session.commit()
    results = services.survey_results(item, with_details=details) if details or not item.open_now else None
    return render_page("evaluations/survey.html", "evaluations/_survey_form.html", community=community,
                       survey=item, items=items, form=form, may_answer=may_answer, answered=answered,
                       results=results, details=details, close_form=EmptyForm(formdata=None),
                       status_code=form_status(form))


@bp.post("/c/<slug>/surveys/<int:survey_id>/close")
@login_required
def close_survey(slug: str, survey_id: int):
    """Close a survey before its last day."""
    community = get_community(slug)
    item = get_survey(community, survey_id)
    require(can_evaluate(current_user, item.organisation))
    if not is_confirmed():
        return confirmation_page(confirmations.close_survey(item),
                                 cancel_url=url_for("evaluations.survey", slug=slug, survey_id=item.id))
    services.close_survey(item, actor=current_user)
    db.session.commit()
    flash(_("The survey is closed."), "info")
    return redirect_to(url_for("evaluations.survey", slug=slug, survey_id=item.id))


@bp.route("/c/<slug>/organisations/<int:organisation_id>/evaluations/new", methods=["GET", "POST"])
@login_required
def new_evaluation(slug: str, organisation_id: int):
    """Start an evaluation of an organisation for a period."""
    community = get_community(slug)
    org = get_organisation(community, organisation_id)
    require(can_evaluate(current_user, org))
    form = EvaluationCreateForm()
    form.rubric.choices = _rubric_choices(community, org.kind)
    if request.method == "GET":
        form.period.data = periods.period_of(utcnow())  # the quarter now in Beijing; the branch may change it
    if form.validate_on_submit():
        try:
            chosen = db.session.get(Rubric, form.rubric.data) if form.rubric.data else None
            if chosen is None:
                raise DomainError(_("Choose a rubric for this kind of organisation."), field="rubric", status_code=422)
            ev = services.create_evaluation(org, period=form.period.data, rubric=chosen, actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            return redirect_to(url_for("evaluations.edit_evaluation", slug=slug, evaluation_id=ev.id))
    return render_page("evaluations/evaluation_new.html", "evaluations/evaluation_new.html", community=community,
                       org=org, form=form, status_code=form_status(form))


def _survey_choices(ev: Evaluation) -> list[SelectChoice]:
    """Only surveys that may count for this evaluation's period (evaluations/periods.py), told apart by
    period, dates and number of answers."""
    return [SelectChoice("", _("— none —"))] + [
        SelectChoice(o.survey.id, _("%(period)s · %(first)s to %(last)s · %(n)d answers", period=o.period,
                                    first=o.first_day.isoformat(), last=o.last_day.isoformat(), n=o.answers)
                     + " · " + (_("still open") if o.survey.open_now else _("closed")))
        for o in periods.countable_surveys(ev)]


@bp.route("/c/<slug>/evaluations/<int:evaluation_id>/edit", methods=["GET", "POST"])
@login_required
def edit_evaluation(slug: str, evaluation_id: int):
    """Score each criterion, choose the survey, write the findings, attach evidence."""
    community = get_community(slug)
    ev = get_evaluation(community, evaluation_id)
    require(can_change_evaluation(current_user, ev))
    criteria = ev.rubric.criteria
    if request.method == "POST":
        form = evaluation_form(criteria)
    else:
        scores = ev.score_map()
        form = evaluation_form(criteria, data={"narrative": ev.narrative, "survey": ev.survey_id,
                                               **{f"score_{c.id}": str(scores[c.id]) if c.id in scores else ""
                                                  for c in criteria}})
    form.survey.choices = _survey_choices(ev)
    if form.validate_on_submit():
        try:
            chosen = db.session.get(SatisfactionSurvey, form.survey.data) if form.survey.data else None
            services.record_evaluation(ev, scores={c.id: form[f"score_{c.id}"].data for c in criteria},
                                       narrative=form.narrative.data, survey=chosen, actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(_("Saved. Total so far: %(total)s.", total=ev.total if ev.total is not None else "—"), "success")
            return redirect_to(url_for("evaluations.evaluation", slug=slug, evaluation_id=ev.id))
    return render_page("evaluations/evaluation_edit.html", "evaluations/_evaluation_form.html", community=community,
                       ev=ev, form=form, photo_form=PhotoForm(formdata=None), status_code=form_status(form),
                       **_request_rates(ev.organisation_id, ev.period))


@bp.post("/c/<slug>/evaluations/<int:evaluation_id>/photos")
@login_required
def add_photo(slug: str, evaluation_id: int):
    """Attach an evidence photo to a draft."""
    community = get_community(slug)
    ev = get_evaluation(community, evaluation_id)
    require(can_change_evaluation(current_user, ev))
    photo_form = PhotoForm()
    if photo_form.validate_on_submit():
        try:
            services.add_photo(ev, data=photo_form.photo.data.read(), caption=photo_form.caption.data,
                               actor=current_user)
        except DomainError as error:
            fail_form(photo_form, error)
        else:
            db.session.commit()
            flash(_("The photo is attached."), "success")
            return redirect_to(url_for("evaluations.edit_evaluation", slug=slug, evaluation_id=ev.id))
    scores = ev.score_map()
    form = evaluation_form(ev.rubric.criteria, formdata=None, data={
        "narrative": ev.narrative, "survey": ev.survey_id,
        **{f"score_{c.id}": str(scores[c.id]) if c.id in scores else "" for c in ev.rubric.criteria}})
    form.survey.choices = _survey_choices(ev)
    return render_page("evaluations/evaluation_edit.html", "evaluations/evaluation_edit.html", community=community,
                       ev=ev, form=form, photo_form=photo_form, status_code=422,
                       **_request_rates(ev.organisation_id, ev.period))


@bp.post("/c/<slug>/evaluations/<int:evaluation_id>/photos/<int:photo_id>/remove")
@login_required
def remove_photo(slug: str, evaluation_id: int, photo_id: int):
    """Remove a photo from a draft."""
    community = get_community(slug)
    ev = get_evaluation(community, evaluation_id)
    require(can_change_evaluation(current_user, ev))
    item = db.get_or_404(EvaluationPhoto, photo_id)
    if item.evaluation_id != ev.id:
        abort(404)
    services.remove_photo(item, actor=current_user)
    db.session.commit()
    return redirect_to(url_for("evaluations.edit_evaluation", slug=slug, evaluation_id=ev.id))


def _lifecycle_action(slug: str, evaluation_id: int, action, success_message: str, *, confirm=None):
    community = get_community(slug)
    ev = get_evaluation(community, evaluation_id)
    require(can_evaluate(current_user, ev.organisation))
    if confirm is not None and not is_confirmed():
        return confirmation_page(confirm(ev), cancel_url=url_for("evaluations.evaluation", slug=slug,
                                                                  evaluation_id=ev.id))
    try:
        action(ev)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect_to(url_for("evaluations.evaluation", slug=slug, evaluation_id=ev.id))
    db.session.commit()
    flash(success_message, "success")
    return redirect_to(url_for("evaluations.evaluation", slug=slug, evaluation_id=ev.id))


@bp.post("/c/<slug>/evaluations/<int:evaluation_id>/submit")
@login_required
def submit_evaluation(slug: str, evaluation_id: int):
    """Submit a complete draft for a second confirmation."""
    return _lifecycle_action(slug, evaluation_id, lambda ev: services.submit_evaluation(ev, actor=current_user),
                             _("Submitted. Another branch member can now confirm and publish it."))


@bp.post("/c/<slug>/evaluations/<int:evaluation_id>/withdraw")
@login_required
def withdraw_evaluation(slug: str, evaluation_id: int):
    """Take a submitted evaluation back to draft."""
    return _lifecycle_action(slug, evaluation_id, lambda ev: services.withdraw_evaluation(ev, actor=current_user),
                             _("The evaluation is a draft again."))


@bp.post("/c/<slug>/evaluations/<int:evaluation_id>/publish")
@login_required
def publish_evaluation(slug: str, evaluation_id: int):
    """Confirm and publish a submitted evaluation (second member, or the same one after cooling off)."""
    form = PublishForm()
    confirm_own = bool(form.confirm_own.data)
    return _lifecycle_action(
        slug, evaluation_id,
        lambda ev: services.publish_evaluation(ev, actor=current_user, confirm_own=confirm_own,
                                               cooling_off=cooling_off()),
        _("Published. Residents see it on the organisation's page and the notice board."),
        confirm=confirmations.publish_evaluation)


@bp.route("/c/<slug>/evaluations/<int:evaluation_id>/correct", methods=["GET", "POST"])
@login_required
def correct_evaluation(slug: str, evaluation_id: int):
    """Start a corrected version of a published evaluation, with a public reason."""
    community = get_community(slug)
    ev = get_evaluation(community, evaluation_id)
    require(can_evaluate(current_user, ev.organisation))
    form = CorrectionForm()
    if form.validate_on_submit():
        try:
            correction = services.start_correction(ev, reason=form.reason.data, actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(_("A new version was started from the published one. Change it, then submit it for confirmation."),
                  "success")
            return redirect_to(url_for("evaluations.edit_evaluation", slug=slug, evaluation_id=correction.id))
    return render_page("evaluations/correct.html", "evaluations/correct.html", community=community, ev=ev, form=form,
                       status_code=form_status(form))


@bp.route("/c/<slug>/evaluations/<int:evaluation_id>/reply", methods=["GET", "POST"])
@login_required
def reply(slug: str, evaluation_id: int):
    """The organisation's representative posts its one public reply."""
    community = get_community(slug)
    ev = get_evaluation(community, evaluation_id)
    require(represents(current_user, ev.organisation) and ev.status == EvaluationStatus.published)
    form = ReplyForm()
    if form.validate_on_submit():
        try:
            services.post_reply(ev, author=current_user, body=form.body.data)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(_("Your reply is published."), "success")
            return redirect_to(url_for("evaluations.evaluation", slug=slug, evaluation_id=ev.id))
    existing = services.reply_for(ev)
    if existing is not None and not form.form_errors:
        form.form_errors.append(_("Your organisation has already replied to this evaluation."))
    status = 409 if existing is not None else form_status(form)
    return render_page("evaluations/reply.html", "evaluations/reply.html", community=community, ev=ev, form=form,
                       existing=existing, status_code=status)


@bp.get("/c/<slug>/evaluations/export.<fmt>")
@login_required
def export_evaluations(slug: str, fmt: str):
    """Published evaluations as CSV or XLSX, with Chinese headers, for the street office."""
    community = get_community(slug)
    require(can_export_evaluations(current_user, community))
    rows = services.export_rows(community)
    stamp = utcnow().strftime("%Y%m%d")
    if fmt == "csv":
        response = make_response(export.to_csv(rows, community.name))
        response.mimetype = "text/csv"
        response.charset = "utf-8"
    elif fmt == "xlsx":
        response = make_response(export.to_xlsx(rows, community.name))
        response.mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        abort(404)
    response.headers["Content-Disposition"] = f"attachment; filename=evaluations-{community.slug}-{stamp}.{fmt}"
    return response

