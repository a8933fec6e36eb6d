"""The demo data is what the README promises."""

from __future__ import annotations

from sqlalchemy import func, select

from deliberation.auth.models import User
from deliberation.communities.models import Community, Residency, ResidencyStatus, Role
from deliberation.core.audit import verify_chain
from deliberation.core.permissions import has_role
from deliberation.demo import DEMO_PASSWORD, load_demo
from deliberation.extensions import db
from tests.sms import last_code


def count(status: ResidencyStatus) -> int:
    return db.session.scalar(select(func.count(Residency.id)).where(Residency.status == status))


def test_demo_community_accounts_and_roll_match_the_readme(client, db_session):
    load_demo()
    community = db.session.scalar(select(Community).where(Community.slug == "taoyuan"))
    assert community.district == "深圳市南山区" and len(community.estates) == 2
    assert sum(len(e.buildings) for e in community.estates) == 6
    assert count(ResidencyStatus.verified) == 200 and count(ResidencyStatus.pending) == 5
    assert verify_chain().ok

    for login, role in [("admin", Role.community_admin), ("secretary", Role.council_secretary),
                        ("party", Role.party_branch), ("member9", Role.council_member)]:
        response = client.post("/login", data={"login": login, "password": DEMO_PASSWORD})
        assert response.status_code == 303, login
        client.post("/logout")
        assert has_role(db.session.scalar(User.by_login(login)), community, role)

    # The README's example: on the roll, no account yet: the SMS code proves the phone, so the roll
    # match verifies the household at once.
    building = next(b for e in community.estates for b in e.buildings if b.name == "3栋")
    response = client.post("/c/taoyuan/register", data={
        "building": building.id, "unit": "2", "room": "1701", "display_name": "试用居民", "phone": "13900000200",
        "password": "long-enough-1", "confirm": "long-enough-1"})
    assert response.status_code == 303 and response.headers["Location"] == "/phone/code"
    assert client.post("/phone/code", data={"code": last_code(client.application, "13900000200")}).status_code == 303
    assert "已认证" in client.get("/account").get_data(as_text=True)


def test_demo_has_rounds_in_several_phases(client, db_session):
    from deliberation.proposals.models import Proposal, ProposalStatus, Round, RoundPhase

    load_demo()
    phases = {r.title: r.phase for r in db.session.scalars(select(Round))}
    assert sorted(phases.values()) == sorted([RoundPhase.collecting, RoundPhase.voting, RoundPhase.implementing,
                                              RoundPhase.closed, RoundPhase.closed, RoundPhase.closed])
    collecting = next(r for r in db.session.scalars(select(Round)) if r.phase == RoundPhase.collecting)
    proposals = db.session.scalars(select(Proposal).where(Proposal.round_id == collecting.id)).all()
    assert len(proposals) == 15 and any(p.photos for p in proposals)
    completed = select(func.count(Proposal.id)).join(Round).where(Proposal.status == ProposalStatus.completed,
                                                                  Round.title.in_(["2025年度民生微实事",
                                                                                   "2026年度民生微实事"]))
    assert db.session.scalar(completed) == 4
    page = client.get(f"/c/taoyuan/rounds/{collecting.id}").get_data(as_text=True)
    assert "15 个项目" in page


def test_demo_has_an_open_vote_and_a_counted_closed_round(client, db_session):
    from deliberation.proposals.models import Round, RoundPhase
    from deliberation.votes.models import Ballot
    from deliberation.votes.services import paper_sheets, result_of

    load_demo()
    rounds = {r.phase: r for r in db.session.scalars(select(Round).where(Round.title.contains("投票")
                                                                          .is_(False)))}
    closed, voting = rounds[RoundPhase.closed], rounds[RoundPhase.voting]
    assert result_of(closed).ballots_counted == 150
    assert db.session.scalar(select(func.count(Ballot.id)).where(Ballot.round_id == closed.id,
                                                                 Ballot.channel == "paper")) == 6
    assert "共计入 150 张选票" in client.get(f"/c/taoyuan/rounds/{closed.id}/results").get_data(as_text=True)
    assert any(s.state == "mismatch" for s in paper_sheets(voting))
    client.post("/login", data={"login": "resident", "password": DEMO_PASSWORD})
    assert client.get(f"/c/taoyuan/rounds/{voting.id}/vote").status_code == 200


def test_demo_evaluations_show_a_firm_sliding_to_fail_a_closed_survey_and_a_reply(client, db_session):
    from deliberation.evaluations import services
    from deliberation.evaluations.models import SatisfactionSurvey
    from deliberation.evaluations.scoring import Grade

    load_demo()
    community = db.session.scalar(select(Community).where(Community.slug == "taoyuan"))
    summaries = {s.organisation.name: s for s in services.organisation_summaries(community)}
    firm, committee = summaries["深圳市鹏城物业服务有限公司"], summaries["龙辉花园业主委员会"]
    assert [e.period for e in firm.history] == ["2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]
    totals = [e.total for e in firm.history]
    assert totals == sorted(totals, reverse=True)  # trending down
    assert firm.history[-1].grade == Grade.failing and firm.needs_review
    assert committee.history[-1].grade in (Grade.excellent, Grade.good) and not committee.needs_review
    surveys = db.session.scalars(select(SatisfactionSurvey)).all()
    assert len(surveys) == 8 and all(not s.open_now for s in surveys)
    assert all(e.survey_responses and e.survey_responses >= 20 for e in firm.history)
    assert services.reply_for(firm.history[-1]) is not None
    assert verify_chain().ok

    page = client.get(f"/c/taoyuan/organisations/{firm.organisation.id}").get_data(as_text=True)
    assert "连续两次评价为不合格" in page and "撤换项目经理" in page and 'data-testid="history-chart"' in page
    for login, role in [("party2", Role.party_branch), ("firmrep", Role.org_rep), ("ocrep", Role.org_rep)]:
        assert client.post("/login", data={"login": login, "password": DEMO_PASSWORD}).status_code == 303, login
        client.post("/logout")
        assert has_role(db.session.scalar(User.by_login(login)), community, role)


def test_demo_has_a_council_with_an_upcoming_meeting_and_published_minutes(client, db_session):
    from deliberation.consultations.models import ConsultationSession, SessionStatus
    from deliberation.councils.models import Council

    load_demo()
    council = db.session.scalar(select(Council))
    logins = {m.user.login for m in council.members}
    assert len(council.members) == 15 and {"secretary", "member1", "member9"} <= logins
    by_status = {s.status: s for s in db.session.scalars(select(ConsultationSession))}
    upcoming, past = by_status[SessionStatus.noticed], by_status[SessionStatus.minutes_published]
    assert len(upcoming.items) == 3
    board = client.get("/c/taoyuan").get_data(as_text=True)
    assert upcoming.title in board and past.title in board
    minutes = client.get(f"/c/taoyuan/sessions/{past.id}/minutes").get_data(as_text=True)
    assert "通过" in minutes and "未通过" in minutes
    assert "15 名成员中 11 人赞成" in minutes  # the arithmetic behind the first motion
    client.post("/login", data={"login": "member1", "password": DEMO_PASSWORD})
    assert upcoming.title in client.get("/account").get_data(as_text=True)
    assert verify_chain().ok


def test_demo_has_a_closed_cumulative_round_and_a_closed_ranked_round_each_counted_and_exported(client, db_session):
    """A newcomer sees every ballot type's results, explanation and .pb export (which passes the checker)."""
    from pabulib.checker import Checker

    from deliberation.proposals.models import BallotType, Round, RoundPhase
    from deliberation.tally import read_pb, tally_pb
    from deliberation.votes.services import result_of

    load_demo()
    closed = {r.ballot_type: r for r in db.session.scalars(select(Round).where(Round.phase == RoundPhase.closed))}
    assert {BallotType.approval, BallotType.cumulative, BallotType.ranked} <= closed.keys()
    for ballot_type in (BallotType.cumulative, BallotType.ranked):
        round_ = closed[ballot_type]
        result = result_of(round_)
        assert result.ballots_counted == 64 and result.final_winners, ballot_type
        page = client.get(f"/c/taoyuan/rounds/{round_.id}/results").get_data(as_text=True)
        assert "共计入 64 张选票" in page, ballot_type
        export = client.get(f"/c/taoyuan/rounds/{round_.id}/ballots.pb")
        assert export.status_code == 200
        text = export.get_data(as_text=True)
        assert Checker().process_files([text])["metadata"]["invalid"] == 0, ballot_type
        assert read_pb(text.encode()).vote_type == ballot_type.pb_vote_type
        recount = tally_pb(text.encode())  # the file's own rule, vote type and limits
        assert sorted(recount.winners) == sorted(str(w) for w in result.final_winners), ballot_type
