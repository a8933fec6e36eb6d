"""Normalisation of what people type: full-width digits, phone prefixes, unit and room suffixes."""

from __future__ import annotations

import re
import unicodedata


def clean(value: str | None) -> str:
    """NFKC-normalise (full-width to half-width) and collapse whitespace."""
    return " ".join(unicodedata.normalize("NFKC", value or "").split())


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
