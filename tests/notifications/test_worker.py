"""The worker delivers e-mail to a real local SMTP server, retries with back-off, never twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from deliberation.core.models import utcnow
from deliberation.extensions import db
from deliberation.notifications import mail, services, worker
from deliberation.notifications.models import Channel, DeliveryStatus, OutboxMessage
from tests.factories import make_user

from .conftest import with_email

CONTEXT = {"community": "桃源社区"}


def email_rows():
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.channel == Channel.email)
                                   .order_by(OutboxMessage.id)))


def test_a_committed_notification_is_delivered_by_email_with_an_unsubscribe_link(db_session, smtp, app):
    user = make_user()
    address = with_email(user)
    services.notify([user], "verification_approved", key="mail1", link="/c/taoyuan", context=CONTEXT)
    db.session.commit()
    assert worker.run_once() == 1
    [message] = smtp.to(address)
    assert message["Subject"] == "您在桃源社区的居住信息已核实"
    token = mail.unsubscribe_token(user.id, "verification_approved")
    assert message["List-Unsubscribe"] == f"<http://127.0.0.1:5000/notifications/unsubscribe/{token}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = message.get_content()
    assert "http://127.0.0.1:5000/c/taoyuan" in body and token in body
    [row] = email_rows()
    assert row.status == DeliveryStatus.sent and row.delivered_at and row.attempts == 1
    assert worker.run_once() == 0  # nothing left: never delivered twice
    assert len(smtp.messages) == 1


def test_a_refused_email_is_retried_with_back_off_then_delivered(db_session, smtp, app, monkeypatch):
    user = make_user()
    address = with_email(user)
    services.notify([user], "verification_approved", key="retry", context=CONTEXT)
    db.session.commit()
    smtp.refuse = 2
    before = utcnow()
    worker.run_once()
    [row] = email_rows()
    assert row.status == DeliveryStatus.pending and row.attempts == 1 and "451" in row.last_error
    assert row.next_attempt_at >= before + timedelta(seconds=app.config["NOTIFY_BACKOFF_SECONDS"])
    assert worker.run_once() == 0  # not due yet
    db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
    db.session.commit()
    worker.run_once()
    [row] = email_rows()
    assert row.attempts == 2
    assert row.next_attempt_at >= utcnow() + timedelta(seconds=2 * app.config["NOTIFY_BACKOFF_SECONDS"] - 5)
    db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
    db.session.commit()
    worker.run_once()
    [row] = email_rows()
    assert row.status == DeliveryStatus.sent and row.attempts == 3
    assert len(smtp.to(address)) == 1


def test_after_the_last_attempt_a_delivery_is_failed(db_session, smtp, app, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFY_MAX_ATTEMPTS", 2)
    user = make_user()
    with_email(user)
    services.notify([user], "verification_approved", key="fail", context=CONTEXT)
    db.session.commit()
    smtp.refuse = 5
    for _ in range(3):
        worker.run_once()
        db.session.execute(update(OutboxMessage).where(OutboxMessage.status == DeliveryStatus.pending)
                           .values(next_attempt_at=utcnow()))
        db.session.commit()
    [row] = email_rows()
    assert row.status == DeliveryStatus.failed and row.attempts == 2 and smtp.messages == []


def test_a_worker_killed_mid_batch_leaves_no_duplicate(db_session, smtp, app, monkeypatch):
    users = [make_user() for _ in range(5)]
    for user in users:
        with_email(user)
    services.notify(users, "verification_approved", key="crash", context=CONTEXT)
    db.session.commit()
    sent = []
    real = worker.Deliverer.deliver

    def dies_after_two(self, row):
        if len(sent) == 2:
            raise SystemExit("killed")  # the process dies: nothing after this runs
        sent.append(row.id)
        return real(self, row)

    monkeypatch.setattr(worker.Deliverer, "deliver", dies_after_two)
    try:
        worker.run_once()
    except SystemExit:
        db.session.rollback()
    monkeypatch.setattr(worker.Deliverer, "deliver", real)
    assert len(smtp.messages) == 2
    assert worker.run_once() == 0  # the dead worker's claim holds until its lease ends
    lease_over = utcnow() + timedelta(seconds=app.config["NOTIFY_LEASE_SECONDS"] + 1)
    monkeypatch.setattr(worker, "utcnow", lambda: lease_over)
    assert worker.run_once() == 3  # a restarted worker takes only what was not delivered
    assert sorted(m["To"] for m in smtp.messages) == sorted(f"{u.login}@example.org" for u in users)
    assert all(row.status == DeliveryStatus.sent for row in email_rows())


def test_sms_deliveries_go_to_the_file_backend(db_session, app):
    user = make_user(phone="13800001234")
    db.session.flush()
    services.notify([user], "meeting_noticed", key="sms1",
                    context={"title": "第三次议事会", "starts_at": datetime(2026, 12, 3, 11, 0), "place": "社区会议室"},
                    emergency=True)
    db.session.commit()
    log_file = app.config["INSTANCE_DIR"] / "sms.log"
    before = log_file.read_text(encoding="utf-8") if log_file.exists() else ""
    worker.run_once()
    written = log_file.read_text(encoding="utf-8")[len(before):]
    assert "13800001234" in written and "第三次议事会" in written
    [row] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.channel == Channel.sms)).all()
    assert row.status == DeliveryStatus.sent and row.provider_id


def test_flask_worker_once_delivers_what_is_due(db_session, smtp, app):
    user = make_user()
    address = with_email(user)
    services.notify([user], "verification_approved", key="cli", context=CONTEXT)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "1 deliveries attempted." in result.output
    assert len(smtp.to(address)) == 1


def test_a_daily_digest_holds_emails_and_sends_them_as_one(db_session, smtp, app, monkeypatch):
    from deliberation.notifications import services as notification_services

    user = make_user()
    address = with_email(user, daily_digest=True)
    noon = datetime(2026, 11, 30, 4, 0)  # 12:00 in Beijing
    monkeypatch.setattr(notification_services, "utcnow", lambda: noon)
    services.notify([user], "verification_approved", key="d1", context=CONTEXT)
    services.notify([user], "voting_opened", key="d2", context={"round": "2027年度民生微实事"})
    services.notify([user], "meeting_noticed", key="d3", emergency=True,
                    context={"title": "紧急会议", "starts_at": datetime(2026, 11, 30, 6, 0), "place": "会议室"})
    db.session.commit()
    held = [row for row in email_rows() if row.digest]
    assert len(held) == 2 and all(row.next_attempt_at == datetime(2026, 11, 30, 0, 0) + timedelta(days=1)
                                  for row in held)  # 08:00 Beijing tomorrow
    monkeypatch.setattr(worker, "utcnow", lambda: noon)
    worker.run_once()
    assert [m["Subject"] for m in smtp.to(address)] == ["议事会会议通知：紧急会议"]  # emergencies do not wait
    next_morning = datetime(2026, 12, 1, 0, 1)
    monkeypatch.setattr(worker, "utcnow", lambda: next_morning)
    worker.run_once()
    digest = smtp.to(address)[-1]
    assert digest["Subject"] == "每日汇总：2条通知"
    body = digest.get_content()
    assert "您在桃源社区的居住信息已核实" in body and "投票开始：2027年度民生微实事" in body
    assert len(smtp.to(address)) == 2
    assert all(row.status == DeliveryStatus.sent for row in email_rows())
    token = digest["List-Unsubscribe"].strip("<>").rsplit("/", 1)[1]
    assert mail.read_unsubscribe_token(token) == (user.id, "*")



def test_a_line_break_in_a_residents_title_does_not_stop_the_emails_that_name_it(world, smtp, app):
    """A proposal posted with a line break in its title (a crafted form: the page's one-line field sends none)
    is named in the subject of the e-mails about it: they still go, on one subject line, with no header
    smuggled in."""
    from deliberation.proposals import services as proposals
    from deliberation.proposals.models import RoundPhase
    from tests.factories import make_resident
    from tests.proposals.factories import make_proposal, make_round, move_to

    round_ = make_round(world.community, world.secretary)
    proposal = make_proposal(round_, world.resident, title="楼道照明\r\nBcc: all@example.org")
    move_to(round_, RoundPhase.publicity, world.secretary, party=world.party)
    neighbour, _ = make_resident(world.community)
    address = with_email(neighbour)
    objection = proposals.file_objection(proposal, neighbour, body="预算偏高")
    db.session.execute(update(OutboxMessage).values(status=DeliveryStatus.sent))  # what came before
    proposals.answer_objection(objection, actor=world.secretary, answer="已核价")
    db.session.commit()
    worker.run_once()
    [message] = smtp.to(address)
    assert message["Subject"] == "您对楼道照明 Bcc: all@example.org的异议已获答复"
    assert message["Bcc"] is None
    assert db.session.scalar(select(OutboxMessage.status).where(OutboxMessage.address == address)) == \
        DeliveryStatus.sent
