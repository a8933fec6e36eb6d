"""Council operations: set up a term, its rules and members. They flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from deliberation.auth.models import User
from deliberation.communities.models import Community, ResidencyStatus
from deliberation.core import audit
from deliberation.core.errors import DomainError
from deliberation.councils.models import Council, CouncilMember, SeatType
from deliberation.councils.rules import PassBasis
from deliberation.extensions import db


@dataclass
class CouncilSettings:
    name: str
    term_label: str
    term_start: date
    term_end: date
    quorum_num: int = 2
    quorum_den: int = 3
    quorum_strict: bool = True
    pass_basis: PassBasis = PassBasis.all_members
    pass_num: int = 1
    pass_den: int = 2
    pass_strict: bool = True
    notice_days: int = 3


def _check(community: Community, settings: CouncilSettings, council: Council | None) -> None:
    if not (settings.name or "").strip():
        raise DomainError(_l("Give the council a name."), field="name", status_code=422)
    if not (settings.term_label or "").strip():
        raise DomainError(_l("Name the term, for example 第三届."), field="term_label", status_code=422)
    if settings.term_end < settings.term_start:
        raise DomainError(_l("The term cannot end before it starts."), field="term_end", status_code=422)
    for prefix, field in (("quorum", "quorum_num"), ("pass", "pass_num")):
        num, den = getattr(settings, f"{prefix}_num"), getattr(settings, f"{prefix}_den")
        if den <= 0 or num < 0 or num > den:
            raise DomainError(_l("A fraction must be between 0 and 1, for example 2 / 3."), field=field,
                              status_code=422)
    if settings.notice_days < 0:
        raise DomainError(_l("Cannot be negative."), field="notice_days", status_code=422)
    clash = db.session.scalar(select(Council.id).where(Council.community_id == community.id,
                                                       Council.term_label == settings.term_label.strip()))
    if clash is not None and (council is None or clash != council.id):
        raise DomainError(_l("This community already has a council for that term."), field="term_label",
                          status_code=422)


def _require_no_vote_running(council: Council) -> None:
    """Rules and members decide an open motion when it closes: they hold while one is being voted on (as a
    round's ballot rules lock when voting opens), or the pass mark or the basis could move under the vote."""
    from deliberation.consultations.models import ConsultationSession, Motion, MotionStatus

    voting = db.session.scalar(select(Motion.id).join(ConsultationSession, ConsultationSession.id == Motion.session_id)
                               .where(ConsultationSession.council_id == council.id,
                                      Motion.status == MotionStatus.open).limit(1))
    if voting is not None:
        raise DomainError(_l("A motion of this council is being voted on now: change its rules or members once that "
                             "vote is closed."))


def _apply(council: Council, settings: CouncilSettings) -> None:
    for key, value in vars(settings).items():
        # A StrEnum is a str too: only plain text is trimmed, an enum stays itself.
        setattr(council, key, value.strip() if type(value) is str else value)


def create_council(community: Community, *, settings: CouncilSettings, actor: User) -> Council:
    """Set up the council for a term with its rules (members are added next)."""
    _check(community, settings, None)
    council = Council(community=community, created_by_id=actor.id)
    _apply(council, settings)
    db.session.add(council)
    db.session.flush()
    audit.record("council.created", council, actor=actor, community=community,
                 summary=f"{council.name} {council.term_label}")
    return council


def update_council(council: Council, *, settings: CouncilSettings, actor: User) -> Council:
    """Change the name, term or rules; audited, since the rules decide motions."""
    _require_no_vote_running(council)
    _check(council.community, settings, council)
    _apply(council, settings)
    db.session.flush()
    _council_changed(council)
    audit.record("council.updated", council, actor=actor, community=council.community,
                 summary=f"quorum {council.quorum_num}/{council.quorum_den} pass {council.pass_num}/"
                         f"{council.pass_den} of {council.pass_basis.value}, notice {council.notice_days} days")
    return council


def add_member(council: Council, user: User, *, seat: SeatType, actor: User) -> CouncilMember:
    """Seat a verified resident of the community on the council."""
    _require_no_vote_running(council)
    if not any(r.community_id == council.community_id and r.status == ResidencyStatus.verified
               for r in user.residencies):
        raise DomainError(_l("Only verified residents of the community can sit on its council."), field="user",
                          status_code=422)
    if council.is_member(user):
        raise DomainError(_l("%(user)s is already a member.", user=user.display_name), field="user",
                          status_code=422)
    member = CouncilMember(council=council, user=user, seat=seat)
    db.session.add(member)
    db.session.flush()
    _council_changed(council)
    audit.record("council.member_added", council, actor=actor, community=council.community,
                 summary=f"{user.login} ({seat.value})")
    return member


def remove_member(member: CouncilMember, *, actor: User) -> None:
    council = member.council
    _require_no_vote_running(council)
    login = member.user.login
    council.members.remove(member)
    db.session.flush()
    _council_changed(council)
    audit.record("council.member_removed", council, actor=actor, community=council.community, summary=login)


def _council_changed(council: Council) -> None:
    """Members and rules decide the quorum that running meetings show: their live version moves on."""
    from deliberation.consultations.live import bump_live_version
    from deliberation.consultations.models import ConsultationSession, SessionStatus

    for session in db.session.scalars(select(ConsultationSession).where(
            ConsultationSession.council_id == council.id, ConsultationSession.status == SessionStatus.in_session)):
        bump_live_version(session)


def councils_of(community: Community) -> list[Council]:
    """Every term, newest first, with members loaded (a fixed number of queries)."""
    return list(db.session.scalars(
        select(Council).where(Council.community_id == community.id).order_by(Council.term_start.desc())
        .options(selectinload(Council.members))
    ))


def current_council(community: Community) -> Council | None:
    """The council of the latest term."""
    return db.session.scalar(select(Council).where(Council.community_id == community.id)
                             .order_by(Council.term_start.desc()).limit(1))


def councils_of_member(user: User) -> list[Council]:
    return list(db.session.scalars(select(Council).join(CouncilMember).where(CouncilMember.user_id == user.id)))
