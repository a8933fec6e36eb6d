"""A meeting notice reaches a member (issue 13): the secretary notices a meeting in Chromium; the member sees
it in the inbox with the unread count in the header, and after one run of the worker the e-mail has arrived
at a local SMTP server (aiosmtpd) started by the test."""

from __future__ import annotations

import socket
import threading
from datetime import timedelta
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller
from playwright.sync_api import expect

from deliberation.auth.models import User
from deliberation.consultations import services as sessions
from deliberation.consultations.models import ConsultationSession, SessionKind
from deliberation.core.models import utcnow
from deliberation.extensions import db
from deliberation.notifications import worker
from deliberation.notifications.models import NotificationSettings
from tests.e2e.conftest import PASSWORD, confirm_click, snap
from tests.e2e.test_resident_journey import log_in

TITLE = "第一届议事会第2次会议"
MEMBER = "council-m4"
ADDRESS = "council-m4@example.org"


class Mailbox:
    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _draft_meeting(app) -> None:
    """A second draft meeting of the e2e council; the member has a proven e-mail address and no quiet hours
    (proving an address by its link is tested in tests/notifications/test_email_confirmation.py)."""
    from sqlalchemy import select

    with app.app_context():
        first = db.session.scalar(select(ConsultationSession).where(ConsultationSession.council_id.is_not(None))
                                  .order_by(ConsultationSession.id))
        secretary = db.session.scalar(User.by_login("sec"))
        session = sessions.create_session(first.community, fields=sessions.SessionFields(
            kind=SessionKind.council_meeting, title=TITLE, starts_at=utcnow() + timedelta(days=5),
            place="桃源社区党群服务中心二楼"), council=first.council, actor=secretary)
        sessions.add_item(session, fields=sessions.ItemFields(title="小区停车收费"), actor=secretary)
        member = db.session.scalar(User.by_login(MEMBER))
        db.session.merge(NotificationSettings(user_id=member.id, email=ADDRESS, email_confirmed_at=utcnow(),
                                              quiet_from=0, quiet_until=0, daily_digest=False))
        db.session.commit()
        db.session.remove()


def _unread(app) -> int:
    from deliberation.notifications.services import unread_count

    with app.app_context():
        count = unread_count(db.session.scalar(User.by_login(MEMBER)))
        db.session.remove()
    return count


def test_a_noticed_meeting_reaches_the_member_in_the_inbox_and_by_e_mail(live_app, browser, base_url, page,
                                                                         artifacts):
    _draft_meeting(live_app)
    unread_before = _unread(live_app)
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    saved = {key: live_app.config.get(key) for key in ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USERNAME")}
    live_app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_USE_TLS=False, MAIL_USERNAME="")
    try:
        # The secretary publishes the notice.
        log_in(page, "sec", PASSWORD)
        page.goto("/c/taoyuan/sessions")
        page.get_by_role("link", name=TITLE).click()
        confirm_click(page.get_by_role("button", name="发布会议通知"))
        expect(page.get_by_test_id("session-status")).to_have_text("已发通知")
        meeting_path = page.url.split("127.0.0.1", 1)[1].split("/", 1)[1]

        # The member, on a phone: the header shows one unread notification; the inbox has the notice.
        context = browser.new_context(base_url=base_url, viewport={"width": 360, "height": 740}, locale="zh-CN")
        context.route("https://cdn.jsdelivr.net/**", lambda route: route.abort())
        context.set_default_timeout(10_000)
        member = context.new_page()
        log_in(member, MEMBER, PASSWORD)
        member.goto("/c/taoyuan")
        expect(member.get_by_test_id("unread-count")).to_have_text(str(unread_before + 1))
        member.get_by_test_id("inbox-link").click()
        item = member.get_by_test_id("inbox-item").filter(has_text=TITLE)
        expect(item).to_contain_text("议事会会议通知")
        snap(member, artifacts, "journey-notice-1-member-inbox")
        width = member.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"the inbox scrolls sideways on a phone ({width}px)"

        # The worker runs once: the e-mail reaches the SMTP server, with the link to the meeting.
        with live_app.app_context():
            while worker.run_once():
                pass
            db.session.remove()
        mails = [m for m in mailbox.messages if m["To"] == ADDRESS]
        assert len(mails) == 1 and TITLE in mails[0]["Subject"]
        assert meeting_path in mails[0].get_content()

        # Opening the item marks it read and leads to the meeting; the count goes down by one.
        item.get_by_role("button").click()  # "打开": marks it read and follows its link
        expect(member.get_by_role("heading", level=1)).to_have_text(TITLE)
        assert _unread(live_app) == unread_before
        context.close()
    finally:
        live_app.config.update(saved)
        controller.stop()
