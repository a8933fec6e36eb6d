"""Every user-facing message has a Chinese translation, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
METHOD_MAP = [("deliberation/**.py", "python"), ("templates/**.html", "jinja2")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.do"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def source_messages() -> set[str]:
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        ROOT, METHOD_MAP, OPTIONS, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def catalog(locale: str):
    with open(ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh, locale=locale)


def test_every_message_has_a_chinese_translation():
    zh = catalog("zh_Hans")
    translated = {m.id: m.string for m in zh if m.id and m.string and not m.fuzzy}
    messages = source_messages()
    assert len(messages) > 200
    missing = sorted(m for m in messages if m not in translated)
    assert not missing, f"{len(missing)} messages lack a Chinese translation (run make extract-messages): {missing[:10]}"


def test_translations_keep_their_placeholders():
    for message in catalog("zh_Hans"):
        if message.id and message.string:
            assert set(PLACEHOLDER.findall(message.id)) == set(PLACEHOLDER.findall(message.string)), message.id


def test_english_catalogue_exists_for_every_message():
    en = {m.id for m in catalog("en") if m.id}
    missing = sorted(source_messages() - en)
    assert not missing, f"English catalogue is out of date (run make extract-messages): {missing[:10]}"
