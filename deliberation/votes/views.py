"""The ballot, paper ballots, results and the public ballot list."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import to_user_timezone, to_utc
from flask_login import current_user, login_required
from openpyxl import Workbook
from wtforms import SelectChoice

from deliberation.auth.models import User
from deliberation.core import audit, audit_stamp, live
from deliberation.core import permissions as perm
from deliberation.core.confirm import confirmation_page, is_confirmed
from deliberation.core.errors import DomainError
from deliberation.core.forms import fail_form, form_status
from deliberation.core.htmx import redirect_to, render_page
from deliberation.core.permissions import require
from deliberation.core.text import spreadsheet_cell
from deliberation.extensions import db
from deliberation.proposals.models import BallotType, CountingRule, Round
from deliberation.proposals.views import get_round
from deliberation.votes import casting, confirmations, explain, exports, receipt_stash, services
from deliberation.votes import choices as ballot_choices
from deliberation.votes.forms import (
    BallotForm,
    BallotRulesForm,
    OverrideForm,
    PaperSheetForm,
    PaperVoterForm,
    ReceiptForm,
    VotingCloseForm,
    WithdrawPaperVoterForm,
)
from deliberation.votes.models import BallotParticipation, PaperEntry

bp = Blueprint("votes", __name__, url_prefix="/c/<slug>/rounds/<int:round_id>")


def _ballot_form(round_: Round, items: list) -> BallotForm:
    form = BallotForm()
    form.choices.choices = [SelectChoice(p.id, p.title) for p in items]
    return form


def _posted(round_: Round, *, prefix: str = ""):
    """The raw choices of the posted ballot or sheet, whatever the round's ballot type."""
    return ballot_choices.from_form(round_, request.form, prefix=prefix)


def _ballot_page(round_: Round, form: BallotForm, items, *, raw=(), status_code: int = 200):
    check = services.check_choices(round_, raw, items)
    return render_page("votes/ballot.html", "votes/_ballot_meter.html", community=round_.community, round=round_,
                       form=form, items=items, check=check, status_code=status_code)


def _require_can_vote(round_: Round) -> None:
    if not perm.is_voting_open(round_):
        raise DomainError(_("Voting is not open in this round."))
    services.load_voter_residencies(current_user._get_current_object())
    if perm.is_pending_resident(current_user, round_.community):
        raise DomainError(_("Your residency in %(community)s is waiting for the community office to verify it; "
                            "you can vote once it is verified. If it takes more than a few days, visit the "
                            "community office (社区工作站) with proof that you live here.",
                            community=round_.community.name), status_code=403)
    require(perm.can_vote(current_user, round_))


def _require_can_cast(round_: Round) -> None:
    """Voting is open, the user may vote and has not voted yet: the ballot pages say so up front."""
    _require_can_vote(round_)
    if services.participation_of(round_, current_user) is not None:
        raise DomainError(services.ALREADY_VOTED)


@bp.get("/vote")
@login_required
def ballot(slug: str, round_id: int):
    """The ballot: the projects on it, a budget meter and the rules."""
    round_ = get_round(slug, round_id)
    _require_can_vote(round_)
    if services.participation_of(round_, current_user) is not None:
        # Back to the round, which says "you have voted" and where the ballot list will be.
        flash(_("You have already voted in this round (or your household has); a vote cannot be changed."), "info")
        return redirect_to(url_for("proposals.round_detail", slug=slug, round_id=round_id))
    items = services.ballot_items(round_)
    return _ballot_page(round_, _ballot_form(round_, items), items)


@bp.post("/vote/check")
@login_required
def check(slug: str, round_id: int):
    """Recompute the budget meter for the ticked projects (htmx; POST keeps choices out of logs)."""
    round_ = get_round(slug, round_id)
    require(perm.can_vote(current_user, round_))
    options = services.ballot_options(round_)  # every tick asks: ids, titles and costs are enough
    return render_page("votes/_ballot_meter.html", "votes/_ballot_meter.html", round=round_,
                       check=services.check_choices(round_, _posted(round_), options))


@bp.post("/vote/confirm")
@login_required
def confirm(slug: str, round_id: int):
    """Show the chosen projects once more before the ballot is cast."""
    round_ = get_round(slug, round_id)
    _require_can_cast(round_)
    items = services.ballot_items(round_)
    form = _ballot_form(round_, items)
    form.validate_on_submit()
    raw = _posted(round_)
    check_ = services.check_choices(round_, raw, items)
    if not check_.ok or request.form.get("change"):
        return _ballot_page(round_, form, items, raw=raw, status_code=422 if not check_.ok else 200)
    return render_page("votes/confirm.html", "votes/confirm.html", community=round_.community, round=round_,
                       form=form, check=check_)


@bp.post("/vote/cast")
@login_required
def cast(slug: str, round_id: int):
    """Cast the ballot: final, counted once; the receipt code goes to this browser only, never a log or URL."""
    voter = current_user._get_current_object()
    ballot = casting.ballot_to_cast(slug, round_id, voter.id)  # one statement: what the cast reads, locked
    if ballot is None:  # not an open round this verified resident may vote in: the full checks say what
        _require_can_vote(get_round(slug, round_id))
        raise DomainError(_("The round changed a moment ago: please cast your ballot again."))
    # The CSRF token was checked before the view (CSRFProtect, every POST). This transaction holds the
    # round open (and, on SQLite, the write lock) from here: the checks below are pure, and a refused
    # ballot lets go before its page is rendered. The service checks the choices again, and its unique
    # keys refuse a second ballot.
    raw = _posted(ballot)
    if not services.check_choices(ballot, raw, ballot.options).ok:
        db.session.rollback()
        return _refused(get_round(slug, round_id), raw)
    code = services.cast(ballot, voter, choices=raw)
    db.session.commit()
    # POST → redirect → GET: the receipt page survives reload, back, language and text size.
    receipt_stash.keep(ballot.id, voter.id, services.format_receipt(code))
    return redirect_to(url_for("votes.receipt", slug=slug, round_id=round_id))


def _refused(round_: Round, raw):
    """The ballot again, saying what is wrong with the choices posted (nothing was stored)."""
    _require_can_cast(round_)
    items = services.ballot_items(round_)
    form = _ballot_form(round_, items)
    form.validate_on_submit()
    return _ballot_page(round_, form, items, raw=raw, status_code=422)


@bp.get("/vote/receipt")
@login_required
def receipt(slug: str, round_id: int):
    """The receipt code of the ballot just cast, shown in this browser for a short while only."""
    round_ = get_round(slug, round_id)
    code = receipt_stash.shown(round_.id, current_user.id)
    if code is None:
        flash(_("The receipt code is shown only right after voting, in the browser that voted, for %(minutes)d "
                "minutes.", minutes=receipt_stash.RECEIPT_MINUTES), "info")
        return redirect_to(url_for("proposals.round_detail", slug=slug, round_id=round_id))
    response = render_page("votes/receipt.html", "votes/receipt.html", community=round_.community, round=round_,
                           code=code, minutes=receipt_stash.RECEIPT_MINUTES)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/vote/receipt/noted")
@login_required
def receipt_noted(slug: str, round_id: int):
    """The voter has noted the receipt code: this browser stops showing it."""
    round_ = get_round(slug, round_id)
    if receipt_stash.shown(round_.id, current_user.id) is not None:
        receipt_stash.forget()
    return redirect_to(url_for("proposals.round_detail", slug=slug, round_id=round_id))


@bp.route("/ballot-rules", methods=["GET", "POST"])
@login_required
def ballot_rules(slug: str, round_id: int):
    """Set the ballot rules before voting opens."""
    round_ = get_round(slug, round_id)
    require(perm.can_manage_ballots(current_user, round_))
    form = BallotRulesForm(obj=round_)
    if request.method == "GET":
        form.per_household.data = round_.ballot_per_household
        form.ballot_type.data = round_.ballot_type.value
        form.counting_rule.data = round_.counting_rule.value
    if form.validate_on_submit():
        try:
            services.set_ballot_rules(round_, per_household=form.per_household.data,
                                      ballot_type=BallotType(form.ballot_type.data),
                                      max_approvals=form.max_approvals.data, points_total=form.points_total.data,
                                      points_per_project=form.points_per_project.data,
                                      must_fit_budget=form.must_fit_budget.data,
                                      counting_rule=CountingRule(form.counting_rule.data), actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(_("The ballot rules are saved."), "success")
            return redirect_to(url_for("proposals.round_detail", slug=slug, round_id=round_id))
    return render_page("votes/rules.html", "votes/rules.html", community=round_.community, round=round_, form=form,
                       locked=round_.phase not in services.PHASES_BEFORE_VOTING, status_code=form_status(form))


@bp.route("/voting-close", methods=["GET", "POST"])
@login_required
def voting_close(slug: str, round_id: int):
    """Announce (or change, or remove) when voting is planned to close."""
    round_ = get_round(slug, round_id)
    require(perm.can_plan_voting_close(current_user, round_))
    form = VotingCloseForm()
    if request.method == "GET" and round_.voting_closes_at is not None:
        form.closes_at.data = to_user_timezone(round_.voting_closes_at).replace(tzinfo=None)
    if form.validate_on_submit():
        closes_at = to_utc(form.closes_at.data).replace(tzinfo=None) if form.closes_at.data else None
        try:
            services.set_voting_close(round_, closes_at=closes_at, actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(_("The planned close of voting is saved."), "success")
            return redirect_to(url_for("proposals.round_detail", slug=slug, round_id=round_id))
    return render_page("votes/voting_close.html", "votes/voting_close.html", community=round_.community,
                       round=round_, form=form, status_code=form_status(form))


def _paper_page(round_: Round, voter_form: PaperVoterForm, sheet_form: PaperSheetForm, *, status_code: int = 200,
                sheet_values: dict | None = None):
    items = services.ballot_items(round_)
    sheet_form.choices.choices = [SelectChoice(p.id, f"#{p.id} {p.title}") for p in items]
    sheets = services.paper_sheets(round_)
    titles = {p.id: p.title for p in items}
    return render_page("votes/paper.html", "votes/paper.html", community=round_.community, round=round_,
                       voter_form=voter_form, sheet_form=sheet_form, sheets=sheets, items=items,
                       sheet_values=sheet_values or {},
                       ballot_lines=lambda choices: ballot_choices.lines(round_, choices, titles),
                       reconciliation=services.paper_reconciliation(round_, sheets),
                       paper_voters=services.paper_voters(round_),
                       turnout=services.turnout(round_), titles=titles,
                       sheet_state_label=sheet_state_label, status_code=status_code)


@bp.get("/paper")
@login_required
def paper(slug: str, round_id: int):
    """Paper ballots: record residents who voted on paper, key sheets twice, see what does not count."""
    round_ = get_round(slug, round_id)
    require(perm.can_manage_ballots(current_user, round_))
    return _paper_page(round_, PaperVoterForm(prefix="voter"), PaperSheetForm(prefix="sheet"))


@bp.post("/paper/voters")
@login_required
def paper_voter(slug: str, round_id: int):
    """Record that a resident voted on paper (their web vote is then refused, and vice versa)."""
    round_ = get_round(slug, round_id)
    require(perm.can_manage_ballots(current_user, round_))
    form = PaperVoterForm(prefix="voter")
    if form.validate_on_submit():
        voter = db.session.scalar(User.by_login(form.voter.data))
        try:
            if voter is None:
                raise DomainError(_("No account has this login name or phone number."), field="voter",
                                  status_code=422)
            services.mark_paper_voter(round_, voter, actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(_("%(name)s is recorded as having voted on paper.", name=voter.display_name), "success")
            return redirect_to(url_for("votes.paper", slug=slug, round_id=round_id))
    return _paper_page(round_, form, PaperSheetForm(prefix="sheet", formdata=None), status_code=422)


@bp.route("/paper/voters/<int:participation_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw_paper_voter(slug: str, round_id: int, participation_id: int):
    """Withdraw the record that a resident voted on paper (a lost sheet, the wrong resident), with a reason."""
    round_ = get_round(slug, round_id)
    require(perm.can_manage_ballots(current_user, round_))
    participation = db.session.get(BallotParticipation, participation_id)
    if participation is None or participation.round_id != round_.id:
        abort(404)
    form = WithdrawPaperVoterForm()
    if form.validate_on_submit():
        try:
            services.withdraw_paper_voter(round_, participation, reason=form.reason.data, actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(_("The paper record of %(name)s is withdrawn; they may vote again.",
                    name=participation.user.display_name), "success")
            return redirect_to(url_for("votes.paper", slug=slug, round_id=round_id))
    return render_page("votes/withdraw_paper_voter.html", "votes/withdraw_paper_voter.html",
                       community=round_.community, round=round_, participation=participation, form=form,
                       status_code=form_status(form))


@bp.post("/paper/sheets")
@login_required
def paper_sheet(slug: str, round_id: int):
    """Key in one paper ballot sheet."""
    round_ = get_round(slug, round_id)
    require(perm.can_manage_ballots(current_user, round_))
    form = PaperSheetForm(prefix="sheet")
    form.choices.choices = [SelectChoice(p.id, p.title) for p in services.ballot_items(round_)]
    raw = _posted(round_, prefix="sheet-")
    if form.validate_on_submit():
        try:
            ticked = (form.choices.data or []) if ballot_choices.is_approval(round_) else raw
            status = services.key_paper_sheet(round_, sheet=form.sheet.data, choices=ticked, operator=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(_("Sheet %(sheet)s keyed: %(state)s", sheet=status.sheet, state=sheet_state_label(status.state)),
                  "success" if status.state in ("counted", "waiting") else "error")
            return redirect_to(url_for("votes.paper", slug=slug, round_id=round_id))
    return _paper_page(round_, PaperVoterForm(prefix="voter", formdata=None), form, status_code=422,
                       sheet_values=raw if isinstance(raw, dict) else None)


def sheet_state_label(state: str) -> str:
    return {"counted": _("counted"), "waiting": _("waiting for the second keying"),
            "mismatch": _("the keyings differ"), "invalid": _("invalid ballot")}[state]


@bp.post("/paper/entries/<int:entry_id>/delete")
@login_required
def delete_paper_entry(slug: str, round_id: int, entry_id: int):
    """Delete a wrong keying so the sheet can be keyed again."""
    round_ = get_round(slug, round_id)
    require(perm.can_manage_ballots(current_user, round_))
    entry = db.get_or_404(PaperEntry, entry_id)
    if entry.round_id != round_.id:
        abort(404)
    if not is_confirmed():
        return confirmation_page(confirmations.delete_paper_entry(entry),
                                 cancel_url=url_for("votes.paper", slug=slug, round_id=round_id))
    services.delete_paper_entry(entry, actor=current_user)
    db.session.commit()
    flash(_("The entry is deleted; key the sheet again."), "info")
    return redirect_to(url_for("votes.paper", slug=slug, round_id=round_id))


def _result_context(round_: Round) -> dict:
    result = services.result_of(round_)
    if result is None:
        abort(404)
    items = services.ballot_items_with_outcome(round_)
    titles = {p.id: p.title for p in items}
    approvals = {int(k): v for k, v in result.approvals.items()}
    ranked = sorted(items, key=lambda p: (-approvals.get(p.id, 0), p.cost, p.id))
    return dict(community=round_.community, round=round_, result=result, items=items, ranked=ranked, titles=titles,
                approvals=approvals, max_approvals=max(approvals.values(), default=0) or 1,
                winners=set(result.final_winners), explanation=explain.describe(result, titles, round_),
                rule_summary=explain.rule_summary(result, round_), score_label=explain.score_label(round_),
                turnout=services.turnout(round_))


@bp.get("/results")
def results(slug: str, round_id: int):
    """Turnout, approvals per project, winners and how the rule chose them (after voting closes)."""
    round_ = get_round(slug, round_id)
    if not perm.can_see_results(round_):
        raise DomainError(_("Results are published when voting closes."), status_code=403)
    return render_page("votes/results.html", "votes/results.html", **_result_context(round_),
                       fingerprint=audit.fingerprint(round_, "round.counted", "round.result_overridden"))


@bp.route("/results/override", methods=["GET", "POST"])
@login_required
def override(slug: str, round_id: int):
    """Replace the computed winners, with a written public reason."""
    round_ = get_round(slug, round_id)
    require(perm.can_manage_ballots(current_user, round_))
    context = _result_context(round_)
    form = OverrideForm()
    form.winners.choices = [SelectChoice(p.id, f"{p.title}（{p.cost:,} 元）") for p in context["items"]]
    if request.method == "GET":
        form.winners.data = context["result"].final_winners
    if form.validate_on_submit():
        try:
            services.override_result(round_, winners=form.winners.data or [], reason=form.reason.data,
                                     actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(_("The result is overridden; the reason is shown on the results page."), "info")
            return redirect_to(url_for("votes.results", slug=slug, round_id=round_id))
    return render_page("votes/override.html", "votes/override.html", form=form, status_code=form_status(form),
                       **context)


BALLOTS_PER_PAGE = 50


@bp.route("/ballots", methods=["GET", "POST"])
def ballots(slug: str, round_id: int):
    """Every ballot as receipt hash → choices, sorted by hash, paged and searchable by hash; a voter's
    code shows their ballot at the top."""
    round_ = get_round(slug, round_id)
    if not perm.can_see_results(round_):
        raise DomainError(_("The ballot list is published when voting closes."), status_code=403)
    form = ReceiptForm()
    every = services.round_ballots(round_)
    mine = None
    if form.validate_on_submit():  # POST, so the receipt code never appears in a URL or access log
        wanted = services.receipt_hash(round_.id, form.code.data)
        mine = next((b for b in every if b.receipt_hash == wanted), None)
        if mine is None:
            form.code.errors.append(_("No ballot has this receipt code. Check the code on your card."))
    query = "".join(ch for ch in request.args.get("q", "").lower() if ch in "0123456789abcdef")[:64]
    listed = [b for b in every if b.receipt_hash.startswith(query)] if query else every
    pages = max(1, -(-len(listed) // BALLOTS_PER_PAGE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    shown = listed[(page - 1) * BALLOTS_PER_PAGE:page * BALLOTS_PER_PAGE]
    titles = {p.id: p.title for p in services.ballot_items_with_outcome(round_)}
    return render_page("votes/ballots.html", "votes/ballots.html", community=round_.community, round=round_,
                       form=form, ballots=shown, total=len(every), matching=len(listed), query=query,
                       page=page, pages=pages, mine=mine, titles=titles,
                       ballot_lines=lambda choices: ballot_choices.lines(round_, choices, titles),
                       status_code=422 if form.code.errors else 200)


@bp.get("/ballots.csv")
def ballots_csv(slug: str, round_id: int):
    """The public ballot list for anyone to recount."""
    round_ = get_round(slug, round_id)
    if not perm.can_see_results(round_):
        abort(403)
    out = io.StringIO()
    writer = csv.writer(out)
    # No channel column: a paper ballot told apart from the online ones would show the few paper voters' choices.
    writer.writerow(["receipt_hash", "choices"])
    for b in services.round_ballots(round_):
        writer.writerow([b.receipt_hash, ballot_choices.csv_text(round_, b.choices)])
    out.write(audit_stamp.csv_trailer())
    return Response(out.getvalue(), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename=round-{round_.id}-ballots.csv"})


@bp.get("/ballots.pb")
def ballots_pb(slug: str, round_id: int):
    """The round in Pabulib format, to recount with any participatory-budgeting tool."""
    round_ = get_round(slug, round_id)
    if not perm.can_see_results(round_):
        abort(403)
    return Response(exports.export_pb(round_), content_type="text/plain; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename=round-{round_.id}.pb"})


@bp.get("/results.<any(csv, xlsx):fmt>")
def results_export(slug: str, round_id: int, fmt: str):
    """Approvals and outcome per project, for the street office."""
    round_ = get_round(slug, round_id)
    if not perm.can_see_results(round_):
        abort(403)
    context = _result_context(round_)
    header = ["编号", "项目名称", "预算（元）", explain.SCORE_COLUMN[round_.ballot_type], "结果"]
    rows = [[p.id, spreadsheet_cell(p.title), p.cost, context["approvals"].get(p.id, 0),
             "入选" if p.id in context["winners"] else "未入选"] for p in context["items"]]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
        out.write(audit_stamp.csv_trailer())
        body, mimetype = ("\ufeff" + out.getvalue()).encode(), "text/csv; charset=utf-8"
    else:
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "投票结果"
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        audit_stamp.add_xlsx_sheet(workbook)
        buffer = io.BytesIO()
        workbook.save(buffer)
        body, mimetype = buffer.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, content_type=mimetype,
                    headers={"Content-Disposition": f"attachment; filename=round-{round_.id}-results.{fmt}"})


@bp.get("/turnout")
def turnout(slug: str, round_id: int):
    """Live turnout (how many have voted, not how), for polling: 304 while the numbers are unchanged."""
    round_ = get_round(slug, round_id)
    turnout = services.turnout(round_)
    etag = live.etag_for("turnout", round_.id, round_.phase.value, bool(round_.voting_closed_at), turnout.web,
                         turnout.paper, turnout.eligible)
    if (unchanged := live.not_modified(etag)) is not None:
        return unchanged
    return live.conditional(render_page("votes/_turnout.html", "votes/_turnout.html", round=round_,
                                        turnout=turnout), etag)


