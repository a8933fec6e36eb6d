"""A round's proposals as CSV or XLSX with Chinese headers, for reporting to the street office."""

from __future__ import annotations

import csv
import io

from flask_babel import format_datetime
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from deliberation.core import audit_stamp
from deliberation.core.text import spreadsheet_cell
from deliberation.extensions import db
from deliberation.proposals.models import Proposal, Round

# Fixed Chinese headers: the street office's forms are in Chinese whatever the user's language.
HEADERS = ["编号", "项目名称", "类别", "预算（元）", "地点", "提议人", "附议人数", "状态", "说明", "提交时间"]
CATEGORY_ZH = {"services": "服务类", "goods": "货物类", "works": "工程类"}
STATUS_ZH = {"submitted": "已提交", "accepted": "已受理", "rejected": "未受理", "merged": "已合并",
             "on_ballot": "列入投票", "struck": "党组织审核未通过", "funded": "获得资助", "not_funded": "未获资助",
             "in_progress": "实施中", "completed": "已完成"}


def rows(round_: Round) -> list[list]:
    proposals = db.session.scalars(
        select(Proposal).where(Proposal.round_id == round_.id)
        .options(joinedload(Proposal.proposer), joinedload(Proposal.estate), joinedload(Proposal.building))
        .order_by(Proposal.id)
    )
    return [[p.id, p.title, CATEGORY_ZH[p.category.value], p.cost, p.location, p.proposer.display_name,
             p.support_count, STATUS_ZH[p.status.value], p.status_reason or "",
             format_datetime(p.created_at, "yyyy-MM-dd HH:mm")] for p in proposals]


def to_csv(round_: Round) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    for row in rows(round_):
        writer.writerow([spreadsheet_cell(v) for v in row])
    out.write(audit_stamp.csv_trailer())
    # A BOM makes Excel on Chinese Windows open UTF-8 correctly.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(round_: Round) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "项目清单"
    sheet.append(HEADERS)
    for row in rows(round_):
        sheet.append([spreadsheet_cell(v) for v in row])
    for index, width in enumerate([8, 36, 10, 14, 24, 14, 10, 14, 30, 18], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    audit_stamp.add_xlsx_sheet(workbook)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
