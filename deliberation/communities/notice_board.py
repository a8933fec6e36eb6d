"""Placeholder notice-board sections for areas that do not exist yet; each area replaces its own."""

from deliberation.core import notice_board
from deliberation.core.notice_board import NoticeSection


@notice_board.register("rounds", order=10)
def open_rounds(community) -> NoticeSection:
    return NoticeSection("rounds", "communities/notice/_placeholder_rounds.html")


@notice_board.register("publicity", order=20)
def publicity(community) -> NoticeSection:
    return NoticeSection("publicity", "communities/notice/_placeholder_publicity.html")


@notice_board.register("meetings", order=30)
def meetings(community) -> NoticeSection:
    return NoticeSection("meetings", "communities/notice/_placeholder_meetings.html")
