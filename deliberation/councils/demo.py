"""Demo council: the term, its fifteen members, a noticed upcoming meeting and a past meeting with
motions, outcomes and published minutes. Text is Chinese, as a real community would write it."""

from __future__ import annotations

from datetime import date, timedelta

from deliberation.auth.models import User
from deliberation.communities.models import Community
from deliberation.consultations import services as sessions
from deliberation.consultations.models import CountMethod, SessionKind, VoteChoice
from deliberation.core.models import utcnow
from deliberation.councils import services
from deliberation.councils.models import SeatType
from deliberation.extensions import db

SEATS = [SeatType.party_committee, SeatType.residents_committee, SeatType.residents_committee, SeatType.deputy,
         SeatType.organisation] + [SeatType.elected_resident] * 10


def load_demo_council(community: Community, *, admin: User, secretary: User, members: list[User]) -> str:
    """`members`: member1..member9 and a few more residents (the secretary sits on the council too)."""
    council = services.create_council(community, settings=services.CouncilSettings(
        name="桃源社区居民议事会", term_label="第三届", term_start=date(2025, 1, 1), term_end=date(2027, 12, 31)),
        actor=admin)
    seated = [secretary, *members][:15]
    for user, seat in zip(seated, SEATS, strict=False):
        services.add_member(council, user, seat=seat, actor=admin)

    now = utcnow()
    # A past meeting, held three weeks ago, with its minutes published.
    past = sessions.create_session(community, fields=sessions.SessionFields(
        kind=SessionKind.council_meeting, title="第三届议事会第4次会议", starts_at=now - timedelta(days=21),
        place="桃源社区党群服务中心二楼会议室"), council=council, actor=secretary)
    ramp = sessions.add_item(past, fields=sessions.ItemFields(
        title="3栋、5栋无障碍坡道维修", description="居民反映坡道破损，轮椅难以通行。", minutes_allotted=30),
        actor=secretary)
    lights = sessions.add_item(past, fields=sessions.ItemFields(
        title="龙辉花园夜间照明改造", description="物业提出更换为LED路灯的方案。", minutes_allotted=20),
        actor=secretary)
    sessions.notice_session(past, actor=secretary)
    past.noticed_at = now - timedelta(days=26)
    _members_read_the_notice(past, at=now - timedelta(days=25))
    sessions.start_session(past, actor=secretary, now=now - timedelta(days=21))
    for user in seated[:13]:
        # Three members without a phone are ticked by the secretary, who then enters their votes.
        without_phone = user in seated[10:13]
        sessions.sign_in(past, user, recorded_by=secretary if without_phone else None, without_phone=without_phone)
    for user in seated[1:3]:
        sessions.request_to_speak(past, user)
    queue = sessions.speaker_queue(past)
    sessions.start_speaker(queue[0], actor=secretary, now=now - timedelta(days=21))
    sessions.end_speaker(queue[0], actor=secretary)
    first = sessions.open_motion(ramp, text="同意将3栋、5栋坡道维修列入本年度民生微实事，由社区工作站组织实施。",
                                 actor=secretary)
    for user, choice in zip(seated[:13], [VoteChoice.yes] * 11 + [VoteChoice.no, VoteChoice.abstain], strict=True):
        sessions.cast_vote(first, user, choice, recorded_by=secretary if user in seated[10:13] else None)
    sessions.close_motion(first, actor=secretary)
    sessions.set_current_item(past, lights, actor=secretary)
    second = sessions.open_motion(lights, text="同意物业提出的LED路灯更换方案，费用由物业专项维修资金列支。",
                                  actor=secretary, method=CountMethod.show_of_hands)
    sessions.close_motion(second, actor=secretary, hands=(6, 5, 2))
    sessions.save_item_minutes(ramp, text="刘敏介绍坡道现状；多名委员建议同时加装扶手。会议表决通过。",
                               actor=secretary)
    sessions.save_item_minutes(lights, text="委员对费用来源意见不一，方案未获通过，请物业补充报价后再议。",
                               actor=secretary)
    sessions.adjourn_session(past, actor=secretary)
    sessions.publish_minutes(past, summary="会议应到15人，实到13人，符合议事规则。", actor=secretary)

    # An upcoming meeting, noticed today, in five days' time.
    upcoming = sessions.create_session(community, fields=sessions.SessionFields(
        kind=SessionKind.council_meeting, title="第三届议事会第5次会议", starts_at=now + timedelta(days=5),
        place="桃源社区党群服务中心二楼会议室"), council=council, actor=secretary)
    for title, description, minutes in [
        ("审议本年度民生微实事项目清单", "根据居民投票结果审议拟资助项目。", 40),
        ("听取龙辉花园照明改造补充方案", "物业补充报价后再次提交。", 20),
        ("其他事项", "", 10),
    ]:
        sessions.add_item(upcoming, fields=sessions.ItemFields(title=title, description=description,
                                                               minutes_allotted=minutes), actor=secretary)
    sessions.notice_session(upcoming, actor=secretary)
    return (f"Council {council.name} {council.term_label}: {len(seated)} members; a noticed meeting in 5 days and "
            f"a past meeting with 2 motions and published minutes.")


def _members_read_the_notice(session, *, at) -> None:
    """Demo history: the notice was written into every member's inbox at its time and read the next day
    (the proof that lets the past meeting start without an urgent reason)."""
    from sqlalchemy import update

    from deliberation.notifications.events import meeting_key
    from deliberation.notifications.models import Channel, InboxItem, OutboxMessage

    prefix = f"{meeting_key(session)}:"
    db.session.execute(update(InboxItem).where(InboxItem.key.startswith(prefix, autoescape=True))
                       .values(created_at=session.noticed_at, read_at=at))
    db.session.execute(update(OutboxMessage).where(OutboxMessage.key.startswith(prefix, autoescape=True),
                                                   OutboxMessage.channel == Channel.inbox)
                       .values(created_at=session.noticed_at, delivered_at=session.noticed_at))

