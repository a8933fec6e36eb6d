"""Factories for councils and sessions."""

from __future__ import annotations

from datetime import date, timedelta

from deliberation.consultations import services as sessions
from deliberation.consultations.models import ConsultationSession, SessionKind
from deliberation.core.models import utcnow
from deliberation.councils import services
from deliberation.councils.models import Council, SeatType
from tests.factories import make_resident


def make_council(community, actor, *, members: int = 15, seat_users=(), **overrides) -> Council:
    settings = dict(name="桃源社区居民议事会", term_label="第三届", term_start=date(2026, 1, 1),
                    term_end=date(2028, 12, 31))
    settings.update(overrides)
    council = services.create_council(community, settings=services.CouncilSettings(**settings), actor=actor)
    for user in seat_users:
        services.add_member(council, user, seat=SeatType.residents_committee, actor=actor)
    for n in range(members - len(seat_users)):
        user, _ = make_resident(community, login=f"member-{council.id}-{n}")
        services.add_member(council, user, seat=SeatType.elected_resident, actor=actor)
    return council


def make_session(community, secretary, council=None, *, kind=SessionKind.council_meeting, items: int = 1,
                 starts_in=timedelta(days=4), title="第三届议事会第5次会议") -> ConsultationSession:
    fields = sessions.SessionFields(kind=kind, title=title, starts_at=utcnow() + starts_in, place="社区党群服务中心")
    session = sessions.create_session(community, fields=fields, council=council, actor=secretary)
    for n in range(items):
        sessions.add_item(session, fields=sessions.ItemFields(title=f"议题{n + 1}"), actor=secretary)
    return session


def start(session, secretary) -> None:
    """Notice and open the session at once (with an urgent reason, so no waiting period)."""
    sessions.notice_session(session, actor=secretary)
    sessions.start_session(session, urgent_reason="测试用紧急会议", actor=secretary)


def members(council) -> list:
    return [m.user for m in council.members]
