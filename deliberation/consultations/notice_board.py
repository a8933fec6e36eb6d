"""The meetings section of the community notice board: notices of upcoming sessions, recent minutes."""

from sqlalchemy import select

from deliberation.consultations.models import ConsultationSession, SessionStatus
from deliberation.core import notice_board
from deliberation.core.notice_board import NoticeSection
from deliberation.extensions import db


@notice_board.register("meetings", order=30)
def meetings(community) -> NoticeSection:
    """Two queries whatever the number of sessions."""
    base = select(ConsultationSession).where(ConsultationSession.community_id == community.id)
    upcoming = db.session.scalars(
        base.where(ConsultationSession.status.in_([SessionStatus.noticed, SessionStatus.in_session]))
        .order_by(ConsultationSession.starts_at).limit(5)).all()
    minutes = db.session.scalars(
        base.where(ConsultationSession.status == SessionStatus.minutes_published)
        .order_by(ConsultationSession.minutes_published_at.desc()).limit(5)).all()
    return NoticeSection("meetings", "consultations/notice/_meetings.html",
                         {"upcoming": upcoming, "minutes": minutes})
