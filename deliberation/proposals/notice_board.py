"""The proposals area's sections of the community notice board."""

from deliberation.core import notice_board
from deliberation.core.notice_board import NoticeSection
from deliberation.proposals import queries


@notice_board.register("rounds", order=10)
def open_rounds(community) -> NoticeSection:
    return NoticeSection("rounds", "proposals/notice/_rounds.html", {"rounds": queries.open_rounds(community.id)})


@notice_board.register("publicity", order=20)
def publicity(community) -> NoticeSection:
    return NoticeSection("publicity", "proposals/notice/_publicity.html",
                         {"proposals": queries.in_publicity(community.id)})


@notice_board.register("decisions", order=25)
def decisions(community) -> NoticeSection:
    return NoticeSection("decisions", "proposals/notice/_decisions.html",
                         {"proposals": queries.recent_decisions(community.id)})
