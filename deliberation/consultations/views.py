"""Sessions: notice, agenda, the secretary's live console, members' phones, motions, minutes."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import to_user_timezone, to_utc
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.http import quote_etag
from wtforms import SelectChoice

from deliberation.auth.models import User
from deliberation.communities.loaders import get_community
from deliberation.consultations import confirmations, services
from deliberation.consultations import live as session_live
from deliberation.consultations import notice_board as _notice_board  # noqa: F401  (registers the section)
from deliberation.consultations.forms import (
    CancelForm,
    CorrectionForm,
    HandsForm,
    ItemForm,
    MinutesForm,
    MotionForm,
    SessionForm,
    StartForm,
)
from deliberation.consultations.minutes_docx import minutes_docx
from deliberation.consultations.models import (
    DEFAULT_SPEAKER_SECONDS,
    AgendaItem,
    ConsultationSession,
    CountMethod,
    Motion,
    SessionKind,
    SessionStatus,
    SpeakerSlot,
    VoteChoice,
)
from deliberation.core import audit
from deliberation.core import live as live_updates
from deliberation.core import permissions as perm
from deliberation.core.confirm import confirmation_page, is_confirmed
from deliberation.core.errors import DomainError
from deliberation.core.forms import fail_form, form_status
from deliberation.core.htmx import is_htmx_request, redirect_to, render_page
from deliberation.core.inputs import int_param
from deliberation.core.permissions import require
from deliberation.councils.services import current_council
from deliberation.extensions import db, limiter
from deliberation.notifications import events as notification_events
from deliberation.proposals.models import Proposal, Round

bp = Blueprint("consultations", __name__, url_prefix="/c/<slug>/sessions")


# --- loaders --------------------------------------------------------------------------


def get_session(slug: str, session_id: int) -> ConsultationSession:
    session = db.get_or_404(ConsultationSession, session_id)
    if session.community.slug != slug:
        abort(404)
    return session


def get_item(session: ConsultationSession, item_id: int) -> AgendaItem:
    item = db.get_or_404(AgendaItem, item_id)
    if item.session_id != session.id:
        abort(404)
    return item


def get_motion(session: ConsultationSession, motion_id: int) -> Motion:
    motion = db.get_or_404(Motion, motion_id)
    if motion.session_id != session.id:
        abort(404)
    return motion


def get_slot(session: ConsultationSession, slot_id: int) -> SpeakerSlot:
    slot = db.get_or_404(SpeakerSlot, slot_id)
    if slot.session_id != session.id:
        abort(404)
    return slot


def _url(endpoint: str, session: ConsultationSession, **kw) -> str:
    return url_for(endpoint, slug=session.community.slug, session_id=session.id, **kw)


def _offset() -> int:
    return -1 if request.form.get("direction") == "up" else 1


# --- context builders -------------------------------------------------------------------

def live_context(session: ConsultationSession) -> dict:
    """Everything the room, the phones and the console show, in a fixed number of queries."""
    shown_etag = _shown_etag(session, "live")  # the version is read before anything else it shows
    shown_version = (live_updates.version_etag(session.live_version)
                     if session.status == SessionStatus.in_session else None)
    motions = services.motions_of(session)
    open_motion = next((m for m in motions if m.is_open), None)
    queue = services.speaker_queue(session)
    me_present = me_voted = False
    if current_user.is_authenticated:
        me_present = services.attendance_of(session, current_user) is not None
        if open_motion is not None:
            me_voted = any(v.user_id == current_user.id for v in open_motion.votes)
    return {
        "session": session, "community": session.community, "quorum": services.quorum(session),
        "motions": motions, "open_motion": open_motion,
        "votes_cast": len(open_motion.votes) if open_motion is not None else 0,
        "eligible": len(services.eligible_voter_ids(open_motion)) if open_motion is not None else 0,
        "speaking": next((s for s in queue if s.speaking), None),
        "waiting": [s for s in queue if s.waiting], "me_present": me_present, "me_voted": me_voted,
        "my_queue_place": _queue_place(queue), "explain": services.explain,
        "live_events": live_updates.events_supported(), "live_etag": shown_etag, "live_version": shown_version,
    }


def _shown_etag(session: ConsultationSession, part: str) -> str | None:
    """The ETag (quoted, as in the header) of the live partial `part` as this response shows it, read
    before the rest is loaded: the page carries it (data-live-etag) and sends it with its first
    conditional request, so that the first refresh after a full page loads is a 304 too. The same value
    as _live_etag gives; None where that would be None, or when the session is not running (no refresh)."""
    viewer = live_updates.viewer_key()
    if viewer is None or session.status != SessionStatus.in_session:
        return None
    return quote_etag(live_updates.etag_for(part, session.id, session.live_version, viewer))


def _queue_place(queue) -> int | None:
    """0 while the current user speaks, N when they are N-th among those waiting, else None."""
    if not current_user.is_authenticated:
        return None
    waiting = [s for s in queue if s.waiting]
    for slot in queue:
        if slot.user_id == current_user.id and slot.speaking:
            return 0
    for n, slot in enumerate(waiting, start=1):
        if slot.user_id == current_user.id:
            return n
    return None


def console_context(session: ConsultationSession) -> dict:
    context = live_context(session)
    context["live_etag"] = _shown_etag(session, "console")  # the version live_context read first
    present = {a.user_id: a for a in services.attendances(session)}
    if session.is_council_meeting:
        people = [m.user for m in session.council.members]
    else:
        people = [a.user for a in present.values()]
    context.update(present=present, people=people, hands_form=HandsForm(), motion_form=_motion_form(session),
                   default_seconds=DEFAULT_SPEAKER_SECONDS, choices=list(VoteChoice))
    return context


def _motion_form(session: ConsultationSession) -> MotionForm:
    form = MotionForm()
    item = session.current_item
    round_ = services.resolvable_round(item) if item is not None else None
    on_ballot = services.ballot_items(round_) if round_ is not None else []
    form.funded.choices = [SelectChoice(p.id, f"{p.title} · {p.cost:,}") for p in on_ballot]
    if round_ is not None and not form.is_submitted():
        form.funded.data = services.prefilled_funding(round_)
    return form


def _item_form(session: ConsultationSession, obj=None) -> ItemForm:
    form = ItemForm(obj=obj)
    rounds = db.session.scalars(select(Round).where(Round.community_id == session.community_id)
                                .order_by(Round.created_at.desc())).all()
    proposals = db.session.scalars(select(Proposal).join(Round).where(Round.community_id == session.community_id)
                                   .order_by(Proposal.id.desc()).limit(200)).all()
    form.round_id.choices = [SelectChoice("", _("None"))] + [SelectChoice(r.id, r.title) for r in rounds]
    form.proposal_id.choices = [SelectChoice("", _("None"))] + [SelectChoice(p.id, p.title) for p in proposals]
    return form


def _item_fields(form: ItemForm) -> services.ItemFields:
    return services.ItemFields(title=form.title.data or "", description=form.description.data or "",
                               minutes_allotted=form.minutes_allotted.data, proposal_id=form.proposal_id.data,
                               round_id=form.round_id.data)


def _session_fields(form: SessionForm) -> services.SessionFields:
    starts_at = to_utc(form.starts_at.data).replace(tzinfo=None) if form.starts_at.data else None
    return services.SessionFields(kind=SessionKind(form.kind.data), title=form.title.data or "",
                                  starts_at=starts_at, place=form.place.data or "")


def _agenda(session: ConsultationSession, form: ItemForm | None = None, status_code: int = 200):
    return render_page("consultations/agenda.html", "consultations/_agenda.html", session=session,
                       community=session.community, form=form or _item_form(session), status_code=status_code)


def _agenda_changed(session: ConsultationSession):
    """htmx swaps the refreshed agenda in place; a plain form is redirected back to it (POST → GET)."""
    if request.headers.get("HX-Request") == "true":
        return _agenda(session)
    return redirect_to(_url("consultations.agenda", session))


# --- sessions -------------------------------------------------------------------------

@bp.get("")
def index(slug: str):
    """Meetings, consultations and hearings of the community; drafts only for the secretary."""
    community = get_community(slug)
    sessions = services.sessions_of(community, include_drafts=perm.can_run_sessions(current_user, community))
    return render_page("consultations/index.html", "consultations/index.html", community=community,
                       sessions=sessions)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new(slug: str):
    """Create a draft session; the agenda follows."""
    community = get_community(slug)
    require(perm.can_run_sessions(current_user, community))
    form = SessionForm()
    if form.validate_on_submit():
        try:
            session = services.create_session(community, fields=_session_fields(form),
                                              council=current_council(community), actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            return redirect_to(_url("consultations.agenda", session))
    return render_page("consultations/form.html", "consultations/form.html", community=community, form=form,
                       session=None, status_code=form_status(form))


@bp.route("/<int:session_id>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str, session_id: int):
    """Change kind, title, time or place before the session starts."""
    session = get_session(slug, session_id)
    require(perm.can_run_session(current_user, session))
    form = SessionForm(obj=session)
    if request.method == "GET":
        form.starts_at.data = to_user_timezone(session.starts_at).replace(tzinfo=None)
        form.kind.data = session.kind.value
    if form.validate_on_submit():
        try:
            services.update_session(session, fields=_session_fields(form), actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            return redirect_to(_url("consultations.detail", session))
    return render_page("consultations/form.html", "consultations/form.html", community=session.community,
                       form=form, session=session, status_code=form_status(form))


@bp.get("/<int:session_id>")
def detail(slug: str, session_id: int):
    """The session's public page: notice and agenda; while in session, the room view and the phone panel."""
    session = get_session(slug, session_id)
    require(perm.can_view_session(current_user, session))
    return render_page("consultations/detail.html", "consultations/_live.html", **live_context(session))


@bp.get("/<int:session_id>/live")
@limiter.exempt
def live(slug: str, session_id: int):
    """The polled part of the session page (quorum, current item, speaker, open motion); 304 after reading
    only the session's version while nothing changed."""
    etag = _live_etag(slug, session_id, "live")
    if etag is not None and (unchanged := live_updates.not_modified(etag)) is not None:
        return unchanged
    session = get_session(slug, session_id)
    require(perm.can_view_session(current_user, session))
    return _tagged(render_page("consultations/detail.html", "consultations/_live.html", **live_context(session)),
                   etag)


@bp.get("/<int:session_id>/version")
@limiter.exempt
def version(slug: str, session_id: int):
    """The session's live version, all that a page without an event stream asks every 2 seconds: 304 while
    it is the version the page shows, else the new one (the page then fetches its partial once). Public
    like the room (a noticed session is), it reads the version alone, for every viewer alike. Polls are
    answered before they reach Flask (`consultations.live.VersionPolls`); this view names the address and
    answers what the middleware passes on."""
    answer = session_live.version_answer(slug, session_id, request.if_none_match)
    if answer is None:
        abort(404)
    return answer


@bp.get("/<int:session_id>/events")
@limiter.exempt
def events(slug: str, session_id: int):
    """Server-Sent Events: a `version` event whenever the session's live version moves (the page then
    fetches its partial once), `end` when the session is no longer running."""
    session = get_session(slug, session_id)
    require(perm.can_view_session(current_user, session))
    if not live_updates.events_supported():
        return Response(status=204)  # an EventSource stops on 204: the page polls conditionally instead

    app = current_app._get_current_object()

    def read_version() -> int | None:
        # Its own application context: the stream outlives the request, and the connection goes back to
        # the pool after each check.
        with app.app_context():
            found = session_live.live_version(session_id)
        return found[0] if found is not None and found[1] == SessionStatus.in_session else None

    stream = live_updates.event_stream(session_live.live_topic(session_id), read_version,
                                       since=live_updates.last_event_id())
    return live_updates.stream_response(stream)


def _live_etag(slug: str, session_id: int, part: str) -> str | None:
    """The ETag of a live partial, from the session's version, the viewer (the vote buttons and the queue
    place are theirs: see core/live.viewer_key) and the language, read before anything renders and with
    no other query; None for a full page or a session that is not public yet (those are rendered, after
    the permission check)."""
    viewer = live_updates.viewer_key()
    if not is_htmx_request() or viewer is None:
        return None
    found = session_live.live_version(session_id)
    if found is None or found[2] != slug or found[1] == SessionStatus.draft:
        return None
    return live_updates.etag_for(part, session_id, found[0], viewer)


def _tagged(response, etag: str | None):
    return live_updates.conditional(response, etag) if etag is not None and response.status_code == 200 else response


# --- agenda ---------------------------------------------------------------------------

@bp.get("/<int:session_id>/agenda")
@login_required
def agenda(slug: str, session_id: int):
    """Edit the agenda: add, edit, remove and reorder items."""
    session = get_session(slug, session_id)
    require(perm.can_run_session(current_user, session))
    return _agenda(session)


@bp.post("/<int:session_id>/items")
@login_required
def add_item(slug: str, session_id: int):
    """Append an agenda item."""
    session = get_session(slug, session_id)
    require(perm.can_run_session(current_user, session))
    form = _item_form(session)
    if form.validate_on_submit():
        try:
            services.add_item(session, fields=_item_fields(form), actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            return _agenda_changed(session)
    return _agenda(session, form, form_status(form))


@bp.route("/<int:session_id>/items/<int:item_id>/edit", methods=["GET", "POST"])
@login_required
def edit_item(slug: str, session_id: int, item_id: int):
    """Edit one agenda item."""
    session = get_session(slug, session_id)
    require(perm.can_run_session(current_user, session))
    item = get_item(session, item_id)
    form = _item_form(session, obj=item)
    if form.validate_on_submit():
        try:
            services.update_item(item, fields=_item_fields(form), actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            return redirect_to(_url("consultations.agenda", session))
    return render_page("consultations/item_form.html", "consultations/item_form.html", session=session,
                       community=session.community, item=item, form=form, status_code=form_status(form))


@bp.post("/<int:session_id>/items/<int:item_id>/remove")
@login_required
def remove_item(slug: str, session_id: int, item_id: int):
    """Remove an agenda item (not one with a motion)."""
    session = get_session(slug, session_id)
    require(perm.can_run_session(current_user, session))
    services.remove_item(get_item(session, item_id), actor=current_user)
    db.session.commit()
    return _agenda_changed(session)


@bp.post("/<int:session_id>/items/<int:item_id>/move")
@login_required
def move_item(slug: str, session_id: int, item_id: int):
    """Move an agenda item up or down."""
    session = get_session(slug, session_id)
    require(perm.can_run_session(current_user, session))
    services.move_item(get_item(session, item_id), offset=_offset(), actor=current_user)
    db.session.commit()
    return _agenda_changed(session)


# --- lifecycle ------------------------------------------------------------------------

@bp.post("/<int:session_id>/notice")
@login_required
def notice(slug: str, session_id: int):
    """Publish the notice to the notice board and the members' pages."""
    session = get_session(slug, session_id)
    require(perm.can_run_session(current_user, session))
    if not is_confirmed():
        return confirmation_page(confirmations.notice_session(session),
                                 cancel_url=_url("consultations.detail", session))
    services.notice_session(session, actor=current_user)
    db.session.commit()
    flash(_("The notice is published."), "success")
    return redirect_to(_url("consultations.detail", session))


@bp.route("/<int:session_id>/start", methods=["GET", "POST"])
@login_required
def start(slug: str, session_id: int):
    """Open the session (with an urgent reason if the notice period has not passed)."""
    session = get_session(slug, session_id)
    require(perm.can_run_session(current_user, session))
    form = StartForm()
    if form.validate_on_submit():
        try:
            services.start_session(session, urgent_reason=form.urgent_reason.data or "", actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            return redirect_to(_url("consultations.console", session))
    return render_page("consultations/start.html", "consultations/start.html", session=session,
                       community=session.community, form=form, status_code=form_status(form))


@bp.route("/<int:session_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(slug: str, session_id: int):
    """Call the session off before it starts, with a public reason (confirmed once)."""
    session = get_session(slug, session_id)
    require(perm.can_cancel_session(current_user, session))
    form = CancelForm()
    if form.validate_on_submit():
        if not is_confirmed():
            return confirmation_page(confirmations.cancel_session(session),
                                     cancel_url=_url("consultations.detail", session))
        try:
            services.cancel_session(session, reason=form.reason.data, actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(_("The session is cancelled."), "success")
            return redirect_to(_url("consultations.detail", session))
    return render_page("consultations/cancel.html", "consultations/cancel.html", session=session,
                       community=session.community, form=form, status_code=form_status(form))


@bp.post("/<int:session_id>/adjourn")
@login_required
def adjourn(slug: str, session_id: int):
    """Close the session; the minutes can then be written and published."""
    session = get_session(slug, session_id)
    require(perm.can_run_session(current_user, session))
    if not is_confirmed():
        return confirmation_page(confirmations.adjourn_session(session),
                                 cancel_url=_url("consultations.console", session))
    services.adjourn_session(session, actor=current_user)
    db.session.commit()
    return redirect_to(_url("consultations.minutes_edit", session))


# --- console --------------------------------------------------------------------------

@bp.get("/<int:session_id>/console")
@limiter.exempt
@login_required
def console(slug: str, session_id: int):
    """The secretary's live console; the page fetches the partial when the session's version moves (304
    after reading only the version while nothing changed)."""
    etag = _live_etag(slug, session_id, "console")
    if etag is not None and (unchanged := live_updates.not_modified(etag)) is not None:
        return unchanged
    session = get_session(slug, session_id)
    require(perm.can_run_session(current_user, session))
    return _tagged(render_page("consultations/console.html", "consultations/_console.html",
                               **console_context(session)), etag)


def _back_to_session(session: ConsultationSession):
    """htmx gets the refreshed room partial; a page without JavaScript is redirected (POST → GET)."""
    if request.headers.get("HX-Request") == "true":
        return render_page("consultations/detail.html", "consultations/_live.html", **live_context(session))
    return redirect_to(_url("consultations.detail", session))


def _refused(session: ConsultationSession, error: DomainError, endpoint: str):
    """A refused action on the live pages: htmx gets the refreshed part with the reason in it, a page
    without JavaScript is redirected back with the reason flashed (POST → GET). Not being allowed at all
    (403) stays an error page."""
    if error.status_code == 403:
        raise error
    db.session.rollback()
    if request.headers.get("HX-Request") == "true":
        console = endpoint == "consultations.console"
        context = console_context(session) if console else live_context(session)
        template = "consultations/_console.html" if console else "consultations/_live.html"
        # 422 is the refusal htmx swaps in (base.html's responseHandling), so the reason shows in place.
        return render_page(template, template, status_code=422, refusal=error.message, **context)
    flash(str(error.message), "error")
    return redirect_to(_url(endpoint, session))


def _back_to_console(session: ConsultationSession):
    if request.headers.get("HX-Request") == "true":
        return render_page("consultations/console.html", "consultations/_console.html", **console_context(session))
    return redirect_to(_url("consultations.console", session))


@bp.post("/<int:session_id>/current")
@login_required
def set_current(slug: str, session_id: int):
    """Move the meeting to another agenda item."""
    session = get_session(slug, session_id)
    require(perm.can_run_session(current_user, session))
    item = get_item(session, int_param(request.form, "item_id", 0))
    services.set_current_item(session, item, actor=current_user)
    db.session.commit()
    return redirect_to(_url("consultations.console", session))


@bp.post("/<int:session_id>/attendance")
@login_required
def tick(slug: str, session_id: int):
    """The secretary ticks a member present (or unticks one ticked by mistake)."""
    session = get_session(slug, session_id)
    require(perm.can_run_session(current_user, session))
    user = db.get_or_404(User, int_param(request.form, "user_id", 0))
    if request.form.get("present") == "0":
        services.sign_out(session, user, actor=current_user)
    else:
        services.sign_in(session, user, recorded_by=current_user, without_phone=request.form.get("no_phone") == "1")
    db.session.commit()
    return _back_to_console(session)


@bp.post("/<int:session_id>/sign-in")
@login_required
def sign_in(slug: str, session_id: int):
    """A member (or, at open sessions, a resident) signs in on their phone."""
    session = get_session(slug, session_id)
    require(perm.can_sign_in(current_user, session))
    services.sign_in(session, current_user)
    db.session.commit()
    return _back_to_session(session)


@bp.post("/<int:session_id>/speak")
@login_required
def speak(slug: str, session_id: int):
    """Ask to speak."""
    session = get_session(slug, session_id)
    require(perm.can_request_to_speak(current_user, session))
    services.request_to_speak(session, current_user)
    db.session.commit()
    return _back_to_session(session)


@bp.post("/<int:session_id>/speakers/<int:slot_id>/<any(up, down, start, end, remove):action>")
@login_required
def speaker(slug: str, session_id: int, slot_id: int, action: str):
    """Order the queue, give the floor (starting the timer), end a turn, or take a request off the queue."""
    session = get_session(slug, session_id)
    require(perm.can_run_session(current_user, session))
    slot = get_slot(session, slot_id)
    if action in ("up", "down"):
        services.move_speaker(slot, offset=-1 if action == "up" else 1, actor=current_user)
    elif action == "start":
        minutes = int_param(request.form, "minutes")
        seconds = minutes * 60 if minutes else DEFAULT_SPEAKER_SECONDS
        services.start_speaker(slot, seconds=seconds, actor=current_user)
    elif action == "remove":
        services.remove_speaker(slot, actor=current_user)
    else:
        services.end_speaker(slot, actor=current_user)
    db.session.commit()
    return _back_to_console(session)


# --- motions --------------------------------------------------------------------------

@bp.post("/<int:session_id>/motions")
@login_required
def open_motion(slug: str, session_id: int):
    """Put a motion on the current agenda item to the vote."""
    session = get_session(slug, session_id)
    require(perm.can_run_session(current_user, session))
    form = _motion_form(session)
    item = session.current_item
    if item is None:
        raise DomainError(_("Choose the current agenda item first."))
    if form.validate_on_submit():
        try:
            services.open_motion(item, text=form.text.data, actor=current_user, method=CountMethod(form.method.data),
                                 funded_ids=form.funded.data if form.funded.choices else None)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            return redirect_to(_url("consultations.console", session))
    context = console_context(session)
    context["motion_form"] = form
    return render_page("consultations/console.html", "consultations/_console.html", status_code=form_status(form),
                       **context)


@bp.post("/<int:session_id>/motions/<int:motion_id>/vote")
@login_required
def vote(slug: str, session_id: int, motion_id: int):
    """A present member votes yes, no or abstain on their phone."""
    session = get_session(slug, session_id)
    motion = get_motion(session, motion_id)
    require(perm.can_vote_on_motion(current_user, motion))
    choice = request.form.get("choice", "")
    if choice not in VoteChoice.__members__:
        abort(400)
    try:
        services.cast_vote(motion, current_user, VoteChoice(choice))
    except DomainError as error:  # e.g. voted already: said on the member's page, not on an error page
        return _refused(session, error, "consultations.detail")
    db.session.commit()
    return _back_to_session(session)


@bp.post("/<int:session_id>/motions/<int:motion_id>/roll-call")
@login_required
def roll_call(slug: str, session_id: int, motion_id: int):
    """The secretary enters a member's vote called out in the room."""
    session = get_session(slug, session_id)
    require(perm.can_run_session(current_user, session))
    motion = get_motion(session, motion_id)
    user = db.get_or_404(User, int_param(request.form, "user_id", 0))
    choice = request.form.get("choice", "")
    if choice not in VoteChoice.__members__:
        abort(400)
    try:
        services.cast_vote(motion, user, VoteChoice(choice), recorded_by=current_user)
    except DomainError as error:  # e.g. the member votes on their own phone: said on the console
        return _refused(session, error, "consultations.console")
    db.session.commit()
    return _back_to_console(session)


@bp.post("/<int:session_id>/motions/<int:motion_id>/close")
@login_required
def close_motion(slug: str, session_id: int, motion_id: int):
    """Close voting; the outcome follows from the council's rules."""
    session = get_session(slug, session_id)
    require(perm.can_run_session(current_user, session))
    motion = get_motion(session, motion_id)
    if not is_confirmed():
        return confirmation_page(confirmations.close_motion(motion), cancel_url=_url("consultations.console", session))
    hands = None
    if motion.method == CountMethod.show_of_hands:
        form = HandsForm()
        hands = (form.yes.data or 0, form.no.data or 0, form.abstain.data or 0)
    services.close_motion(motion, actor=current_user, hands=hands)
    db.session.commit()
    return redirect_to(_url("consultations.console", session))


# --- minutes --------------------------------------------------------------------------

def _minutes_context(session: ConsultationSession) -> dict:
    motions = services.motions_of(session)
    return {
        "session": session, "community": session.community, "attendances": services.attendances(session),
        "speakers": [s for s in services.speaker_queue(session) if s.started_at is not None],
        "motions_by_item": {item.id: [m for m in motions if m.item_id == item.id] for item in session.items},
        "corrections": services.corrections_of(session), "explain": services.explain,
        "members": [m.user for m in session.council.members] if session.council is not None else [],
        "notices": notification_events.member_notices(session) if session.is_council_meeting else [],
        "fingerprint": audit.fingerprint(session, "minutes.published", "minutes.corrected"),
    }


@bp.get("/<int:session_id>/minutes")
def minutes(slug: str, session_id: int):
    """The minutes (会议纪要) on one printable page."""
    session = get_session(slug, session_id)
    require(perm.can_read_minutes(current_user, session))
    return render_page("consultations/minutes.html", "consultations/minutes.html", **_minutes_context(session))


@bp.get("/<int:session_id>/minutes.docx")
def minutes_word(slug: str, session_id: int):
    """The published minutes as a Word document for the community office's files."""
    session = get_session(slug, session_id)
    require(perm.can_read_minutes(current_user, session))
    body = minutes_docx(**_minutes_context(session))
    return Response(body, mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    headers={"Content-Disposition": f"attachment; filename=minutes-{session.id}.docx"})


@bp.route("/<int:session_id>/minutes/edit", methods=["GET", "POST"])
@login_required
def minutes_edit(slug: str, session_id: int):
    """The secretary writes the text per item and publishes."""
    session = get_session(slug, session_id)
    require(perm.can_run_session(current_user, session)
            and session.status in (SessionStatus.in_session, SessionStatus.adjourned))
    form = MinutesForm(obj=session)
    publish = bool(request.form.get("publish"))
    if form.validate_on_submit():
        item_texts = {item.id: request.form.get(f"item-{item.id}", item.minutes_text) for item in session.items}
        try:
            services.save_minutes(session, item_texts=item_texts, summary=form.minutes_summary.data or "",
                                  actor=current_user)
            if publish and is_confirmed():
                services.publish_minutes(session, actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            if publish and not is_confirmed():
                # The draft is saved first, so going back from the question loses nothing.
                return confirmation_page(confirmations.publish_minutes(session),
                                         cancel_url=_url("consultations.minutes_edit", session))
            if session.status == SessionStatus.minutes_published:
                flash(_("The minutes are published."), "success")
                return redirect_to(_url("consultations.minutes", session))
            flash(_("The minutes are saved."), "success")
            return redirect_to(_url("consultations.minutes_edit", session))
    return render_page("consultations/minutes_edit.html", "consultations/minutes_edit.html", form=form,
                       status_code=form_status(form), **_minutes_context(session))


@bp.route("/<int:session_id>/minutes/correct", methods=["GET", "POST"])
@login_required
def correct(slug: str, session_id: int):
    """Correct published minutes, with a public reason (audited)."""
    session = get_session(slug, session_id)
    require(perm.can_run_session(current_user, session) and session.status == SessionStatus.minutes_published)
    form = CorrectionForm()
    form.item.choices = [SelectChoice("", _("General remarks"))] + [
        SelectChoice(str(i.id), f"{i.position}. {i.title}") for i in session.items]
    if form.validate_on_submit():
        item_id = int_param(request.form, "item")
        item = get_item(session, item_id) if item_id is not None else None
        try:
            services.correct_minutes(session, item=item, text=form.text.data or "", reason=form.reason.data,
                                     actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(_("The correction is recorded."), "success")
            return redirect_to(_url("consultations.minutes", session))
    return render_page("consultations/correct.html", "consultations/correct.html", session=session,
                       community=session.community, form=form, status_code=form_status(form))
