"""The other wired events: meeting changed, survey opened, evaluation published, proposal status,
a reply to my comment, an objection answered."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from deliberation.consultations import services as sessions
from deliberation.extensions import db
from deliberation.notifications.models import InboxItem
from deliberation.proposals import services as proposals
from deliberation.proposals.models import RoundPhase
from tests.councils.factories import make_council, make_session
from tests.evaluations.conftest import ew, survey_in  # noqa: F401 (fixtures)
from tests.evaluations.factories import make_published, make_survey
from tests.factories import make_resident
from tests.proposals.factories import make_proposal, make_round, move_to


def titles(user) -> list[str]:
    return list(db.session.scalars(select(InboxItem.title).where(InboxItem.user_id == user.id).order_by(InboxItem.id)))


def test_changing_a_noticed_meeting_tells_every_member_again(world):
    council = make_council(world.community, world.admin, members=3, seat_users=[world.resident])
    session = make_session(world.community, world.secretary, council)
    sessions.update_session(session, fields=sessions.SessionFields(
        kind=session.kind, title=session.title, starts_at=session.starts_at, place="旧址"), actor=world.secretary)
    assert not any(t.startswith("议事会会议变更") for t in titles(world.resident))  # a draft tells nobody
    sessions.notice_session(session, actor=world.secretary)
    sessions.update_session(session, fields=sessions.SessionFields(
        kind=session.kind, title=session.title, starts_at=session.starts_at + timedelta(hours=2), place="二楼会议室"),
        actor=world.secretary)
    for member in council.members:
        assert titles(member.user)[-1] == "议事会会议变更：第三届议事会第5次会议"
    body = db.session.scalar(select(InboxItem.body).where(InboxItem.user_id == world.resident.id)
                             .order_by(InboxItem.id.desc()).limit(1))
    assert "二楼会议室" in body


def test_opening_a_survey_tells_the_residents_of_the_served_estates(ew):  # noqa: F811
    make_survey(ew.firm, actor=ew.w.party)
    assert ew.firm.name in titles(ew.neighbour)[-1]
    assert titles(ew.w.resident)[-1] == titles(ew.neighbour)[-1]
    assert not any(ew.firm.name in t for t in titles(ew.longhui))  # 龙辉花园 is not served by the firm


def test_publishing_an_evaluation_asks_the_representative_for_a_reply(ew, survey_in):  # noqa: F811
    survey = survey_in("2026-Q2")
    make_published(ew.firm, submitter=ew.w.party, confirmer=ew.party2, survey=survey, period="2026-Q2")
    assert titles(ew.org_rep)[-1] == f"评价已公布：{ew.firm.name} 2026-Q2"
    assert not any("评价已公布" in t for t in titles(ew.committee_rep))


def test_proposal_status_reply_and_objection_tell_their_authors(world):
    round_ = make_round(world.community, world.secretary)
    mine = make_proposal(round_, world.resident, title="楼道照明")
    other = make_proposal(round_, world.resident, title="外墙广告屏")
    move_to(round_, RoundPhase.screening, world.secretary)
    proposals.accept_proposal(mine, actor=world.secretary, reason="测试")
    proposals.reject_proposal(other, actor=world.secretary, reason="不属于民生项目")
    assert titles(world.resident)[-2:] == ["您提出的项目已受理：楼道照明", "您提出的项目未被受理：外墙广告屏"]
    body = db.session.scalar(select(InboxItem.body).where(InboxItem.user_id == world.resident.id)
                             .order_by(InboxItem.id.desc()).limit(1))
    assert body == "原因：不属于民生项目"

    neighbour, _ = make_resident(world.community)
    top = proposals.add_comment(mine, world.resident, body="灯太暗")
    proposals.add_comment(mine, world.resident, body="补充一下")  # replying to oneself tells nobody
    proposals.add_comment(mine, neighbour, body="同意", parent=top)
    assert titles(world.resident)[-1] == "有人回复了您对楼道照明的评论"
    assert titles(world.resident).count("有人回复了您对楼道照明的评论") == 1

    move_to(round_, RoundPhase.publicity, world.secretary, party=world.party)
    objection = proposals.file_objection(mine, neighbour, body="预算偏高")
    proposals.answer_objection(objection, actor=world.secretary, answer="已核价")
    assert titles(neighbour)[-1] == "您对楼道照明的异议已获答复"
