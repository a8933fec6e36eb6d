"""Read the SMS the file backend wrote (deliberation/notifications/sms.py) during a test."""

from __future__ import annotations

import re
from pathlib import Path

from deliberation.notifications.sms import read_file_messages

CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def sms_file(app) -> Path:
    return Path(app.config.get("SMS_FILE") or Path(app.config["INSTANCE_DIR"]) / "sms.log")


def messages_to(app, phone: str) -> list[str]:
    return [m["text"] for m in read_file_messages(sms_file(app)) if m["to"] == phone]


def last_code(app, phone: str) -> str:
    """The code in the latest SMS to `phone` (the test fails if that SMS has none)."""
    match = CODE.search(messages_to(app, phone)[-1])
    assert match, "the latest SMS to this number carries no code"
    return match.group(1)
