"""The events that notify: each is one call from the service that makes the change, in its transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import select

from deliberation.extensions import db
from deliberation.notifications.models import Channel, DeliveryStatus, InboxItem, OutboxMessage
from deliberation.notifications.services import notify

if TYPE_CHECKING:
    from deliberation.auth.models import User
    from deliberation.communities.models import Residency
    from deliberation.consultations.models import ConsultationSession
    from deliberation.proposals.models import Round


def path_for(endpoint: str, **values) -> str:
    """The site path of an endpoint, with or without a request (the worker and the CLI have none)."""
    return current_app.url_map.bind("localhost").build(endpoint, values)


def meeting_key(session: ConsultationSession) -> str:
    return f"meeting-noticed:{session.id}"


def _session_audience(session: ConsultationSession) -> tuple[list[int], str] | None:
    """Who hears of a session, and the prefix of its kinds: a council meeting's members ("meeting_"); the
    verified residents of the community for an open consultation or a hearing ("session_")."""
    from deliberation.communities.models import Residency, ResidencyStatus

    if session.is_council_meeting:
        if session.council is None:
            return None
        return [member.user_id for member in session.council.members], "meeting_"
    residents = db.session.scalars(select(Residency.user_id).where(
        Residency.community_id == session.community_id, Residency.status == ResidencyStatus.verified)).all()
    return list(residents), "session_"


def _session_context(session: ConsultationSession) -> dict:
    return {"title": session.title, "starts_at": session.starts_at, "place": session.place,
            "kind": session.kind.value, "reason": session.cancel_reason or ""}


def meeting_noticed(session: ConsultationSession) -> None:
    """A session's notice went out: tell every member of the council (a council meeting) or every verified
    resident of the community (an open consultation or a hearing)."""
    audience = _session_audience(session)
    if audience is None:
        return
    recipients, prefix = audience
    notify(recipients, f"{prefix}noticed", key=meeting_key(session),
           link=path_for("consultations.detail", slug=session.community.slug, session_id=session.id),
           context=_session_context(session), community_id=session.community_id)


def notice_deliveries(session: ConsultationSession) -> list[OutboxMessage]:
    """Each member's notice per channel with its delivery time (None while not delivered): the proof
    that the notice period was kept."""
    return list(db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.key.startswith(f"{meeting_key(session)}:", autoescape=True))
        .order_by(OutboxMessage.user_id, OutboxMessage.channel)))


@dataclass
class MemberNotice:
    """When one council member got a meeting's notice, per channel (None: not delivered, or not sent
    on that channel).

    "Notified" is the earliest of: the e-mail or the SMS handed to the mail server or the SMS gateway
    (the off-site deliveries, which reach the member without their opening the site), or the notice
    read in the in-app inbox. The inbox item alone is written when the notice is published and proves
    only that the site showed it to whoever looked; a member who neither opened the inbox nor has an
    address that took a message was not proven notified."""

    user: User
    inbox_at: datetime | None = None  # written into the inbox (the notice's commit)
    read_at: datetime | None = None  # the inbox item opened
    email_at: datetime | None = None
    sms_at: datetime | None = None

    @property
    def notified_at(self) -> datetime | None:
        return min((t for t in (self.email_at, self.sms_at, self.read_at) if t is not None), default=None)


def member_notices(session: ConsultationSession) -> list[MemberNotice]:
    """Every current member of the meeting's council with their notice times (two queries)."""
    if session.council is None:
        return []
    notices = {member.user_id: MemberNotice(member.user) for member in session.council.members}
    for row in notice_deliveries(session):
        notice = notices.get(row.user_id)
        if notice is None or row.status != DeliveryStatus.sent:
            continue
        attribute = {Channel.inbox: "inbox_at", Channel.email: "email_at", Channel.sms: "sms_at"}[row.channel]
        setattr(notice, attribute, row.delivered_at)
    for user_id, read_at in db.session.execute(
            select(InboxItem.user_id, InboxItem.read_at)
            .where(InboxItem.key.startswith(f"{meeting_key(session)}:", autoescape=True))):
        if user_id in notices:
            notices[user_id].read_at = read_at
    return list(notices.values())


def not_notified_in_time(session: ConsultationSession, start: datetime) -> list[User]:
    """The members not notified at least the council's notice period before `start` (UTC)."""
    if not session.is_council_meeting or session.council is None:
        return []
    deadline = start - timedelta(days=session.council.notice_days)
    return [notice.user for notice in member_notices(session)
            if notice.notified_at is None or notice.notified_at > deadline]


def voting_opened(round_: Round) -> None:
    """A round's vote opened: tell every verified resident of the community."""
    from deliberation.communities.models import Residency, ResidencyStatus

    voters = db.session.scalars(select(Residency.user_id).where(
        Residency.community_id == round_.community_id, Residency.status == ResidencyStatus.verified)).all()
    notify(voters, "voting_opened", key=f"voting-opened:{round_.id}",
           link=path_for("votes.ballot", slug=round_.community.slug, round_id=round_.id),
           context={"round": round_.title}, community_id=round_.community_id)


def voting_closing(round_: Round) -> int:
    """Voting closes within 24 hours: tell the eligible residents who have not voted (nor their household,
    in a per-household round). Only who took part is read, never a ballot. Returns how many were told."""
    from deliberation.communities.models import Residency, ResidencyStatus
    from deliberation.votes.models import BallotParticipation

    voted = select(BallotParticipation.user_id).where(BallotParticipation.round_id == round_.id)
    query = select(Residency.user_id).where(
        Residency.community_id == round_.community_id, Residency.status == ResidencyStatus.verified,
        Residency.user_id.not_in(voted))
    if round_.ballot_per_household:
        query = query.where(Residency.household_key.not_in(
            select(BallotParticipation.eligibility_key).where(BallotParticipation.round_id == round_.id)))
    residents = sorted(set(db.session.scalars(query)))
    notify(residents, "voting_closing", key=f"voting-closing:{round_.id}:{round_.voting_closes_at:%Y%m%dT%H%M}",
           link=path_for("votes.ballot", slug=round_.community.slug, round_id=round_.id),
           context={"round": round_.title, "closes_at": round_.voting_closes_at}, community_id=round_.community_id)
    return len(residents)


def residency_decided(residency: Residency) -> None:
    """The office verified or rejected a residency: tell the resident."""
    verified = residency.status.value == "verified"
    context = {"community": residency.community.name}
    if not verified:
        context["reason"] = residency.rejection_reason or ""
    notify([residency.user_id], "verification_approved" if verified else "verification_rejected",
           key=f"residency-{residency.status.value}:{residency.id}:{residency.verified_at:%Y%m%dT%H%M%S%f}",
           link=path_for("communities.home", slug=residency.community.slug), context=context,
           community_id=residency.community_id)


def meeting_changed(session: ConsultationSession) -> None:
    """A noticed session's time, place or title changed: tell its audience again."""
    from deliberation.core.models import utcnow

    audience = _session_audience(session) if session.status.value == "noticed" else None
    if audience is None:
        return
    recipients, prefix = audience
    notify(recipients, f"{prefix}changed", key=f"meeting-changed:{session.id}:{utcnow():%Y%m%dT%H%M%S%f}",
           link=path_for("consultations.detail", slug=session.community.slug, session_id=session.id),
           context=_session_context(session), community_id=session.community_id)


def meeting_cancelled(session: ConsultationSession) -> None:
    """A noticed session was cancelled: tell those who were told of it, with the reason. A draft was never
    announced: cancelling it tells no one."""
    if session.noticed_at is None:
        return
    audience = _session_audience(session)
    if audience is None:
        return
    recipients, prefix = audience
    notify(recipients, f"{prefix}cancelled", key=f"meeting-cancelled:{session.id}",
           link=path_for("consultations.detail", slug=session.community.slug, session_id=session.id),
           context=_session_context(session), community_id=session.community_id)


def survey_opened(survey) -> None:
    """A satisfaction survey opened: tell the verified residents of the estates the organisation serves."""
    from deliberation.communities.models import Building, Residency, ResidencyStatus

    organisation = survey.organisation
    residents = db.session.scalars(
        select(Residency.user_id).join(Building, Building.id == Residency.building_id).where(
            Residency.community_id == organisation.community_id, Residency.status == ResidencyStatus.verified,
            Building.estate_id.in_(organisation.estate_ids))).all()
    notify(residents, "survey_opened", key=f"survey-opened:{survey.id}",
           link=path_for("evaluations.survey", slug=organisation.community.slug, survey_id=survey.id),
           context={"organisation": organisation.name, "closes_at": survey.closes_at},
           community_id=organisation.community_id)


def evaluation_published(evaluation) -> None:
    """An evaluation was published: ask the organisation's representatives for their reply."""
    from deliberation.communities.models import Role, RoleGrant

    organisation = evaluation.organisation
    representatives = db.session.scalars(select(RoleGrant.user_id).where(
        RoleGrant.role == Role.org_rep, RoleGrant.organisation_id == organisation.id)).all()
    notify(representatives, "evaluation_published", key=f"evaluation-published:{evaluation.id}",
           link=path_for("evaluations.evaluation", slug=organisation.community.slug, evaluation_id=evaluation.id),
           context={"organisation": organisation.name, "period": evaluation.period},
           community_id=organisation.community_id)


def proposal_status_changed(proposal) -> None:
    """My proposal was accepted, rejected or struck from the ballot list: tell its proposer."""
    status = proposal.status.value
    notify([proposal.proposer_id], "proposal_status", key=f"proposal-{status}:{proposal.id}",
           link=path_for("proposals.detail", slug=proposal.round.community.slug, proposal_id=proposal.id),
           context={"title": proposal.title, "status": status, "reason": proposal.status_reason or ""},
           community_id=proposal.community_id)


def comment_replied(comment) -> None:
    """Someone replied to my comment: tell the author of the comment replied to (not oneself)."""
    if comment.parent_id is None:
        return
    from deliberation.proposals.models import Comment

    parent_author = db.session.scalar(select(Comment.author_id).where(Comment.id == comment.parent_id))
    if parent_author is None or parent_author == comment.author_id:
        return
    proposal = comment.proposal
    notify([parent_author], "comment_reply", key=f"comment-reply:{comment.id}",
           link=path_for("proposals.detail", slug=proposal.round.community.slug, proposal_id=proposal.id),
           context={"title": proposal.title}, community_id=proposal.community_id)


def objection_answered(objection) -> None:
    """My objection during publicity was answered: tell its author."""
    proposal = objection.proposal
    notify([objection.author_id], "objection_answered", key=f"objection-answered:{objection.id}",
           link=path_for("proposals.detail", slug=proposal.round.community.slug, proposal_id=proposal.id),
           context={"title": proposal.title}, community_id=proposal.community_id)
