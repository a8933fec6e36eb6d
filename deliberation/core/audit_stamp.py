"""The audit log's head printed on exports and printed pages, so that every copy anchors the log.

Whoever keeps an export or a printout can later run `flask audit verify --anchor FINGERPRINT`:
if the events up to it were deleted or rewritten, the check fails (core/audit_verify.py).
CSV files get one trailing comment line starting with "#" (spreadsheets show it as a last row;
`pandas.read_csv(comment="#")` and R's `comment.char` skip it); XLSX workbooks a last sheet "审计".
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from openpyxl import Workbook

from deliberation.core.audit import GENESIS_HASH, head

SHEET_TITLE = "审计"
CSV_PREFIX = "# 审计日志链头 audit log head:"


def _stamp() -> tuple[int, str, str]:
    current = head()
    zone = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    at = datetime.now(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
    return (current.seq, current.hash, at) if current else (0, GENESIS_HASH, at)


def csv_trailer(line_end: str = "\r\n") -> str:
    """`# 审计日志链头 audit log head: <count> <fingerprint> <time, Beijing>` as the file's last line."""
    seq, fingerprint, at = _stamp()
    return f"{CSV_PREFIX} {seq} {fingerprint} {at}{line_end}"


def add_xlsx_sheet(workbook: Workbook) -> None:
    """A last sheet with the head at export time; the data sheets are untouched."""
    seq, fingerprint, at = _stamp()
    sheet = workbook.create_sheet(SHEET_TITLE)
    sheet.append(["审计日志链头（导出时）", "Audit log head at export"])
    sheet.append(["导出时间（北京时间）", at])
    sheet.append(["事件数", seq])
    sheet.append(["指纹", fingerprint])
    sheet.append(["核验", f"flask audit verify --anchor {fingerprint}"])
    sheet.column_dimensions["A"].width = 24
    sheet.column_dimensions["B"].width = 70
