"""The published minutes as a Word document (.docx), for the community office's files: the same
content as the printable page, in the reader's language."""

from __future__ import annotations

import io

from docx import Document
from docx.oxml.ns import qn
from flask_babel import format_datetime
from flask_babel import gettext as _

from deliberation.core import audit
from deliberation.core.text import xml_safe

CHINESE_FONT = "SimSun"  # 宋体: present wherever Word is used in China; others substitute


def _when(value) -> str:
    return format_datetime(value, "yyyy-MM-dd HH:mm") if value else ""


def session_times(session) -> str:
    """When the meeting actually started and ended; the scheduled time only as a reference."""
    scheduled = _when(session.starts_at)
    if session.started_at is not None and session.adjourned_at is not None:
        return _("Started %(start)s, ended %(end)s (scheduled for %(scheduled)s)", start=_when(session.started_at),
                 end=_when(session.adjourned_at), scheduled=scheduled)
    if session.started_at is not None:
        return _("Started %(start)s (scheduled for %(scheduled)s)", start=_when(session.started_at),
                 scheduled=scheduled)
    return _("Scheduled for %(when)s", when=scheduled)


def _names(users) -> str:
    return "、".join(user.display_name for user in users) or "—"


def _voters(votes) -> str:
    """Named votes; a vote the secretary entered (roll call, or a member without a phone) says so."""
    marker = f"（{_('entered by the secretary')}）"
    return "、".join(v.user.display_name + (marker if v.entered_by_secretary else "") for v in votes) or "—"


def _use_chinese_font(document: Document) -> None:
    style = document.styles["Normal"]
    style.font.name = CHINESE_FONT
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), CHINESE_FONT)


def _heading(document: Document, text: str, *, level: int) -> None:
    document.add_heading(xml_safe(text), level=level)


def _paragraph(document: Document, text: str, **options) -> None:
    document.add_paragraph(xml_safe(text), **options)


def _notice_table(document: Document, notices) -> None:
    """When each member was notified, per channel (notifications.events.MemberNotice)."""
    _heading(document, _("Notice delivery"), level=2)
    _paragraph(document, _("A member counts as notified at the earliest of: the e-mail or the SMS delivered, or the "
                           "notice read in the inbox. A notice only waiting unread in the inbox does not count."))
    table = document.add_table(rows=1, cols=6)
    for cell, title in zip(table.rows[0].cells, (_("Council member"), _("In the inbox"), _("Read in the inbox"),
                                                 _("E-mail"), _("SMS"), _("Notified")), strict=True):
        cell.text = title
    for notice in notices:
        cells = table.add_row().cells
        values = [notice.user.display_name, *(_when(t) or "—" for t in (notice.inbox_at, notice.read_at,
                                                                         notice.email_at, notice.sms_at)),
                  _when(notice.notified_at) or _("Not proven notified")]
        for cell, value in zip(cells, values, strict=True):
            cell.text = xml_safe(value)


def minutes_docx(*, session, attendances, speakers, motions_by_item, corrections, explain, members,
                 fingerprint=None, notices=(), **_unused) -> bytes:
    """Build the .docx from the minutes page's context (see views._minutes_context)."""
    document = Document()
    _use_chinese_font(document)
    _heading(document, f"{_('Minutes')}{_(': ')}{session.title}", level=1)
    _paragraph(document, f"{session.kind.label} · {session.place}")
    _paragraph(document, session_times(session))
    if session.council:
        _paragraph(document, f"{session.council.name} · {session.council.term_label}")
    if session.urgent_reason:
        urgent = _("Urgent meeting, called before the notice period ended")
        _paragraph(document, f"{urgent}{_(': ')}{session.urgent_reason}")

    _heading(document, _("Attendance"), level=2)
    present = [a.user for a in attendances]
    _paragraph(document, f"{_('Present')} ({len(present)}){_(': ')}{_names(present)}")
    if members:
        present_ids = {user.id for user in present}
        absent = [user for user in members if user.id not in present_ids]
        _paragraph(document, f"{_('Absent')} ({len(absent)}){_(': ')}{_names(absent)}")
    if notices:
        _notice_table(document, notices)

    for item in session.items:
        _heading(document, f"{item.position}. {item.title}", level=2)
        if item.description:
            _paragraph(document, item.description)
        item_speakers = [s.user for s in speakers if s.item_id == item.id]
        if item_speakers:
            _paragraph(document, f"{_('Speakers')}{_(': ')}{_names(item_speakers)}")
        if item.minutes_text:
            _paragraph(document, item.minutes_text)
        for motion in motions_by_item[item.id]:
            line = document.add_paragraph()
            line.add_run(_("Motion")).bold = True
            line.add_run(xml_safe(f"{_(': ')}{motion.text}" + (f" ({_('advisory')})" if motion.advisory else "")
                                  + (f" ({_('roll call')})" if motion.method.value == "roll_call" else "")))
            if motion.outcome:
                _paragraph(document, f"{motion.outcome_label} {explain(motion)}")
                if motion.votes and not motion.advisory:
                    _paragraph(document, "；".join(
                        f"{label}{_(': ')}{_voters(v for v in motion.votes if v.choice.value == choice)}"
                        for choice, label in (("yes", _("Yes")), ("no", _("No")), ("abstain", _("Abstain")))))

    if session.minutes_summary:
        _heading(document, _("General remarks"), level=2)
        _paragraph(document, session.minutes_summary)
    if corrections:
        _heading(document, _("Corrections"), level=2)
        for c in corrections:
            _paragraph(document, f"{_when(c.created_at)}{_(': ')}{c.reason} ({_('was')}{_(': ')}“{c.old_text}”)",
                                   style="List Bullet")
    if session.minutes_published_at:
        _paragraph(document, f"{_('Published')} {_when(session.minutes_published_at)}")
    if fingerprint:
        _paragraph(document, f"{_('Audit fingerprint')}{_(': ')}{fingerprint}")
    head = audit.head()
    if head:  # the log's head when the file was made: the copy anchors the audit log (core/audit_stamp.py)
        _paragraph(document, f"{_('Audit log head when printed: %(count)s events, fingerprint', count=head.seq)} "
                             f"{head.hash}")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
