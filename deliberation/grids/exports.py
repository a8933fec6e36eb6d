"""Exports of requests and rates (CSV with BOM for Excel, and XLSX). Headers and labels are Chinese
whatever the interface language: the reports go to the street office.

They NEVER contain who asked: no requester, name, phone, words of the request, place, answer or
comment (free text may name people) — only kinds, categories, grids, units, times and outcomes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from flask_babel import force_locale
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from deliberation.communities.models import Community
from deliberation.core import audit_stamp
from deliberation.core.text import spreadsheet_cell
from deliberation.evaluations.models import BEIJING_OFFSET
from deliberation.extensions import db
from deliberation.grids import rates as r
from deliberation.grids.models import ResidentRequest

REQUEST_HEADERS = ["编号", "提交时间（北京时间）", "类型", "类别", "网格", "楼栋", "渠道", "期限类别",
                   "答复期限（北京时间）", "承办单位", "状态", "签收时间", "吹哨时间", "答复时间", "按期答复", "逾期",
                   "是否解决", "满意度", "关闭时间", "未评价自动关闭"]
RATE_HEADERS = ["月份", "对象", "名称", "排名", "应答复件数", "按期答复件数", "响应率", "办结件数", "已解决件数",
                "解决率", "满意件数", "满意率", "综合得分"]


def _time(moment) -> str:
    return (moment + BEIJING_OFFSET).strftime("%Y-%m-%d %H:%M") if moment else ""


def _yes(value: bool | None) -> str:
    return "" if value is None else ("是" if value else "否")


def requests_of_month(community: Community, month: str) -> list[ResidentRequest]:
    """The requests filed in the (Asia/Shanghai) month, oldest first; one statement."""
    return list(db.session.scalars(
        select(ResidentRequest).options(joinedload(ResidentRequest.handling_unit), joinedload(ResidentRequest.building))
        .where(ResidentRequest.community_id == community.id,
               ResidentRequest.created_at >= r.month_start(month),
               ResidentRequest.created_at < r.month_start(r.shift(month, 1)))
        .order_by(ResidentRequest.created_at, ResidentRequest.id)))


def request_rows(requests: Sequence[ResidentRequest]) -> list[list]:
    with force_locale("zh_Hans"):
        return [[q.id, _time(q.created_at), str(q.type.label), str(q.category.label), q.grid.name,
                 q.building.name if q.building else "", str(q.channel.label), str(q.deadline_class.label),
                 _time(q.due_at), q.handling_unit.name if q.handling_unit else "", str(q.status.label),
                 _time(q.signed_at), _time(q.whistled_at), _time(q.answered_at),
                 _yes(q.answered_in_time) if q.answered_at else "", _yes(q.overdue),
                 _yes(q.resolved), q.satisfaction or "", _time(q.closed_at), _yes(q.closed_unrated)]
                for q in requests]


def _rate_row(month: str, what: str, row: r.Row, rates: r.Rates) -> list:
    return [month, what, row.subject.name, row.rank if rates is row.rates and row.rank else "", rates.due,
            rates.in_time, r.percent(rates.response), rates.closed, rates.resolved, r.percent(rates.resolution),
            rates.satisfied, r.percent(rates.satisfaction),
            "" if rates.score is None else r.percent(rates.score)]


def rate_rows(ranking: r.Ranking) -> list[list]:
    """Every unit and grid, month by month (the ranked month carries the place)."""
    rows = []
    for what, subjects in (("承办单位", ranking.units), ("网格", ranking.grids)):
        for row in subjects:
            for month, rates in row.trend:
                rows.append(_rate_row(month, what, row, rates))
    for month, rates in ranking.community:
        rows.append([month, "全社区", "", "", rates.due, rates.in_time, r.percent(rates.response), rates.closed,
                     rates.resolved, r.percent(rates.resolution), rates.satisfied, r.percent(rates.satisfaction),
                     "" if rates.score is None else r.percent(rates.score)])
    return rows


def to_csv(headers: list[str], rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([spreadsheet_cell(str(v)) for v in row])
    out.write(audit_stamp.csv_trailer())
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(title: str, headers: list[str], rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for row in rows:
        sheet.append([spreadsheet_cell(v) for v in row])
    audit_stamp.add_xlsx_sheet(workbook)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
