"""The "voting closes within 24 hours" reminder, the planned close of voting, and the periodic jobs that
run it (`flask worker` at most once a minute, `flask notifications tick` once)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from deliberation.core.audit import AuditEvent
from deliberation.core.errors import DomainError
from deliberation.core.models import utcnow
from deliberation.extensions import db
from deliberation.notifications import jobs, periodic, worker
from deliberation.notifications import services as notify_services
from deliberation.notifications.models import Channel, InboxItem, OutboxMessage
from deliberation.proposals.models import RoundPhase
from deliberation.votes import services as votes
from tests.factories import make_resident
from tests.proposals.factories import make_proposal, make_round, move_to

from .conftest import with_email

REMINDER = "投票即将截止：2027年度民生微实事"


def titles(user) -> list[str]:
    return list(db.session.scalars(select(InboxItem.title).where(InboxItem.user_id == user.id)))


def reminded(user) -> int:
    return titles(user).count(REMINDER)


@pytest.fixture
def voting(world):
    """A round in voting whose planned close is 30 hours from now."""
    round_ = make_round(world.community, world.secretary)
    proposal = make_proposal(round_, world.resident)
    move_to(round_, RoundPhase.voting, world.secretary, party=world.party)
    votes.set_voting_close(round_, closes_at=utcnow() + timedelta(hours=30), actor=world.secretary)
    round_.proposal = proposal
    return round_


def test_the_reminder_goes_once_within_24_hours_and_not_to_those_who_voted(world, voting):
    voter, _ = make_resident(world.community, login="already-voted")
    waiting, _ = make_resident(world.community, login="not-yet-voted")
    votes.cast_ballot(voting, voter, choices=[voting.proposal.id])
    now = utcnow()
    assert jobs.voting_closing_reminders(now + timedelta(hours=5)) == 0  # 25 hours before: not yet
    assert reminded(waiting) == 0
    assert jobs.voting_closing_reminders(now + timedelta(hours=7)) == 1
    assert reminded(waiting) == 1 and reminded(world.resident) == 1
    assert reminded(voter) == 0
    assert reminded(world.unverified) == 0 and reminded(world.admin) == 0  # no verified residency
    # The next minutes and hours: nothing more.
    assert jobs.voting_closing_reminders(now + timedelta(hours=7, minutes=1)) == 0
    assert jobs.voting_closing_reminders(now + timedelta(hours=20)) == 0
    assert reminded(waiting) == 1
    summary = db.session.scalar(select(AuditEvent.summary).where(AuditEvent.action == "round.closing_reminder"))
    assert "reminded" in summary


def test_no_reminder_after_the_close_or_once_the_vote_is_closed(world, voting):
    waiting, _ = make_resident(world.community, login="not-yet-voted")
    assert jobs.voting_closing_reminders(utcnow() + timedelta(hours=31)) == 0  # past the planned close
    voting.voting_closed_at = utcnow()
    assert jobs.voting_closing_reminders(utcnow() + timedelta(hours=7)) == 0
    assert reminded(waiting) == 0


def test_a_household_that_voted_is_not_reminded_in_a_per_household_round(world):
    round_ = make_round(world.community, world.secretary)
    proposal = make_proposal(round_, world.resident)
    votes.set_ballot_rules(round_, per_household=True, max_approvals=None, must_fit_budget=True,
                           counting_rule=round_.counting_rule, actor=world.secretary)
    move_to(round_, RoundPhase.voting, world.secretary, party=world.party)
    votes.set_voting_close(round_, closes_at=utcnow() + timedelta(hours=10), actor=world.secretary)
    first, _ = make_resident(world.community, login="flat-a", unit="9", room="901")
    second, _ = make_resident(world.community, login="flat-b", unit="9", room="901")
    other, _ = make_resident(world.community, login="flat-c", unit="9", room="902")
    votes.cast_ballot(round_, first, choices=[proposal.id])
    jobs.voting_closing_reminders(utcnow())
    assert reminded(first) == 0 and reminded(second) == 0  # the household has voted
    assert reminded(other) == 1


def test_off_site_reminders_wait_for_the_end_of_quiet_hours(world, voting, monkeypatch):
    waiting, _ = make_resident(world.community, login="not-yet-voted")
    with_email(waiting, quiet_from=22, quiet_until=7)
    late_evening = datetime(2026, 12, 1, 15, 30)  # 23:30 Beijing time
    monkeypatch.setattr(notify_services, "utcnow", lambda: late_evening)
    voting.voting_closes_at = late_evening + timedelta(hours=20)
    assert jobs.voting_closing_reminders(late_evening) == 1
    rows = {row.channel: row for row in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.user_id == waiting.id, OutboxMessage.kind == "voting_closing"))}
    assert rows[Channel.inbox].delivered_at == late_evening  # the inbox at once
    assert rows[Channel.email].next_attempt_at == datetime(2026, 12, 1, 23, 0)  # 07:00 Beijing time


def test_a_new_planned_close_gets_its_own_reminder(world, voting):
    waiting, _ = make_resident(world.community, login="not-yet-voted")
    jobs.voting_closing_reminders(utcnow() + timedelta(hours=7))
    votes.set_voting_close(voting, closes_at=utcnow() + timedelta(hours=48), actor=world.secretary)
    assert jobs.voting_closing_reminders(utcnow() + timedelta(hours=8)) == 0
    assert jobs.voting_closing_reminders(utcnow() + timedelta(hours=25)) == 1
    assert reminded(waiting) == 2


def test_the_planned_close_is_set_by_the_secretary_and_shown_on_the_round_and_the_ballot(as_user, world):
    round_ = make_round(world.community, world.secretary)
    make_proposal(round_, world.resident)
    client = as_user(world.secretary)
    url = f"/c/taoyuan/rounds/{round_.id}/voting-close"
    assert client.get(url).status_code == 200
    assert client.post(url, data={"closes_at": "2020-01-01T20:00"}).status_code == 422  # in the past
    assert client.post(url, data={"closes_at": "2099-06-01T20:00"}).status_code == 303
    assert round_.voting_closes_at == datetime(2099, 6, 1, 12, 0)  # stored in UTC
    move_to(round_, RoundPhase.voting, world.secretary, party=world.party)
    db.session.commit()
    page = as_user(world.resident).get(f"/c/taoyuan/rounds/{round_.id}").get_data(as_text=True)
    assert "2099-06-01 20:00" in page.split('data-testid="voting-closes-at"')[1].split("</p>")[0]
    ballot = as_user(world.resident).get(f"/c/taoyuan/rounds/{round_.id}/vote").get_data(as_text=True)
    assert 'data-testid="voting-closes-at"' in ballot and "2099-06-01 20:00" in ballot
    assert as_user(world.resident).post(url, data={"closes_at": "2099-06-02T20:00"}).status_code == 403


def test_the_planned_close_cannot_change_once_voting_closed(world, voting):
    voting.voting_closed_at = utcnow()
    with pytest.raises(DomainError):
        votes.set_voting_close(voting, closes_at=utcnow() + timedelta(days=1), actor=world.secretary)


# --- the periodic jobs ----------------------------------------------------------------------------

CALLS: list[datetime] = []


def record_call(now: datetime) -> None:
    CALLS.append(now)


def broken_job(now: datetime) -> None:
    db.session.execute(select(func.count()).select_from(AuditEvent))
    raise RuntimeError("this job is broken")


def test_a_broken_job_does_not_stop_the_others(db_session, monkeypatch):
    CALLS.clear()
    monkeypatch.setattr(periodic, "JOBS", [f"{__name__}:broken_job", f"{__name__}:record_call"])
    results = periodic.run_jobs(datetime(2026, 12, 1, 1, 0))
    assert results == {f"{__name__}:broken_job": False, f"{__name__}:record_call": True}
    assert [datetime(2026, 12, 1, 1, 0)] == CALLS


def test_the_worker_runs_the_jobs_at_most_once_a_minute(db_session, monkeypatch):
    CALLS.clear()
    monkeypatch.setattr(periodic, "JOBS", [f"{__name__}:record_call"])
    monkeypatch.setattr(worker, "run_once", lambda: 1)  # always busy: no pause between loops
    times = iter([0, 20, 40, 59, 60, 80, 100, 119, 121])  # the loop's clock, in seconds
    now = [0]

    def should_stop():  # called at the top of each loop: move the clock on
        try:
            now[0] = next(times)
        except StopIteration:
            return True
        return False

    worker.run_forever(interval=0, should_stop=should_stop, clock=lambda: now[0])
    assert len(CALLS) == 3  # at 0, 60 and 121 seconds


def test_flask_notifications_tick_runs_the_jobs_once(app, world, voting, monkeypatch):
    waiting, _ = make_resident(world.community, login="not-yet-voted")
    at = (utcnow() + timedelta(hours=7)).strftime("%Y-%m-%dT%H:%M")
    result = app.test_cli_runner().invoke(args=["notifications", "tick", "--at", at])
    assert result.exit_code == 0, result.output
    assert "voting_closing_reminders: ok" in result.output
    assert reminded(waiting) == 1
