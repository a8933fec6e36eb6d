"""Session operations from notice to published minutes. They flush, never commit, and raise
DomainError on refusal; none reads the request or the current user."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from deliberation.auth.models import User
from deliberation.communities.models import Community, ResidencyStatus
from deliberation.consultations.live import bump_live_version
from deliberation.consultations.models import (
    DEFAULT_SPEAKER_SECONDS,
    AgendaItem,
    Attendance,
    ConsultationSession,
    CountMethod,
    MinutesCorrection,
    Motion,
    MotionStatus,
    MotionVote,
    SessionKind,
    SessionStatus,
    SpeakerSlot,
    VoteChoice,
)
from deliberation.core import audit
from deliberation.core.errors import DomainError
from deliberation.core.models import utcnow
from deliberation.councils.models import PASS_BASIS_LABELS, Council
from deliberation.councils.rules import Decision, Outcome, Tally, advisory_decision, decide, quorum_required
from deliberation.extensions import db
from deliberation.notifications import events as notification_events
from deliberation.proposals.models import Proposal, ProposalStatus, Round, RoundPhase

log = logging.getLogger(__name__)
MAX_TITLE = 200
MAX_TEXT = 5000


def _text(value: str | None, field: str, message, *, max_length: int = MAX_TEXT, optional: bool = False) -> str:
    value = (value or "").strip()
    if not value and not optional:
        raise DomainError(message, field=field, status_code=422)
    if len(value) > max_length:
        raise DomainError(_l("At most %(n)d characters.", n=max_length), field=field, status_code=422)
    return value


def _is_verified(user: User, community_id: int) -> bool:
    return any(r.community_id == community_id and r.status == ResidencyStatus.verified for r in user.residencies)


# --- sessions and agenda ----------------------------------------------------------------

@dataclass
class SessionFields:
    kind: SessionKind
    title: str
    starts_at: datetime  # UTC
    place: str


def _check_session(fields: SessionFields) -> None:
    _text(fields.title, "title", _l("Give the session a title."), max_length=MAX_TITLE)
    _text(fields.place, "place", _l("Say where the session takes place."), max_length=MAX_TITLE)
    if fields.starts_at is None:
        raise DomainError(_l("Say when the session starts."), field="starts_at", status_code=422)


def create_session(community: Community, *, fields: SessionFields, council: Council | None,
                   actor: User) -> ConsultationSession:
    """A draft session; a council meeting belongs to the community's current council."""
    _check_session(fields)
    if fields.kind == SessionKind.council_meeting and council is None:
        raise DomainError(_l("Set up the council before calling a council meeting."), field="kind",
                          status_code=422)
    session = ConsultationSession(community=community, council=council, kind=fields.kind,
                                  title=fields.title.strip(), starts_at=fields.starts_at,
                                  place=fields.place.strip(), created_by_id=actor.id)
    db.session.add(session)
    db.session.flush()
    audit.record("session.created", session, actor=actor, community=community,
                 summary=f"{fields.kind.value}: {session.title}")
    return session


def update_session(session: ConsultationSession, *, fields: SessionFields, actor: User) -> None:
    """Change title, time or place until the session starts (a noticed change is audited)."""
    session._require(SessionStatus.draft, SessionStatus.noticed)
    _check_session(fields)
    if fields.kind != session.kind and session.status != SessionStatus.draft:
        raise DomainError(_l("The kind of a noticed session cannot change."), field="kind", status_code=422)
    if fields.kind == SessionKind.council_meeting and session.council is None:
        raise DomainError(_l("Set up the council before calling a council meeting."), field="kind",
                          status_code=422)
    before = (session.title, session.starts_at, session.place)
    session.kind, session.title, session.starts_at, session.place = (
        fields.kind, fields.title.strip(), fields.starts_at, fields.place.strip())
    db.session.flush()
    bump_live_version(session)
    audit.record("session.updated", session, actor=actor, community=session.community,
                 summary=f"{session.title} at {session.starts_at:%Y-%m-%d %H:%M} UTC, {session.place}")
    if (session.title, session.starts_at, session.place) != before:  # a save without changes tells no one
        notification_events.meeting_changed(session)


def cancel_session(session: ConsultationSession, *, reason: str, actor: User) -> None:
    """Call a session off before it starts, with a public reason; those told of its notice are told."""
    reason = _text(reason, "reason", _l("Say why the session is cancelled."), max_length=1000)
    session.cancel(reason=reason)
    db.session.flush()
    audit.record("session.cancelled", session, actor=actor, community=session.community, summary=reason)
    notification_events.meeting_cancelled(session)


@dataclass
class ItemFields:
    title: str
    description: str = ""
    minutes_allotted: int = 15
    proposal_id: int | None = None
    round_id: int | None = None


def _check_item(session: ConsultationSession, fields: ItemFields) -> None:
    session._require(SessionStatus.draft, SessionStatus.noticed, SessionStatus.in_session)
    _text(fields.title, "title", _l("Give the agenda item a title."), max_length=MAX_TITLE)
    _text(fields.description, "description", None, optional=True)
    if fields.minutes_allotted is None or not 0 <= fields.minutes_allotted <= 600:
        raise DomainError(_l("Between 0 and 600 minutes."), field="minutes_allotted", status_code=422)
    if fields.proposal_id is not None:
        proposal = db.session.get(Proposal, fields.proposal_id)
        if proposal is None or proposal.round.community_id != session.community_id:
            raise DomainError(_l("Choose a proposal of this community."), field="proposal_id", status_code=422)
    if fields.round_id is not None:
        round_ = db.session.get(Round, fields.round_id)
        if round_ is None or round_.community_id != session.community_id:
            raise DomainError(_l("Choose a round of this community."), field="round_id", status_code=422)


def add_item(session: ConsultationSession, *, fields: ItemFields, actor: User) -> AgendaItem:
    """Append an item to the agenda."""
    _check_item(session, fields)
    position = max((i.position for i in session.items), default=0) + 1
    item = AgendaItem(session=session, position=position, title=fields.title.strip(),
                      description=fields.description.strip(), minutes_allotted=fields.minutes_allotted,
                      proposal_id=fields.proposal_id, round_id=fields.round_id)
    db.session.add(item)
    db.session.flush()
    bump_live_version(session)
    audit.record("agenda.item_added", item, actor=actor, community=session.community,
                 summary=f"{item.position}. {item.title}")
    return item


def update_item(item: AgendaItem, *, fields: ItemFields, actor: User) -> AgendaItem:
    """Change an agenda item's title, description, time or link."""
    _check_item(item.session, fields)
    item.title, item.description, item.minutes_allotted = (fields.title.strip(), fields.description.strip(),
                                                           fields.minutes_allotted)
    item.proposal_id, item.round_id = fields.proposal_id, fields.round_id
    db.session.flush()
    bump_live_version(item.session)
    audit.record("agenda.item_updated", item, actor=actor, community=item.session.community,
                 summary=f"{item.position}. {item.title} ({item.minutes_allotted} min)")
    return item


def remove_item(item: AgendaItem, *, actor: User) -> None:
    """Remove an item that has no motion (a motion belongs in the minutes)."""
    session = item.session
    session._require(SessionStatus.draft, SessionStatus.noticed, SessionStatus.in_session)
    if item.motions:
        raise DomainError(_l("An item with a motion stays on the agenda."))
    if session.current_item_id == item.id:
        session.current_item_id = None
    for slot in db.session.scalars(select(SpeakerSlot).where(SpeakerSlot.item_id == item.id)):
        slot.item_id = None
    removed = audit.Ref("AgendaItem", item.id)
    title = item.title
    session.items.remove(item)
    db.session.delete(item)
    _renumber(session)
    db.session.flush()
    bump_live_version(session)
    audit.record("agenda.item_removed", removed, actor=actor, community=session.community, summary=title)


def move_item(item: AgendaItem, *, offset: int, actor: User) -> None:
    """Move an item up (-1) or down (+1) the agenda."""
    session = item.session
    session._require(SessionStatus.draft, SessionStatus.noticed, SessionStatus.in_session)
    items = list(session.items)
    index = items.index(item)
    target = min(max(index + offset, 0), len(items) - 1)
    items.insert(target, items.pop(index))
    for position, each in enumerate(items, start=1):
        each.position = position
    db.session.flush()
    bump_live_version(session)
    audit.record("agenda.item_moved", item, actor=actor, community=session.community,
                 summary=f"{item.title} -> {item.position}")
    db.session.expire(session, ["items"])


def _renumber(session: ConsultationSession) -> None:
    for position, each in enumerate(sorted(session.items, key=lambda i: i.position), start=1):
        each.position = position


# --- lifecycle --------------------------------------------------------------------------

def notice_session(session: ConsultationSession, *, actor: User) -> None:
    """Publish the notice: it appears on the notice board and on every member's page."""
    if not session.items:
        raise DomainError(_l("Add at least one agenda item before publishing the notice."))
    session.notice()
    db.session.flush()
    bump_live_version(session)
    audit.record("session.noticed", session, actor=actor, community=session.community,
                 summary=f"{session.title} at {session.starts_at:%Y-%m-%d %H:%M} UTC")
    notification_events.meeting_noticed(session)


def start_session(session: ConsultationSession, *, urgent_reason: str = "", actor: User,
                  now: datetime | None = None) -> None:
    """Open the session. A council meeting opens without an urgent-meeting reason only when every member
    was notified (notification_events.MemberNotice) at least the council's notice period before now."""
    reason = _text(urgent_reason, "urgent_reason", None, max_length=1000, optional=True)
    session._require(SessionStatus.noticed)
    now = now or utcnow()
    late = notification_events.not_notified_in_time(session, now)
    if late and not reason and session.earliest_start <= now:  # before that, session.start says the period runs
        raise DomainError(_l("Not every member was notified %(days)d days before the start: %(names)s. Record why "
                             "the meeting is urgent to start it now.", days=session.council.notice_days,
                             names="、".join(user.display_name for user in late)),
                          field="urgent_reason", status_code=422)
    session.start(urgent_reason=reason, now=now)
    if session.current_item_id is None and session.items:
        session.current_item_id = session.items[0].id
    db.session.flush()
    bump_live_version(session)
    audit.record("session.started", session, actor=actor, community=session.community,
                 summary=(f"urgent: {reason}" + (f"; not notified in time: {', '.join(u.login for u in late)}"
                                                 if late else "")) if reason else "")


def adjourn_session(session: ConsultationSession, *, actor: User) -> None:
    if any(m.is_open for m in motions_of(session)):
        raise DomainError(_l("Close the open motion before adjourning."))
    for slot in speaker_queue(session):
        if slot.speaking:
            slot.ended_at = utcnow()
    session.adjourn()
    db.session.flush()
    bump_live_version(session)
    audit.record("session.adjourned", session, actor=actor, community=session.community)


def set_current_item(session: ConsultationSession, item: AgendaItem, *, actor: User) -> None:
    """Move the meeting to another agenda item."""
    session._require(SessionStatus.in_session)
    session.current_item_id = item.id
    db.session.flush()
    bump_live_version(session)
    audit.record("session.current_item", session, actor=actor, community=session.community,
                 summary=f"{item.position}. {item.title}")


# --- attendance -------------------------------------------------------------------------

def may_attend(session: ConsultationSession, user: User) -> bool:
    """Council meetings: the council's members; open consultations and hearings: verified residents."""
    if session.is_council_meeting:
        return session.council is not None and session.council.is_member(user)
    return _is_verified(user, session.community_id)


def sign_in(session: ConsultationSession, user: User, *, recorded_by: User | None = None,
            without_phone: bool = False) -> Attendance:
    """A member signs in on their phone, or the secretary ticks them present (with or without a phone:
    only for a member without one may the secretary enter votes on a phone motion)."""
    session._require(SessionStatus.in_session)
    if not may_attend(session, user):
        raise DomainError(_l("%(user)s cannot sign in to this session.", user=user.display_name), status_code=403)
    without_phone = bool(without_phone and recorded_by is not None)
    existing = attendance_of(session, user)
    if existing is not None:
        if recorded_by is not None and existing.without_phone != without_phone:
            existing.without_phone = without_phone
            db.session.flush()
            bump_live_version(session)
            audit.record("attendance.updated", existing, actor=recorded_by, community=session.community,
                         summary=f"{user.login}: {'without' if without_phone else 'with'} a phone")
        return existing
    attendance = Attendance(session_id=session.id, user_id=user.id, without_phone=without_phone,
                            recorded_by_id=recorded_by.id if recorded_by is not None else None)
    try:
        with db.session.begin_nested():
            db.session.add(attendance)
    except IntegrityError:  # signed in twice at once: the first one stands
        return attendance_of(session, user)
    bump_live_version(session)
    if recorded_by is not None:
        audit.record("attendance.ticked", attendance, actor=recorded_by, community=session.community,
                     summary=f"{user.login}{' without a phone' if without_phone else ''}")
    else:
        audit.record("attendance.signed_in", attendance, actor=user, community=session.community,
                     summary=user.login)
    return attendance


def sign_out(session: ConsultationSession, user: User, *, actor: User) -> None:
    """The secretary unticks a member ticked by mistake (before any motion counted them)."""
    session._require(SessionStatus.in_session)
    attendance = attendance_of(session, user)
    if attendance is not None:
        removed = audit.Ref("Attendance", attendance.id)
        db.session.delete(attendance)
        db.session.flush()
        bump_live_version(session)
        audit.record("attendance.unticked", removed, actor=actor, community=session.community, summary=user.login)


def attendance_of(session: ConsultationSession, user: User) -> Attendance | None:
    return db.session.scalar(select(Attendance).where(Attendance.session_id == session.id,
                                                      Attendance.user_id == user.id))


def attendances(session: ConsultationSession) -> list[Attendance]:
    return list(db.session.scalars(select(Attendance).where(Attendance.session_id == session.id)
                                   .order_by(Attendance.signed_in_at, Attendance.id)))


@dataclass(frozen=True)
class Quorum:
    present: int
    required: int
    members: int

    @property
    def met(self) -> bool:
        return self.members > 0 and self.present >= self.required


def quorum(session: ConsultationSession) -> Quorum | None:
    """Members present against the council's quorum (None for sessions without one)."""
    if not session.is_council_meeting or session.council is None:
        return None
    member_ids = session.council.member_ids
    present_ids = set(db.session.scalars(select(Attendance.user_id).where(Attendance.session_id == session.id)))
    members = len(member_ids)
    return Quorum(len(present_ids & member_ids), quorum_required(session.council.rules, members), members)


# --- speaker queue ----------------------------------------------------------------------

def speaker_queue(session: ConsultationSession) -> list[SpeakerSlot]:
    """Every slot of the session: those spoken, the one speaking, then those waiting, in order."""
    return list(db.session.scalars(select(SpeakerSlot).where(SpeakerSlot.session_id == session.id)
                                   .order_by(SpeakerSlot.position, SpeakerSlot.id)))


def request_to_speak(session: ConsultationSession, user: User) -> SpeakerSlot:
    """Join the queue (present attendees only; once at a time)."""
    session._require(SessionStatus.in_session)
    if attendance_of(session, user) is None:
        raise DomainError(_l("Sign in to the session before asking to speak."))
    if any(s.user_id == user.id and (s.waiting or s.speaking) for s in speaker_queue(session)):
        raise DomainError(_l("You are already in the queue."))
    position = (db.session.scalar(select(func.max(SpeakerSlot.position))
                                  .where(SpeakerSlot.session_id == session.id)) or 0) + 1
    slot = SpeakerSlot(session_id=session.id, user_id=user.id, item_id=session.current_item_id, position=position)
    db.session.add(slot)
    db.session.flush()
    bump_live_version(session)
    audit.record("speaker.requested", slot, actor=user, community=session.community, summary=user.login)
    return slot


def withdraw_request(slot: SpeakerSlot, user: User) -> None:
    """The speaker takes back a request that is still waiting."""
    if slot.user_id != user.id or not slot.waiting:
        raise DomainError(_l("Only a waiting request can be withdrawn."))
    session = db.session.get(ConsultationSession, slot.session_id)
    removed = audit.Ref("SpeakerSlot", slot.id)
    db.session.delete(slot)
    db.session.flush()
    bump_live_version(session)
    audit.record("speaker.withdrawn", removed, actor=user, community=session.community, summary=user.login)


def remove_speaker(slot: SpeakerSlot, *, actor: User) -> None:
    """The secretary takes a waiting request off the queue."""
    session = db.session.get(ConsultationSession, slot.session_id)
    session._require(SessionStatus.in_session)
    if not slot.waiting:
        raise DomainError(_l("Only a waiting request can be removed from the queue."))
    removed, login = audit.Ref("SpeakerSlot", slot.id), slot.user.login
    db.session.delete(slot)
    db.session.flush()
    bump_live_version(session)
    audit.record("speaker.removed", removed, actor=actor, community=session.community, summary=login)


def move_speaker(slot: SpeakerSlot, *, offset: int, actor: User) -> None:
    """The secretary orders the waiting queue."""
    session = db.session.get(ConsultationSession, slot.session_id)
    session._require(SessionStatus.in_session)
    waiting = [s for s in speaker_queue(session) if s.waiting]
    if slot not in waiting:
        raise DomainError(_l("Only waiting speakers can be reordered."))
    positions = [s.position for s in waiting]
    index = waiting.index(slot)
    target = min(max(index + offset, 0), len(waiting) - 1)
    waiting.insert(target, waiting.pop(index))
    for each, position in zip(waiting, positions, strict=True):
        each.position = position
    db.session.flush()
    bump_live_version(session)
    audit.record("speaker.moved", slot, actor=actor, community=session.community,
                 summary=f"{slot.user.login} -> {target + 1} of {len(waiting)}")


def start_speaker(slot: SpeakerSlot, *, seconds: int = DEFAULT_SPEAKER_SECONDS, actor: User,
                  now: datetime | None = None) -> None:
    """Give the floor (ending whoever had it) and start the countdown from a stored start time."""
    session = db.session.get(ConsultationSession, slot.session_id)
    session._require(SessionStatus.in_session)
    if not slot.waiting:
        raise DomainError(_l("This speaker has already spoken."))
    if not 10 <= seconds <= 3600:
        raise DomainError(_l("Between 10 seconds and an hour."), field="seconds", status_code=422)
    now = now or utcnow()
    for other in speaker_queue(session):
        if other.speaking:
            other.ended_at = now
    slot.started_at, slot.seconds_allowed = now, seconds
    db.session.flush()
    bump_live_version(session)
    audit.record("speaker.granted", slot, actor=actor, community=session.community,
                 summary=f"{slot.user.login}, {seconds} s")


def end_speaker(slot: SpeakerSlot, *, actor: User) -> None:
    """End the turn of the speaker who has the floor."""
    if not slot.speaking:
        raise DomainError(_l("This speaker does not have the floor."))
    slot.ended_at = utcnow()
    db.session.flush()
    session = db.session.get(ConsultationSession, slot.session_id)
    bump_live_version(session)
    audit.record("speaker.finished", slot, actor=actor, community=session.community, summary=slot.user.login)


# --- motions ----------------------------------------------------------------------------

def motions_of(session: ConsultationSession) -> list[Motion]:
    return list(db.session.scalars(select(Motion).where(Motion.session_id == session.id).order_by(Motion.id)))


def resolvable_round(item: AgendaItem) -> Round | None:
    """The round a council meeting's motion on this item may resolve."""
    if item.session.is_council_meeting and item.round is not None \
            and item.round.phase == RoundPhase.council_resolution:
        return item.round
    return None


def prefilled_funding(round_: Round) -> list[int]:
    """The ballot result's winners (after any public override)."""
    from deliberation.votes.services import result_of

    result = result_of(round_)
    return result.final_winners if result is not None else []


def ballot_items(round_: Round) -> list[Proposal]:
    return list(db.session.scalars(select(Proposal).where(Proposal.round_id == round_.id,
                                                          Proposal.status == ProposalStatus.on_ballot)
                                   .order_by(Proposal.id)))


def open_motion(item: AgendaItem, *, text: str, actor: User, funded_ids: list[int] | None = None,
                method: CountMethod = CountMethod.phones) -> Motion:
    """Put a motion to the meeting. On a round awaiting resolution it carries the projects to fund."""
    session = item.session
    session._require(SessionStatus.in_session)
    text = _text(text, "text", _l("Write the motion's text."))
    if any(m.is_open for m in motions_of(session)):
        raise DomainError(_l("Close the open motion first."), field="text", status_code=422)
    round_ = resolvable_round(item)
    motion = Motion(session_id=session.id, item_id=item.id, text=text, method=method,
                    advisory=not session.is_council_meeting)
    if round_ is not None:
        on_ballot = {p.id for p in ballot_items(round_)}
        chosen = set(funded_ids if funded_ids is not None else prefilled_funding(round_))
        if not chosen <= on_ballot:
            raise DomainError(_l("Only projects on the ballot can be funded."), field="funded", status_code=422)
        motion.round_id = round_.id
        motion.funded_ids = chosen
    db.session.add(motion)
    db.session.flush()
    db.session.expire(item, ["motions"])
    bump_live_version(session)
    audit.record("motion.opened", motion, actor=actor, community=session.community, summary=text[:200])
    return motion


def eligible_voter_ids(motion: Motion) -> set[int]:
    """Present members at a council meeting; everyone present at a consultation or hearing."""
    session = motion.session
    present = set(db.session.scalars(select(Attendance.user_id).where(Attendance.session_id == session.id)))
    if motion.advisory:
        return present
    return present & session.council.member_ids


def cast_vote(motion: Motion, voter: User, choice: VoteChoice, *, recorded_by: User | None = None) -> MotionVote:
    """A present member votes once on their phone while the motion is open; the secretary (`recorded_by`)
    enters votes only on a roll-call motion, or for a member ticked present without a phone. A vote,
    once recorded, is never replaced. Named votes are audited (they are public in the minutes)."""
    if not motion.is_open:
        raise DomainError(_l("Voting on this motion has closed."))
    if motion.method == CountMethod.show_of_hands:
        raise DomainError(_l("This motion is counted by a show of hands."))
    if recorded_by is None and motion.method == CountMethod.roll_call:
        raise DomainError(_l("This motion is voted by roll call: answer aloud when the secretary calls your name."))
    if voter.id not in eligible_voter_ids(motion):
        raise DomainError(_l("Only members present at the meeting can vote."), status_code=403)
    existing = db.session.scalar(select(MotionVote).where(MotionVote.motion_id == motion.id,
                                                          MotionVote.user_id == voter.id))
    if existing is not None:
        raise _already_voted(voter, existing)
    if recorded_by is not None and motion.method == CountMethod.phones:
        attendance = attendance_of(motion.session, voter)
        if attendance is None or not attendance.without_phone:
            raise DomainError(_l("%(user)s votes on their own phone. The secretary may enter a vote only in a "
                                 "roll-call motion, or for a member ticked present without a phone.",
                                 user=voter.display_name))
    vote = MotionVote(motion_id=motion.id, user_id=voter.id, choice=choice,
                      recorded_by_id=recorded_by.id if recorded_by is not None else None)
    try:
        with db.session.begin_nested():
            db.session.add(vote)
    except IntegrityError as error:  # the member and the secretary at the same moment: the first one stands
        raise _already_voted(voter, None) from error
    entered = f", entered by {recorded_by.login}" if recorded_by is not None else ""
    bump_live_version(motion.session)
    audit.record("motion.vote", vote, actor=recorded_by or voter, community=motion.session.community,
                 summary=f"motion {motion.id}: {voter.login} {choice.value}{entered}")
    log.info("vote on motion %s recorded (roll call: %s)", motion.id, recorded_by is not None)
    return vote


def _already_voted(voter: User, existing: MotionVote | None) -> DomainError:
    if existing is not None and existing.recorded_by_id is None:
        return DomainError(_l("%(user)s has already voted on their own phone; that vote stands and cannot be "
                              "replaced.", user=voter.display_name))
    return DomainError(_l("%(user)s has already voted on this motion.", user=voter.display_name))


def votes_cast(motion: Motion) -> int:
    """How many have voted (not how): the live count."""
    return db.session.scalar(select(func.count(MotionVote.id)).where(MotionVote.motion_id == motion.id)) or 0


def close_motion(motion: Motion, *, actor: User, hands: tuple[int, int, int] | None = None) -> Decision:
    """Close voting, decide by the council's rules and, if a resolution motion passed, resolve the round."""
    if not motion.is_open:
        raise DomainError(_l("This motion is already closed."))
    session = motion.session
    present = len(eligible_voter_ids(motion))
    if motion.method == CountMethod.show_of_hands:
        if hands is None:
            raise DomainError(_l("Enter the counts of the show of hands."), field="yes", status_code=422)
        yes, no, abstain = hands
        if min(hands) < 0 or sum(hands) > present:
            raise DomainError(_l("The counts add up to more than the %(n)d who may vote.", n=present),
                              field="yes", status_code=422)
    else:
        counts = {c: 0 for c in VoteChoice}
        for vote in db.session.scalars(select(MotionVote).where(MotionVote.motion_id == motion.id)):
            counts[vote.choice] += 1
        yes, no, abstain = counts[VoteChoice.yes], counts[VoteChoice.no], counts[VoteChoice.abstain]
        # A member who voted and was then unticked still voted while present: count them as present.
        present = max(present, yes + no + abstain)
    if motion.advisory:
        decision = advisory_decision(yes, no, abstain, present)
    else:
        members = len(session.council.member_ids)
        decision = decide(session.council.rules, Tally(members=members, present=min(present, members), yes=yes,
                                                       no=no, abstain=abstain))
    motion.status = MotionStatus.closed
    motion.closed_at = utcnow()
    motion.yes_count, motion.no_count, motion.abstain_count = yes, no, abstain
    motion.present_count, motion.members_count = decision.tally.present, decision.tally.members
    motion.quorum_required, motion.yes_required, motion.basis_count = (decision.quorum_required,
                                                                       decision.yes_required, decision.basis_count)
    motion.outcome = decision.outcome
    db.session.flush()
    bump_live_version(session)
    audit.record("motion.closed", motion, actor=actor, community=session.community,
                 summary=f"{decision.outcome.value}: {yes} yes, {no} no, {abstain} abstain, {present} present")
    if decision.outcome == Outcome.passed and motion.round is not None and not motion.advisory:
        from deliberation.proposals.services import record_resolution

        note = _("Resolved by %(session)s (motion %(id)s).", session=session.title, id=motion.id)
        record_resolution(motion.round, funded_ids=motion.funded_ids, note=note, actor=actor)
    return decision


def explain(motion: Motion) -> str:
    """The arithmetic behind a closed motion's outcome, in words."""
    if motion.outcome is None:
        return ""
    if motion.advisory:
        return _("%(yes)d of %(present)d present voted yes; more than half of those present (%(needed)d) was "
                 "needed. This vote is advisory.", yes=motion.yes_count, present=motion.present_count,
                 needed=motion.yes_required)
    if motion.outcome == Outcome.no_quorum:
        return _("%(present)d of %(members)d members were present; %(needed)d are needed for a quorum.",
                 present=motion.present_count, members=motion.members_count, needed=motion.quorum_required)
    council = motion.session.council
    fraction = f"{council.pass_num}/{council.pass_den}"
    basis = PASS_BASIS_LABELS[council.pass_basis]
    if council.pass_strict:
        rule = _("more than %(fraction)s of %(basis)s", fraction=fraction, basis=basis)
    else:
        rule = _("at least %(fraction)s of %(basis)s", fraction=fraction, basis=basis)
    return _("%(yes)d of %(members)d members voted yes (%(no)d no, %(abstain)d abstained, %(present)d present); "
             "%(rule)s (%(needed)d) was required.", yes=motion.yes_count, members=motion.members_count,
             no=motion.no_count, abstain=motion.abstain_count, present=motion.present_count, rule=rule,
             needed=motion.yes_required)


# --- minutes ----------------------------------------------------------------------------

def save_item_minutes(item: AgendaItem, *, text: str, actor: User) -> None:
    """The secretary's text for an item, until the minutes are published."""
    item.session._require(SessionStatus.in_session, SessionStatus.adjourned)
    text = _text(text, "text", None, optional=True)
    if text == item.minutes_text:
        return
    item.minutes_text = text
    db.session.flush()
    audit.record("minutes.item_saved", item, actor=actor, community=item.session.community,
                 summary=f"{item.position}. {item.title}")


def save_minutes(session: ConsultationSession, *, item_texts: dict[int, str], summary: str, actor: User) -> None:
    """The secretary's draft: the text of each item (by id) and the general remarks (总体说明)."""
    session._require(SessionStatus.in_session, SessionStatus.adjourned)
    for item in session.items:
        if item.id in item_texts:
            item.minutes_text = _text(item_texts[item.id], "text", None, optional=True)
    session.minutes_summary = _text(summary, "minutes_summary", None, optional=True)
    db.session.flush()
    audit.record("minutes.saved", session, actor=actor, community=session.community, summary=session.title)


def publish_minutes(session: ConsultationSession, *, actor: User, summary: str | None = None) -> None:
    """Publish the minutes as saved (or with `summary` as the general remarks, when given)."""
    if summary is not None:
        session.minutes_summary = _text(summary, "minutes_summary", None, optional=True)
    session.publish_minutes()
    db.session.flush()
    bump_live_version(session)
    audit.record("minutes.published", session, actor=actor, community=session.community, summary=session.title)


def correct_minutes(session: ConsultationSession, *, item: AgendaItem | None, text: str, reason: str,
                    actor: User) -> MinutesCorrection:
    """Published minutes change only by a correction with a public reason (audited, listed on the page)."""
    session._require(SessionStatus.minutes_published)
    reason = _text(reason, "reason", _l("Give the reason for the correction."), max_length=1000)
    text = _text(text, "text", None, optional=True)
    if item is not None and item.session_id != session.id:
        raise DomainError(_l("Choose an item of this session."), field="item", status_code=422)
    old = item.minutes_text if item is not None else session.minutes_summary
    if old == text:
        raise DomainError(_l("The text is unchanged."), field="text", status_code=422)
    correction = MinutesCorrection(session_id=session.id, item_id=item.id if item is not None else None,
                                   old_text=old, new_text=text, reason=reason, actor_id=actor.id)
    if item is not None:
        item.minutes_text = text
    else:
        session.minutes_summary = text
    db.session.add(correction)
    db.session.flush()
    audit.record("minutes.corrected", session, actor=actor, community=session.community, summary=reason)
    return correction


def corrections_of(session: ConsultationSession) -> list[MinutesCorrection]:
    return list(db.session.scalars(select(MinutesCorrection).where(MinutesCorrection.session_id == session.id)
                                   .order_by(MinutesCorrection.id)))


# --- lists ------------------------------------------------------------------------------

def sessions_of(community: Community, *, include_drafts: bool) -> list[ConsultationSession]:
    query = select(ConsultationSession).where(ConsultationSession.community_id == community.id)
    if not include_drafts:
        query = query.where(ConsultationSession.noticed_at.is_not(None))
    return list(db.session.scalars(query.order_by(ConsultationSession.starts_at.desc())))


def upcoming_for_member(user: User, *, now: datetime | None = None) -> list[ConsultationSession]:
    """Noticed or running meetings of councils the user sits on (for the personal page)."""
    from deliberation.councils.models import CouncilMember

    return list(db.session.scalars(
        select(ConsultationSession).join(CouncilMember, CouncilMember.council_id == ConsultationSession.council_id)
        .where(CouncilMember.user_id == user.id,
               ConsultationSession.kind == SessionKind.council_meeting,
               ConsultationSession.status.in_([SessionStatus.noticed, SessionStatus.in_session]))
        .order_by(ConsultationSession.starts_at)
    ))
