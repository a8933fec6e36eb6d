"""Normalisation of what people type (full-width digits, phone prefixes, unit and room suffixes),
and making their text safe for the files we export."""

from __future__ import annotations

import re
import unicodedata

# Characters that show nothing themselves but change what is around them or what it compares equal to:
# bidi overrides and isolates ('书秘会事议' shown as '议事会秘书'), zero-width spaces and joiners, the BOM,
# soft hyphens (Unicode "format" characters), control characters, and the blank fillers fonts draw as nothing.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _shows_nothing(ch: str) -> bool:
    return (unicodedata.category(ch) in ("Cc", "Cf") and not ch.isspace()) or ch in _BLANK_LETTERS


def visible(value: str | None) -> str:
    """The text without the characters that show nothing (see above): what a reader sees is what is kept,
    so a name or a room number cannot look like another one and compare different."""
    return "".join(ch for ch in value or "" if not _shows_nothing(ch))


def clean(value: str | None) -> str:
    """NFKC-normalise (full-width to half-width), drop what shows nothing and collapse whitespace."""
    return " ".join(visible(unicodedata.normalize("NFKC", value or "")).split())


def clean_name(value: str | None) -> str:
    """A person's display name: what shows nothing dropped and whitespace collapsed, and not
    NFKC-normalised (a name's Chinese （） stay as typed)."""
    return " ".join(visible(value).split())


def clean_prose(value: str | None) -> str:
    """What a person wrote (a request, a note, an answer), trimmed with runs of spaces collapsed, and not
    NFKC-normalised: that would turn its Chinese ，：？（） into ASCII ,:?() wherever it is shown."""
    return " ".join((value or "").split())


def normalise_phone(raw: str | None) -> str:
    """Strip spaces, dashes and a +86 / 0086 prefix."""
    phone = re.sub(r"[\s\-()]", "", clean(raw))
    for prefix in ("+86", "0086"):
        if phone.startswith(prefix):
            return phone[len(prefix):]
    return phone


def normalise_unit(raw: str | None) -> str:
    """'1单元' and '1' name the same unit."""
    unit = clean(raw).replace(" ", "")
    return unit[: -len("单元")] if unit.endswith("单元") and len(unit) > 2 else unit


def normalise_room(raw: str | None) -> str:
    """'301室', '301房' and '301' name the same room."""
    room = clean(raw).replace(" ", "")
    return room[:-1] if room[-1:] in ("室", "房") and len(room) > 1 else room


# Characters XML 1.0 forbids (a vertical tab pasted from Word, say): .xlsx and .docx cannot hold them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def xml_safe(text: str) -> str:
    """The text with characters XML forbids replaced by spaces (a .xlsx or .docx would be refused)."""
    return _NOT_XML.sub(" ", text)


def spreadsheet_cell(value):
    """A value for a CSV or XLSX cell: residents' text that a spreadsheet would run as a formula gets a
    leading apostrophe (CSV injection), and characters XML forbids become spaces."""
    if not isinstance(value, str):
        return value
    value = xml_safe(value)
    return "'" + value if value[:1] in _FORMULA_STARTS else value
