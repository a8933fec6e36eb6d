"""Rounds and proposals: public pages, resident actions, and the secretary's and Party branch's work."""

from __future__ import annotations

import functools

from flask import Blueprint, Response, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import FileStorage
from wtforms import SelectChoice

from deliberation.communities.loaders import get_community
from deliberation.communities.models import Community
from deliberation.communities.services import buildings_of
from deliberation.core import permissions as perm
from deliberation.core import upload_stash
from deliberation.core.confirm import confirmation_page, is_confirmed
from deliberation.core.errors import DomainError
from deliberation.core.forms import apply_domain_error, fail_form, form_status, safe_next
from deliberation.core.htmx import redirect_to, render_page
from deliberation.core.inputs import int_param
from deliberation.core.permissions import require
from deliberation.extensions import db
from deliberation.proposals import confirmations, exports, queries, services
from deliberation.proposals import notice_board as _notice_board  # noqa: F401  (registers sections)
from deliberation.proposals.forms import (
    AcceptForm,
    AnswerForm,
    CommentForm,
    MergeForm,
    ObjectionForm,
    ProgressForm,
    ProposalFilterForm,
    ProposalForm,
    RatingForm,
    ReasonForm,
    ResolutionForm,
    RoundForm,
)
from deliberation.proposals.models import (
    STATUS_LABELS,
    Category,
    Comment,
    Objection,
    Proposal,
    ProposalStatus,
    Round,
    RoundPhase,
)

bp = Blueprint("proposals", __name__, url_prefix="/c/<slug>")


# --- loaders --------------------------------------------------------------------------


@functools.cache
def _round_by_id():
    # Built once: a constant statement reuses its compiled SQL (every round page starts here).
    return select(Round).where(Round.id == bindparam("round_id")).options(joinedload(Round.community))


def get_round(slug: str, round_id: int) -> Round:
    round_ = db.session.execute(_round_by_id(), {"round_id": round_id}).scalar_one_or_none()
    if round_ is None or round_.community.slug != slug:
        abort(404)
    return round_


def get_proposal(slug: str, proposal_id: int) -> Proposal:
    proposal = db.get_or_404(Proposal, proposal_id)
    if proposal.round.community.slug != slug:
        abort(404)
    return proposal


def get_comment(slug: str, comment_id: int) -> Comment:
    comment = db.get_or_404(Comment, comment_id)
    if comment.proposal.round.community.slug != slug:
        abort(404)
    return comment


def _files(field) -> list[bytes]:
    """The files uploaded in a multiple-file field (on the edit form, without an upload, the field
    holds the proposal's existing photos: those are not uploads)."""
    return [f.read() for f in (field.data or []) if isinstance(f, FileStorage) and f.filename]


def _place_choices(community: Community) -> list[SelectChoice]:
    """One group per estate: the whole estate first, then its buildings (a group must be contiguous,
    or the browser shows the estate twice)."""
    choices = [SelectChoice("", _("Not tied to one place"))]
    buildings = buildings_of(community)
    for estate in sorted(community.estates, key=lambda e: e.name):
        choices.append(SelectChoice(f"e{estate.id}", _("Whole estate %(name)s", name=estate.name),
                                    optgroup=estate.name))
        choices.extend(SelectChoice(f"b{b.id}", b.name, optgroup=estate.name) for b in buildings
                       if b.estate_id == estate.id)
    return choices


def _keep_photos(form: ProposalForm) -> str | None:
    """Put this request's valid photos aside with those kept from earlier tries; refused ones get their
    message on the photo field. Returns the stash token the form carries on."""
    token = request.form.get("photo_stash") or None
    if not form.is_submitted():
        return None
    upload_stash.drop(token, request.form.getlist("drop_photo"))
    token, refused = upload_stash.put_aside(token, _files(form.photos))
    db.session.commit()  # kept whatever happens next, and whichever host gets the next try
    form.refused_photos = [error.message for error in refused]  # shown once the form has validated
    return token


def _validate_proposal(form: ProposalForm, round_: Round) -> bool:
    """The form's checks and the service's rules together, so every mistake shows at once."""
    valid = form.validate()
    form.photos.errors = [*form.photos.errors, *getattr(form, "refused_photos", [])]
    for problem in services.proposal_problems(round_, _proposal_fields(form)):
        field = getattr(form, problem.field or "", None)
        if field is None or not field.errors:  # one message per field: the form's own comes first
            apply_domain_error(form, problem)
        valid = False
    return valid and not form.photos.errors


def _proposal_fields(form: ProposalForm) -> services.ProposalFields:
    estate_id, building_id = form.place_ids()
    category = form.category.data if form.category.data in Category.__members__ else None
    return services.ProposalFields(title=None if form.title.errors else form.title.data,
                                   description=None if form.description.errors else form.description.data,
                                   category=Category(category) if category else None,
                                   cost=None if form.cost.errors else form.cost.data,
                                   estate_id=estate_id, building_id=building_id,
                                   location_text=form.location_text.data or "")


def _round_settings(form: RoundForm) -> services.RoundSettings:
    return services.RoundSettings(
        title=form.title.data, description=form.description.data or "", budget=form.budget.data,
        project_cap=form.project_cap.data, cap_services=form.cap_services.data, cap_goods=form.cap_goods.data,
        cap_works=form.cap_works.data, support_threshold=form.support_threshold.data or 0,
        branch_review_enabled=form.branch_review_enabled.data, publicity_days=form.publicity_days.data,
        planned=form.planned(),
    )


# --- rounds ---------------------------------------------------------------------------

@bp.get("/rounds")
def rounds(slug: str):
    """All funding rounds of the community."""
    community = get_community(slug)
    all_rounds = db.session.scalars(select(Round).where(Round.community_id == community.id)
                                    .order_by(Round.created_at.desc())).all()
    return render_page("proposals/rounds.html", "proposals/rounds.html", community=community, rounds=all_rounds)


@bp.route("/rounds/new", methods=["GET", "POST"])
@login_required
def new_round(slug: str):
    """Create a round: budget, caps, threshold and planned dates."""
    community = get_community(slug)
    require(perm.can_run_rounds(current_user, community))
    form = RoundForm()
    if form.validate_on_submit():
        try:
            round_ = services.create_round(community, settings=_round_settings(form), actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(_("Round %(title)s is open for proposals.", title=round_.title), "success")
            return redirect_to(url_for("proposals.round_detail", slug=slug, round_id=round_.id))
    return render_page("proposals/round_form.html", "proposals/round_form.html", community=community, form=form,
                       round=None, status_code=form_status(form))


@bp.route("/rounds/<int:round_id>/edit", methods=["GET", "POST"])
@login_required
def edit_round(slug: str, round_id: int):
    """Change a round's settings while it collects proposals."""
    round_ = get_round(slug, round_id)
    require(perm.can_run_rounds(current_user, round_.community) and round_.phase == RoundPhase.collecting)
    form = RoundForm(obj=round_)
    if request.method == "GET":
        for step in round_.steps:
            getattr(form, f"start_{step.phase.value}").data = step.planned_start
    if form.validate_on_submit():
        try:
            services.update_round(round_, settings=_round_settings(form), actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(_("The round's settings are saved."), "success")
            return redirect_to(url_for("proposals.round_detail", slug=slug, round_id=round_id))
    return render_page("proposals/round_form.html", "proposals/round_form.html", community=round_.community,
                       form=form, round=round_, status_code=form_status(form))


@bp.get("/rounds/<int:round_id>")
def round_detail(slug: str, round_id: int):
    """The round: timeline of phases and its proposals with filters (the list swaps in place with htmx)."""
    round_ = get_round(slug, round_id)
    form = ProposalFilterForm(request.args)
    form.status.choices = [SelectChoice("", _("All statuses"))] + [
        SelectChoice(s.value, label) for s, label in STATUS_LABELS.items()]
    form.estate.choices = [SelectChoice("", _("All estates"))] + [
        SelectChoice(str(e.id), e.name) for e in round_.community.estates]
    form.validate()
    filters = queries.ProposalFilters(
        q=(form.q.data or "").strip() if not form.q.errors else "", category=form.category.data or "",
        status=form.status.data or "", sort=form.sort.data or "newest",
        estate_id=int_param(request.args, "estate"),
    )
    page = db.paginate(queries.list_query(round_, filters), page=int_param(request.args, "page", 1),
                       per_page=queries.PER_PAGE, error_out=False)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    turnout = None
    if round_.phase == RoundPhase.voting:
        from deliberation.votes.services import turnout as voting_turnout

        turnout = voting_turnout(round_)
    blockers = (services.advance_blockers(round_)
                if perm.can_advance_round(current_user, round_) and round_.next_phase() else [])
    reconciliation = None
    if perm.is_voting_open(round_) and perm.can_manage_ballots(current_user, round_):
        from deliberation.votes.services import paper_reconciliation

        reconciliation = paper_reconciliation(round_)
    return render_page("proposals/round.html", "proposals/_proposal_list.html", community=round_.community,
                       round=round_, form=form, page=page, args=args, turnout=turnout, blockers=blockers,
                       voted=_has_voted(round_), reconciliation=reconciliation)


def _has_voted(round_: Round) -> bool:
    """Whether the visitor (or their household) has a ballot in this round: the page says so instead of
    offering a vote button that would be refused."""
    if round_.phase in (RoundPhase.collecting, RoundPhase.screening, RoundPhase.branch_review):
        return False
    if not perm.is_verified_resident(current_user, round_.community):
        return False
    from deliberation.votes.services import participation_of

    return participation_of(round_, current_user) is not None


@bp.post("/rounds/<int:round_id>/advance")
@login_required
def advance_round(slug: str, round_id: int):
    """Move the round to its next phase."""
    round_ = get_round(slug, round_id)
    require(perm.can_advance_round(current_user, round_))
    # Ask only when the move can happen; otherwise say at once what still blocks it.
    if not services.advance_blockers(round_) and not is_confirmed():
        return confirmation_page(confirmations.advance_round(round_),
                                 cancel_url=url_for("proposals.round_detail", slug=slug, round_id=round_id))
    try:
        phase = services.advance_round(round_, actor=current_user)
    except DomainError as error:  # say on the round's page what still blocks it (e.g. unreconciled paper)
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("The round is now in the phase: %(phase)s.", phase=phase.label), "success")
    return redirect_to(url_for("proposals.round_detail", slug=slug, round_id=round_id))


@bp.route("/rounds/<int:round_id>/resolution", methods=["GET", "POST"])
@login_required
def record_resolution(slug: str, round_id: int):
    """Enter the council's resolution: which projects on the ballot are funded."""
    round_ = get_round(slug, round_id)
    require(perm.can_record_resolution(current_user, round_))
    ballot = services.proposals_in(round_, ProposalStatus.on_ballot)
    form = ResolutionForm()
    form.funded.choices = [SelectChoice(p.id, f"{p.title}（{p.cost:,} 元）") for p in ballot]
    if request.method == "GET":
        from deliberation.votes.services import result_of

        result = result_of(round_)
        form.funded.data = result.final_winners if result else []
    if form.validate_on_submit():
        try:
            services.record_resolution(round_, funded_ids=form.funded.data, note=form.note.data, actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(_("The resolution is recorded and the funded projects are in publicity."), "success")
            return redirect_to(url_for("proposals.round_detail", slug=slug, round_id=round_id))
    return render_page("proposals/resolution.html", "proposals/resolution.html", community=round_.community,
                       round=round_, form=form, status_code=form_status(form))


@bp.get("/rounds/<int:round_id>/moderation")
@login_required
def moderation(slug: str, round_id: int):
    """Reported and hidden comments of the round."""
    round_ = get_round(slug, round_id)
    require(perm.can_moderate(current_user, round_.community))
    return render_page("proposals/moderation.html", "proposals/moderation.html", community=round_.community,
                       round=round_, comments=queries.reported_comments(round_))


@bp.get("/rounds/<int:round_id>/proposals.<any(csv, xlsx):fmt>")
@login_required
def export(slug: str, round_id: int, fmt: str):
    """Download the round's proposals for the street office."""
    round_ = get_round(slug, round_id)
    require(perm.can_run_rounds(current_user, round_.community))
    if fmt == "csv":
        body, mimetype = exports.to_csv(round_), "text/csv; charset=utf-8"
    else:
        body, mimetype = exports.to_xlsx(round_), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    filename = f"round-{round_.id}-proposals.{fmt}"
    return Response(body, content_type=mimetype, headers={"Content-Disposition": f"attachment; filename={filename}"})


# --- proposals ------------------------------------------------------------------------

@bp.route("/rounds/<int:round_id>/propose", methods=["GET", "POST"])
@login_required
def propose(slug: str, round_id: int):
    """A verified resident proposes a micro-project."""
    round_ = get_round(slug, round_id)
    if round_.phase != RoundPhase.collecting:
        raise DomainError(_("This round is not collecting proposals."))
    require(perm.can_submit_proposal(current_user, round_))
    form = ProposalForm()
    form.place.choices = _place_choices(round_.community)
    del form.remove_photos
    stash = _keep_photos(form)
    if form.is_submitted() and _validate_proposal(form, round_):
        try:
            proposal = services.submit_proposal(round_, current_user, fields=_proposal_fields(form),
                                                photos=upload_stash.contents(stash))
        except DomainError as error:
            fail_form(form, error)
        else:
            upload_stash.clear(stash)
            db.session.commit()
            flash(_("Your proposal is published. Neighbours can now co-sign it."), "success")
            return redirect_to(url_for("proposals.detail", slug=slug, proposal_id=proposal.id))
    return render_page("proposals/proposal_form.html", "proposals/proposal_form.html", community=round_.community,
                       round=round_, form=form, proposal=None, stash=stash, kept=upload_stash.names(stash),
                       status_code=form_status(form))


@bp.route("/proposals/<int:proposal_id>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str, proposal_id: int):
    """The proposer edits the proposal until screening starts."""
    proposal = get_proposal(slug, proposal_id)
    require(perm.can_edit_proposal(current_user, proposal))
    form = ProposalForm(obj=proposal)
    form.place.choices = _place_choices(proposal.round.community)
    form.remove_photos.choices = [SelectChoice(p.id, _("Photo %(n)d", n=n)) for n, p in
                                  enumerate(proposal.photos, start=1)]
    if request.method == "GET":
        form.category.data = proposal.category.value
        form.place.data = (f"b{proposal.building_id}" if proposal.building_id else
                           f"e{proposal.estate_id}" if proposal.estate_id else "")
    stash = _keep_photos(form)
    if form.is_submitted() and _validate_proposal(form, proposal.round):
        try:
            services.update_proposal(proposal, fields=_proposal_fields(form),
                                     new_photos=upload_stash.contents(stash),
                                     remove_photo_ids=form.remove_photos.data or [], actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            upload_stash.clear(stash)
            db.session.commit()
            flash(_("Your changes are saved."), "success")
            return redirect_to(url_for("proposals.detail", slug=slug, proposal_id=proposal_id))
    return render_page("proposals/proposal_form.html", "proposals/proposal_form.html",
                       community=proposal.round.community, round=proposal.round, form=form, proposal=proposal,
                       stash=stash, kept=upload_stash.names(stash), status_code=form_status(form))


def _detail_context(proposal: Proposal) -> dict:
    average, count = services.rating_summary(proposal)
    return dict(community=proposal.round.community, round=proposal.round, proposal=proposal,
                supported=services.has_supported(proposal, current_user),
                comments=queries.comments_of(proposal), objections=queries.objections_of(proposal),
                updates=queries.progress_of(proposal),
                rating_average=average, rating_count=count, comment_form=CommentForm(),
                objection_form=ObjectionForm(), rating_form=RatingForm())


@bp.get("/proposals/<int:proposal_id>")
def detail(slug: str, proposal_id: int):
    """A proposal with its photos, co-signatures, discussion, objections, progress and rating."""
    proposal = get_proposal(slug, proposal_id)
    return render_page("proposals/detail.html", "proposals/detail.html", **_detail_context(proposal))


@bp.post("/proposals/<int:proposal_id>/support")
@login_required
def support(slug: str, proposal_id: int):
    """Co-sign (附议) a proposal."""
    proposal = get_proposal(slug, proposal_id)
    require(perm.can_support(current_user, proposal))
    services.add_support(proposal, current_user)
    db.session.commit()
    return _support_response(proposal)


@bp.post("/proposals/<int:proposal_id>/withdraw-support")
@login_required
def withdraw_support(slug: str, proposal_id: int):
    """Withdraw a co-signature while the round collects proposals."""
    proposal = get_proposal(slug, proposal_id)
    require(perm.can_support(current_user, proposal))
    services.withdraw_support(proposal, current_user)
    db.session.commit()
    return _support_response(proposal)


def _support_response(proposal: Proposal):
    from deliberation.core.htmx import is_htmx_request

    if is_htmx_request():
        return render_page("proposals/_support_panel.html", "proposals/_support_panel.html", proposal=proposal,
                           round=proposal.round, community=proposal.round.community,
                           supported=services.has_supported(proposal, current_user))
    return redirect_to(url_for("proposals.detail", slug=proposal.round.community.slug, proposal_id=proposal.id))


@bp.post("/proposals/<int:proposal_id>/comments")
@login_required
def comment(slug: str, proposal_id: int):
    """Post a comment or a reply."""
    proposal = get_proposal(slug, proposal_id)
    require(perm.can_comment(current_user, proposal))
    form = CommentForm()
    if form.validate_on_submit():
        parent_id = int_param(request.form, "parent_id")
        parent = db.session.get(Comment, parent_id) if parent_id is not None else None
        try:
            new = services.add_comment(proposal, current_user, body=form.body.data, parent=parent)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            return redirect_to(url_for("proposals.detail", slug=slug, proposal_id=proposal_id,
                                       _anchor=f"comment-{new.id}"))
    context = _detail_context(proposal)
    context["comment_form"] = form
    return render_page("proposals/detail.html", "proposals/detail.html", status_code=422, **context)


@bp.post("/comments/<int:comment_id>/report")
@login_required
def report_comment(slug: str, comment_id: int):
    """Report a comment to the secretary."""
    comment_ = get_comment(slug, comment_id)
    require(perm.can_report_comment(current_user, comment_))
    first = services.report_comment(comment_, current_user)
    db.session.commit()
    flash(_("Thank you: the secretary will review this comment.") if first else
          _("You have already reported this comment."), "info")
    return redirect_to(url_for("proposals.detail", slug=slug, proposal_id=comment_.proposal_id,
                               _anchor=f"comment-{comment_.id}"))


@bp.route("/comments/<int:comment_id>/<any(hide, restore):action>", methods=["GET", "POST"])
@login_required
def moderate(slug: str, comment_id: int, action: str):
    """Hide or restore a comment with a reason."""
    comment_ = get_comment(slug, comment_id)
    require(perm.can_moderate(current_user, comment_.proposal.round.community))
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            services.moderate_comment(comment_, hide=action == "hide", actor=current_user, reason=form.reason.data)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(_("The comment is hidden.") if action == "hide" else _("The comment is visible again."), "info")
            return redirect_to(url_for("proposals.moderation", slug=slug, round_id=comment_.proposal.round_id))
    return render_page("proposals/moderate.html", "proposals/moderate.html",
                       community=comment_.proposal.round.community,
                       comment=comment_, action=action, form=form, status_code=form_status(form))


@bp.route("/proposals/<int:proposal_id>/accept", methods=["GET", "POST"])
@login_required
def accept(slug: str, proposal_id: int):
    """Accept a proposal during screening (below the co-signature threshold, with a public reason)."""
    proposal = get_proposal(slug, proposal_id)
    require(perm.can_screen(current_user, proposal))
    form = AcceptForm()
    if form.validate_on_submit():
        try:
            services.accept_proposal(proposal, actor=current_user, reason=form.reason.data)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(_("%(title)s is accepted.", title=proposal.title), "success")
            return redirect_to(safe_next(form.next.data, url_for("proposals.detail", slug=slug,
                                                                  proposal_id=proposal_id)))
    elif request.method == "GET":
        form.next.data = request.args.get("next", "")
    return render_page("proposals/accept.html", "proposals/accept.html", community=proposal.round.community,
                       proposal=proposal, form=form, status_code=form_status(form))


@bp.get("/rounds/<int:round_id>/screening")
@login_required
def screening(slug: str, round_id: int):
    """The secretary's queue: proposals still to screen, with what each one needs."""
    round_ = get_round(slug, round_id)
    require(perm.can_run_rounds(current_user, round_.community))
    return render_page("proposals/screening.html", "proposals/screening.html", community=round_.community,
                       round=round_, queue=services.screening_queue(round_),
                       blockers=services.advance_blockers(round_))


def _reason_action(slug: str, proposal_id: int, *, allowed, service, template_title, done_message,
                   consequence=None):
    """A decision with a public reason; its own page, which says what will happen, is the confirmation."""
    proposal = get_proposal(slug, proposal_id)
    require(allowed(current_user, proposal))
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            service(proposal, actor=current_user, reason=form.reason.data)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(done_message, "info")
            return redirect_to(url_for("proposals.detail", slug=slug, proposal_id=proposal_id))
    return render_page("proposals/reason.html", "proposals/reason.html", community=proposal.round.community,
                       proposal=proposal, form=form, title=template_title, consequence=consequence,
                       status_code=form_status(form))


@bp.route("/proposals/<int:proposal_id>/reject", methods=["GET", "POST"])
@login_required
def reject(slug: str, proposal_id: int):
    """Reject a proposal during screening, with a public reason."""
    return _reason_action(slug, proposal_id, allowed=perm.can_screen, service=services.reject_proposal,
                          template_title=_("Do not accept this proposal"),
                          done_message=_("The proposal is not accepted; the reason is public."))


@bp.route("/proposals/<int:proposal_id>/strike", methods=["GET", "POST"])
@login_required
def strike(slug: str, proposal_id: int):
    """The Party branch strikes an accepted item, with a public reason."""
    return _reason_action(slug, proposal_id, allowed=perm.can_strike, service=services.strike_proposal,
                          template_title=_("Strike from the ballot list"),
                          done_message=_("The item is struck from the ballot list; the reason is public."),
                          consequence=_("The item will not be on the ballot and cannot be put back; "
                                        "everyone can read the reason."))


@bp.route("/proposals/<int:proposal_id>/merge", methods=["GET", "POST"])
@login_required
def merge(slug: str, proposal_id: int):
    """Merge a proposal into another one of the round; co-signatures move over."""
    proposal = get_proposal(slug, proposal_id)
    require(perm.can_screen(current_user, proposal))
    candidates = [p for p in services.proposals_in(proposal.round, ProposalStatus.submitted, ProposalStatus.accepted)
                  if p.id != proposal.id]
    form = MergeForm()
    form.target.choices = [SelectChoice(p.id, f"#{p.id} {p.title}") for p in candidates]
    if form.validate_on_submit():
        target = db.session.get(Proposal, form.target.data)
        try:
            if target is None:
                raise DomainError(_("Choose another proposal of the same round."), field="target", status_code=422)
            moved = services.merge_proposal(proposal, into=target, actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(_("Merged into %(title)s; %(n)d co-signatures moved over.", title=target.title, n=moved), "info")
            return redirect_to(url_for("proposals.detail", slug=slug, proposal_id=target.id))
    return render_page("proposals/merge.html", "proposals/merge.html", community=proposal.round.community,
                       proposal=proposal, form=form, status_code=form_status(form))


@bp.post("/proposals/<int:proposal_id>/objections")
@login_required
def object_to(slug: str, proposal_id: int):
    """File an objection to a funded project during publicity."""
    proposal = get_proposal(slug, proposal_id)
    require(perm.can_object(current_user, proposal))
    form = ObjectionForm()
    if form.validate_on_submit():
        try:
            services.file_objection(proposal, current_user, body=form.body.data)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(_("Your objection is filed; the secretary will answer it publicly."), "success")
            return redirect_to(url_for("proposals.detail", slug=slug, proposal_id=proposal_id, _anchor="objections"))
    context = _detail_context(proposal)
    context["objection_form"] = form
    return render_page("proposals/detail.html", "proposals/detail.html", status_code=422, **context)


@bp.route("/objections/<int:objection_id>/answer", methods=["GET", "POST"])
@login_required
def answer_objection(slug: str, objection_id: int):
    """Answer an objection publicly."""
    objection = db.get_or_404(Objection, objection_id)
    proposal = get_proposal(slug, objection.proposal_id)
    require(perm.can_answer_objection(current_user, proposal))
    form = AnswerForm()
    if form.validate_on_submit():
        try:
            services.answer_objection(objection, actor=current_user, answer=form.answer.data)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(_("Your answer is published."), "success")
            return redirect_to(url_for("proposals.detail", slug=slug, proposal_id=proposal.id, _anchor="objections"))
    return render_page("proposals/answer.html", "proposals/answer.html", community=proposal.round.community,
                       proposal=proposal, objection=objection, form=form, status_code=form_status(form))


@bp.route("/proposals/<int:proposal_id>/progress", methods=["GET", "POST"])
@login_required
def progress(slug: str, proposal_id: int):
    """Post a progress update with photos; may mark the project completed."""
    proposal = get_proposal(slug, proposal_id)
    require(perm.can_post_progress(current_user, proposal))
    form = ProgressForm()
    if form.validate_on_submit():
        try:
            services.post_progress(proposal, actor=current_user, body=form.body.data, photos=_files(form.photos),
                                   completed=form.completed.data)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(_("The progress update is published."), "success")
            return redirect_to(url_for("proposals.detail", slug=slug, proposal_id=proposal_id, _anchor="progress"))
    return render_page("proposals/progress.html", "proposals/progress.html", community=proposal.round.community,
                       proposal=proposal, form=form, status_code=form_status(form))


@bp.post("/proposals/<int:proposal_id>/rating")
@login_required
def rate(slug: str, proposal_id: int):
    """Rate a completed project from 1 to 5 stars, once."""
    proposal = get_proposal(slug, proposal_id)
    require(perm.can_rate(current_user, proposal))
    form = RatingForm()
    if form.validate_on_submit():
        try:
            services.rate_project(proposal, current_user, stars=form.stars.data)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(_("Thank you for your rating."), "success")
            return redirect_to(url_for("proposals.detail", slug=slug, proposal_id=proposal_id, _anchor="rating"))
    context = _detail_context(proposal)
    context["rating_form"] = form
    return render_page("proposals/detail.html", "proposals/detail.html", status_code=422, **context)
