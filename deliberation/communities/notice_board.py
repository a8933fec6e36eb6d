"""Placeholder notice-board sections for areas that do not exist yet; each area replaces its own."""

from deliberation.core import notice_board
from deliberation.core.notice_board import NoticeSection


@notice_board.register("meetings", order=30)
def meetings(community) -> NoticeSection:
    return NoticeSection("meetings", "communities/notice/_placeholder_meetings.html")
