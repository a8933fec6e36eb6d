"""Parse a residents' roll CSV into rows and per-row problems (no database access)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from deliberation.core.errors import DomainError
from deliberation.core.text import clean

COLUMNS = ("building", "unit", "room", "name", "phone")
# Header names accepted for each column, so a sheet saved from Excel with Chinese headers works.
HEADER_ALIASES = {
    "building": {"building", "楼栋", "楼栋号", "楼号", "栋"},
    "unit": {"unit", "单元", "单元号"},
    "room": {"room", "房号", "房间", "房间号", "门牌号"},
    "name": {"name", "姓名", "名字"},
    "phone": {"phone", "电话", "手机", "手机号", "联系电话", "手机号码"},
}
MAX_ROWS = 50_000


@dataclass
class RollRow:
    line: int
    building: str
    unit: str
    room: str
    name: str
    phone: str


@dataclass
class RollProblem:
    line: int
    text: str
    reason: object  # a lazy translated string


@dataclass
class ParsedRoll:
    rows: list[RollRow] = field(default_factory=list)
    problems: list[RollProblem] = field(default_factory=list)


def decode(data: bytes) -> str:
    """Decode UTF-8 (with or without BOM) or GB18030, which Excel uses on Chinese Windows."""
    if not data.strip():
        raise DomainError(_l("The file is empty."), field="file", status_code=422)
    if b"\x00" in data[:8192]:
        raise DomainError(_l("This is not a CSV text file. Save the sheet as CSV and try again."),
                          field="file", status_code=422)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DomainError(_l("The file's text encoding was not recognised. Save it as CSV UTF-8."),
                      field="file", status_code=422)


def _column_positions(header: list[str]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, raw in enumerate(header):
        name = clean(raw).lower()
        for column, aliases in HEADER_ALIASES.items():
            if name in aliases:
                positions[column] = index
    missing = [c for c in COLUMNS if c not in positions]
    if missing:
        raise DomainError(
            _l("The first row must name the columns building, unit, room, name, phone. Missing: %(missing)s.",
               missing=", ".join(missing)),
            field="file", status_code=422,
        )
    return positions


def parse_roll(data: bytes) -> ParsedRoll:
    """Split a CSV roll into well-formed rows and problems; a malformed file raises DomainError."""
    text = decode(data)
    first_line = text.split("\n", 1)[0]
    # The header names the delimiter: Excel writes ';' or tabs in some locales.
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise DomainError(_l("The file is empty."), field="file", status_code=422)
        positions = _column_positions(header)
        parsed = ParsedRoll()
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if line > MAX_ROWS + 1:
                raise DomainError(_l("The file has more than %(n)d rows. Split it into smaller files.", n=MAX_ROWS),
                                  field="file", status_code=422)
            if len(values) < len(header):
                parsed.problems.append(RollProblem(line, ",".join(values), _l("Too few columns in this row.")))
                continue
            parsed.rows.append(RollRow(line, **{c: values[positions[c]] for c in COLUMNS}))
    except csv.Error as error:
        raise DomainError(_l("The CSV file is malformed near line %(line)d: %(error)s",
                             line=reader.line_num, error=str(error)), field="file", status_code=422) from error
    return parsed
