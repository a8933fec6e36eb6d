"""The notice board's evaluations section: newly published evaluations and open surveys."""

from __future__ import annotations

from deliberation.core import notice_board
from deliberation.core.notice_board import NoticeSection
from deliberation.evaluations import services


@notice_board.register("evaluations", order=40)
def evaluations_section(community) -> NoticeSection:
    """The five most recently published evaluations and the surveys open now (three queries)."""
    surveys = services.open_surveys(community)
    return NoticeSection("evaluations", "evaluations/notice/_section.html",
                         {"published": services.recent_published(community), "surveys": surveys})
