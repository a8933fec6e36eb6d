"""Read the SMS the file backend wrote (deliberation/notifications/sms.py) during a test."""

from __future__ import annotations

import json
import re
from pathlib import Path

CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def sms_file(app) -> Path:
    return Path(app.config.get("SMS_FILE") or Path(app.config["INSTANCE_DIR"]) / "sms.log")


def messages_to(app, phone: str) -> list[str]:
    """The texts sent to `phone` so far, oldest first (one JSON object a line in the file)."""
    path = sms_file(app)
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [m["text"] for m in map(json.loads, filter(str.strip, lines)) if m["to"] == phone]


def last_code(app, phone: str) -> str:
    """The code in the latest SMS to `phone` (the test fails if that SMS has none)."""
    match = CODE.search(messages_to(app, phone)[-1])
    assert match, "the latest SMS to this number carries no code"
    return match.group(1)
