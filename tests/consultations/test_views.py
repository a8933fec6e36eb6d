"""A meeting through the browser routes: notice, sign-in, quorum, motion, phones, minutes."""

from __future__ import annotations

import io
from datetime import timedelta

from docx import Document
from sqlalchemy import select

from deliberation.consultations import services
from deliberation.consultations.models import SessionStatus, VoteChoice
from deliberation.core import audit
from deliberation.core.audit import AuditEvent
from deliberation.core.models import utcnow
from deliberation.extensions import db
from tests.conftest import login_as
from tests.councils.factories import make_session, members, start

HX = {"HX-Request": "true"}
CONFIRMED = {"confirmed": "1"}  # as the confirmation dialog or page sends it


def url(session, path=""):
    return f"/c/taoyuan/sessions/{session.id}{path}"


def test_secretary_creates_a_session_in_beijing_time_and_builds_the_agenda(client, world, council):
    login_as(client, world.secretary)
    response = client.post("/c/taoyuan/sessions/new", data={
        "kind": "council_meeting", "title": "第三届议事会第6次会议", "starts_at": "2026-12-05T19:30", "place": "党群服务中心"})
    assert response.status_code == 303
    session = services.sessions_of(world.community, include_drafts=True)[0]
    assert session.starts_at.hour == 11 and session.starts_at.minute == 30  # 19:30 Beijing is 11:30 UTC
    assert session.council_id == council.id
    for title in ("审议坡道项目", "听取居民意见"):
        response = client.post(url(session, "/items"), data={"title": title, "minutes_allotted": "20"}, headers=HX)
        assert response.status_code == 200 and title in response.get_data(as_text=True)
    response = client.post(url(session, "/items"), data={"title": "", "minutes_allotted": "20"}, headers=HX)
    assert response.status_code == 422
    second = session.items[1]
    response = client.post(url(session, f"/items/{second.id}/move"), data={"direction": "up"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/agenda")  # without JavaScript
    assert [i.title for i in session.items] == ["听取居民意见", "审议坡道项目"]
    page = client.get(url(session, "/agenda")).get_data(as_text=True)
    assert page.index("听取居民意见") < page.index("审议坡道项目")


def test_draft_is_hidden_from_residents_and_notice_appears_on_board_and_member_page(client, world, council):
    session = make_session(world.community, world.secretary, council, title="第三届议事会第7次会议")
    login_as(client, world.resident)
    assert client.get(url(session)).status_code == 403
    assert "第三届议事会第7次会议" not in client.get("/c/taoyuan").get_data(as_text=True)
    login_as(client, world.secretary)
    assert client.post(url(session, "/notice"), data=CONFIRMED).status_code == 303
    login_as(client, world.resident)  # a council member
    assert client.get(url(session)).status_code == 200
    board = client.get("/c/taoyuan").get_data(as_text=True)
    assert "第三届议事会第7次会议" in board
    assert "第三届议事会第7次会议" in client.get("/account").get_data(as_text=True)
    login_as(client, world.party)  # not a member: not on the personal page
    assert "第三届议事会第7次会议" not in client.get("/account").get_data(as_text=True)


def test_start_before_notice_period_needs_a_reason(client, world, council):
    session = make_session(world.community, world.secretary, council)
    services.notice_session(session, actor=world.secretary)
    login_as(client, world.secretary)
    response = client.post(url(session, "/start"), data={"urgent_reason": ""})
    assert response.status_code == 422
    assert session.status == SessionStatus.noticed
    response = client.post(url(session, "/start"), data={"urgent_reason": "台风过后需紧急决定"})
    assert response.status_code == 303 and session.status == SessionStatus.in_session


def test_meeting_on_phones_from_sign_in_to_published_minutes(client, world, council):
    session = make_session(world.community, world.secretary, council)
    start(session, world.secretary)
    people = members(council)
    # Ten sign in on their phones: no quorum yet (11 of 15 needed).
    for person in people[:10]:
        login_as(client, person)
        assert client.post(url(session, "/sign-in"), headers=HX).status_code == 200
    login_as(client, world.secretary)
    console = client.get(url(session, "/console"), headers=HX).get_data(as_text=True)
    assert "quorum-not-met" in console
    # The secretary ticks the eleventh: the quorum turns green.
    client.post(url(session, "/attendance"), data={"user_id": people[10].id, "no_phone": "1"}, headers=HX)
    console = client.get(url(session, "/console"), headers=HX).get_data(as_text=True)
    assert "quorum-met" in console and "quorum-not-met" not in console
    assert client.post(url(session, "/motions"), data={"text": "同意加装坡道", "method": "phones"}).status_code == 303
    motion = services.motions_of(session)[0]
    for person in people[:9]:
        login_as(client, person)
        response = client.post(url(session, f"/motions/{motion.id}/vote"), data={"choice": "yes"}, headers=HX)
        assert response.status_code == 200
    login_as(client, people[9])
    client.post(url(session, f"/motions/{motion.id}/vote"), data={"choice": "no"}, headers=HX)
    live = client.get(url(session, "/live"), headers=HX).get_data(as_text=True)
    assert "10 of 11 have voted" in live or "11 人中已有 10 人表决" in live
    # An absent member's vote is refused.
    login_as(client, people[14])
    assert client.post(url(session, f"/motions/{motion.id}/vote"), data={"choice": "yes"}).status_code == 403
    login_as(client, world.secretary)
    client.post(url(session, f"/motions/{motion.id}/roll-call"), data={"user_id": people[10].id, "choice": "abstain"})
    assert client.post(url(session, f"/motions/{motion.id}/close"), data=CONFIRMED).status_code == 303
    assert motion.outcome.value == "passed"
    page = client.get(url(session)).get_data(as_text=True)
    assert "15 名成员中 9 人赞成" in page
    # A vote after closing is refused.
    login_as(client, people[0])
    assert client.post(url(session, f"/motions/{motion.id}/vote"), data={"choice": "no"}).status_code == 403
    login_as(client, world.secretary)
    assert client.post(url(session, "/adjourn"), data=CONFIRMED).status_code == 303
    response = client.post(url(session, "/minutes/edit"), data={
        f"item-{session.items[0].id}": "经讨论，同意加装坡道。", "minutes_summary": "会议有效", "publish": "1", **CONFIRMED})
    assert response.status_code == 303
    login_as(client, world.party)
    minutes = client.get(url(session, "/minutes")).get_data(as_text=True)
    assert "经讨论，同意加装坡道。" in minutes and "测试用紧急会议" in minutes
    assert people[0].display_name in minutes  # named votes
    published = db.session.scalar(select(AuditEvent.hash).where(AuditEvent.action == "minutes.published"))
    assert f"<code>{published}</code>" in minutes  # the printed minutes anchor the audit log
    # The same minutes as a Word document for the office's files.
    word = client.get(url(session, "/minutes.docx"))
    assert word.status_code == 200 and word.mimetype.endswith("wordprocessingml.document")
    text = "\n".join(p.text for p in Document(io.BytesIO(word.data)).paragraphs)
    assert "经讨论，同意加装坡道。" in text and "15 名成员中 9 人赞成" in text and published in text
    assert f"打印时的审计日志链头：共 {audit.head().seq} 条事件，指纹 {audit.head().hash}" in text
    assert f"<code>{audit.head().hash}</code>" in minutes  # and the printed page carries the log's head
    assert f"赞成：{people[0].display_name}" in text and "缺席 (4)" in text
    assert f"弃权：{people[10].display_name}（秘书代录）" in text  # the vote the secretary entered says so
    assert f"{people[10].display_name}<span data-testid=\"entered-by-secretary\">（秘书代录）" in minutes
    assert client.post(url(session, "/minutes/edit"), data={"summary": "x"}).status_code == 403


def test_speaker_countdown_is_computed_from_the_stored_start(client, world, council):
    session = make_session(world.community, world.secretary, council)
    start(session, world.secretary)
    member = members(council)[0]
    services.sign_in(session, member)
    slot = services.request_to_speak(session, member)
    services.start_speaker(slot, actor=world.secretary, now=utcnow() - timedelta(seconds=61))
    login_as(client, member)
    live = client.get(url(session, "/live"), headers=HX).get_data(as_text=True)
    assert 'data-remaining="119"' in live or 'data-remaining="118"' in live
    login_as(client, world.secretary)
    console = client.get(url(session, "/console"), headers=HX).get_data(as_text=True)
    assert member.display_name in console and "data-remaining" in console


def test_published_minutes_are_corrected_only_with_a_reason(client, world, council):
    session = make_session(world.community, world.secretary, council)
    start(session, world.secretary)
    services.adjourn_session(session, actor=world.secretary)
    services.publish_minutes(session, summary="原文", actor=world.secretary)
    login_as(client, world.secretary)
    assert client.post(url(session, "/minutes/correct"), data={"item": "", "text": "新文", "reason": ""}).status_code == 422
    response = client.post(url(session, "/minutes/correct"), data={"item": "", "text": "新文", "reason": "笔误"})
    assert response.status_code == 303
    minutes = client.get(url(session, "/minutes")).get_data(as_text=True)
    assert "新文" in minutes and "笔误" in minutes and "原文" in minutes
    corrected = db.session.scalar(select(AuditEvent.hash).where(AuditEvent.action == "minutes.corrected"))
    assert f"<code>{corrected}</code>" in minutes  # the fingerprint now anchors the correction too


def test_session_list_uses_a_fixed_number_of_queries(client, world, council, count_queries):
    def measure():
        db.session.commit()  # what the test set up is saved first, outside the count
        with count_queries() as counter:
            assert client.get("/c/taoyuan/sessions").status_code == 200
        return counter.count

    make_session(world.community, world.secretary, council)
    services.notice_session(services.sessions_of(world.community, include_drafts=True)[0], actor=world.secretary)
    login_as(client, world.resident)
    few = measure()
    for n in range(5):
        s = make_session(world.community, world.secretary, council, title=f"会议{n}")
        services.notice_session(s, actor=world.secretary)
    assert measure() == few
    db.session.commit()
    with count_queries() as counter:
        client.get("/c/taoyuan")
    few_home = counter.count
    s = make_session(world.community, world.secretary, council, title="再一次")
    services.notice_session(s, actor=world.secretary)
    db.session.commit()
    with count_queries() as counter:
        client.get("/c/taoyuan")
    assert counter.count == few_home


def test_vote_choices_are_validated(client, world, council):
    session = make_session(world.community, world.secretary, council)
    start(session, world.secretary)
    member = members(council)[0]
    services.sign_in(session, member)
    motion = services.open_motion(session.items[0], text="同意", actor=world.secretary)
    login_as(client, member)
    assert client.post(url(session, f"/motions/{motion.id}/vote"), data={"choice": "maybe"}).status_code == 400
    assert services.votes_cast(motion) == 0
    services.cast_vote(motion, member, VoteChoice.yes)


def test_the_word_minutes_survive_characters_pasted_from_word(client, world, council):
    session = make_session(world.community, world.secretary, council)
    start(session, world.secretary)
    services.save_item_minutes(session.items[0], text="第一行\x0b第二行\x01", actor=world.secretary)
    services.adjourn_session(session, actor=world.secretary)
    services.publish_minutes(session, summary="会议有效", actor=world.secretary)
    word = client.get(url(session, "/minutes.docx"))
    assert word.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(word.data)).paragraphs)
    assert "第一行 第二行" in text and "会议有效" in text


def test_secretary_cannot_enter_a_vote_for_a_member_with_a_phone(client, world, council):
    """The refusal is said on the console, and the member can still vote on their phone."""
    session = make_session(world.community, world.secretary, council)
    start(session, world.secretary)
    people = members(council)
    for person in people[:11]:
        services.sign_in(session, person)
    motion = services.open_motion(session.items[0], text="同意加装坡道", actor=world.secretary)
    login_as(client, world.secretary)
    console = client.get(url(session, "/console")).get_data(as_text=True)
    assert f"/motions/{motion.id}/roll-call" not in console  # no entry buttons for members with phones
    response = client.post(url(session, f"/motions/{motion.id}/roll-call"),
                           data={"user_id": people[1].id, "choice": "no"}, headers=HX)
    assert response.status_code == 422 and "自己的手机" in response.get_data(as_text=True)
    response = client.post(url(session, f"/motions/{motion.id}/roll-call"), data={"user_id": people[1].id, "choice": "no"})
    assert response.status_code == 303
    assert "自己的手机" in client.get(url(session, "/console")).get_data(as_text=True)
    login_as(client, people[1])
    assert client.post(url(session, f"/motions/{motion.id}/vote"), data={"choice": "yes"}, headers=HX).status_code == 200
    again = client.post(url(session, f"/motions/{motion.id}/vote"), data={"choice": "no"}, headers=HX)
    assert again.status_code == 422 and "不能更改" in again.get_data(as_text=True)
    assert [v.choice for v in motion.votes] == [VoteChoice.yes]
    # Ticked present without a phone, a member's vote can be entered from the console.
    login_as(client, world.secretary)
    client.post(url(session, "/attendance"), data={"user_id": people[12].id, "no_phone": "1"})
    console = client.get(url(session, "/console")).get_data(as_text=True)
    assert 'data-testid="without-phone"' in console and f"/motions/{motion.id}/roll-call" in console
    assert client.post(url(session, f"/motions/{motion.id}/roll-call"),
                       data={"user_id": people[12].id, "choice": "no"}).status_code == 303
    assert {v.user_id: v.recorded_by_id for v in motion.votes}[people[12].id] == world.secretary.id


def _form_fields(page: str) -> dict[str, str]:
    """What a browser would send from the minutes form as shown: every textarea with its text."""
    import html
    import re

    # As in HTML, one newline right after <textarea> is not part of the text.
    return {html.unescape(name): html.unescape(re.sub(r"^\r?\n", "", text)) for name, text in
            re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S)}


def test_saved_general_remarks_come_back_and_are_published_in_html_and_word(client, world, council):
    session = make_session(world.community, world.secretary, council)
    start(session, world.secretary)
    services.adjourn_session(session, actor=world.secretary)
    login_as(client, world.secretary)
    edit = client.get(url(session, "/minutes/edit")).get_data(as_text=True)
    fields = _form_fields(edit)
    summary_name = next(name for name in fields if "summary" in name)
    fields[summary_name] = "会议应到3人，实到3人，符合议事规则。"
    assert client.post(url(session, "/minutes/edit"), data=fields).status_code == 303  # saved, not published
    # The secretary comes back later: the saved text is on the page, and publishing keeps it.
    again = _form_fields(client.get(url(session, "/minutes/edit")).get_data(as_text=True))
    assert again[summary_name] == "会议应到3人，实到3人，符合议事规则。"
    response = client.post(url(session, "/minutes/edit"), data={**again, "publish": "1", **CONFIRMED})
    assert response.status_code == 303
    assert "会议应到3人，实到3人，符合议事规则。" in client.get(url(session, "/minutes")).get_data(as_text=True)
    word = client.get(url(session, "/minutes.docx"))
    text = "\n".join(p.text for p in Document(io.BytesIO(word.data)).paragraphs)
    assert "会议应到3人，实到3人，符合议事规则。" in text


def test_minutes_and_session_page_show_when_the_meeting_actually_started_and_ended(client, world, council):
    session = make_session(world.community, world.secretary, council, starts_in=timedelta(days=4))
    services.notice_session(session, actor=world.secretary)
    # Scheduled in four days at some time; it actually starts now (urgent) and ends now.
    services.start_session(session, urgent_reason="台风预警，提前开会", actor=world.secretary)
    services.adjourn_session(session, actor=world.secretary)
    session.started_at = session.starts_at - timedelta(days=3, hours=2, minutes=13)
    session.adjourned_at = session.started_at + timedelta(hours=1, minutes=30)
    services.publish_minutes(session, actor=world.secretary)

    def beijing(value):
        return (value + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")

    expected = (f"实际开始：{beijing(session.started_at)}，休会：{beijing(session.adjourned_at)}"
                f"（原定：{beijing(session.starts_at)}）")
    login_as(client, world.resident)
    assert expected in client.get(url(session, "/minutes")).get_data(as_text=True)
    assert expected in client.get(url(session)).get_data(as_text=True)
    word = client.get(url(session, "/minutes.docx"))
    assert expected in "\n".join(p.text for p in Document(io.BytesIO(word.data)).paragraphs)


def test_asking_before_publishing_the_minutes_keeps_the_draft(client, world, council):
    session = make_session(world.community, world.secretary, council)
    start(session, world.secretary)
    services.adjourn_session(session, actor=world.secretary)
    login_as(client, world.secretary)
    asked = client.post(url(session, "/minutes/edit"), data={
        f"item-{session.items[0].id}": "同意加装坡道。", "minutes_summary": "会议有效。", "publish": "1"})
    assert asked.status_code == 200 and "公布会议纪要？" in asked.get_data(as_text=True)
    # The secretary goes back instead: nothing is published, nothing typed is lost.
    back = _form_fields(client.get(url(session, "/minutes/edit")).get_data(as_text=True))
    assert back["minutes_summary"] == "会议有效。" and back[f"item-{session.items[0].id}"] == "同意加装坡道。"
    db.session.expire_all()
    assert session.status == SessionStatus.adjourned


def test_on_a_phone_the_console_jumps_past_the_attendance_to_the_motion(client, world, council):
    """Fifteen members' attendance rows fill a phone's screen several times: the motion's step (open one,
    or close the open one) is linked from the top of the console, above the attendance."""
    session = make_session(world.community, world.secretary, council)
    start(session, world.secretary)
    services.set_current_item(session, session.items[0], actor=world.secretary)
    login_as(client, world.secretary)
    console = client.get(url(session, "/console")).get_data(as_text=True)
    assert console.index('href="#motion-heading"') < console.index('data-testid="attendee"')
    assert 'id="motion-heading"' in console
    assert console.count(">开始表决<") == 1  # the jump is not a second "open the motion" button
    services.open_motion(session.items[0], text="同意加装坡道", actor=world.secretary)
    console = client.get(url(session, "/console")).get_data(as_text=True)
    assert console.index('href="#close-heading"') < console.index('data-testid="attendee"')
    assert 'id="close-heading"' in console and 'href="#motion-heading"' not in console
    assert "（共 15 名成员）" in console  # full-width brackets in the quorum line
    assert "<strong>动议</strong>：同意加装坡道" in console


def test_a_meeting_without_agenda_offers_no_notice_button_but_says_what_to_add(client, world, council):
    """发布会议通知 on an empty agenda led to an error page; now the agenda page and the meeting page say an
    item is needed first (the add form open), and once one is added — with htmx too — the button is there."""
    session = make_session(world.community, world.secretary, council, items=0)
    db.session.commit()
    login_as(client, world.secretary)
    notice_action = f'action="{url(session, "/notice")}"'
    for path in ("/agenda", ""):
        page = client.get(url(session, path)).get_data(as_text=True)
        assert notice_action not in page, path
        assert "发布通知前请至少添加一项议题。" in page, path
    assert "<details open" in client.get(url(session, "/agenda")).get_data(as_text=True).replace("<details  open", "<details open")
    partial = client.post(url(session, "/items"), data={"title": "审议坡道项目", "minutes_allotted": "20"}, headers=HX)
    assert notice_action in partial.get_data(as_text=True)  # the swapped agenda brings the button
    for path in ("/agenda", ""):
        page = client.get(url(session, path)).get_data(as_text=True)
        assert notice_action in page and "发布通知前请至少添加一项议题。" not in page, path
