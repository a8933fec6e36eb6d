"""The SMS gateway: `get_gateway(app).send(phone, text)` returns the provider's message id.

Backends are chosen by `SMS_BACKEND`. Only `file` exists here: each message is appended as one
line to `SMS_FILE` (default `instance/sms.log`), which stands in for a real provider on a
developer's machine and in tests. Message texts are never written to the application log (a
one-time code travels in them).
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask

log = logging.getLogger(__name__)


class SmsError(Exception):
    """The message could not be handed to the provider."""


class FileGateway:
    """Appends each message to a file, one JSON object a line."""

    _lock = threading.Lock()

    def __init__(self, path: Path):
        self.path = Path(path)

    def send(self, phone: str, text: str) -> str:
        message_id = secrets.token_hex(8)
        line = json.dumps({"id": message_id, "to": phone, "at": datetime.now(UTC).isoformat(timespec="seconds"),
                           "text": text}, ensure_ascii=False)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock, self.path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
        except OSError as error:
            raise SmsError(str(error)) from error
        log.info("SMS %s handed to the file backend", message_id)
        return message_id


def get_gateway(app: Flask) -> FileGateway:
    """The gateway the configuration names."""
    backend = app.config.get("SMS_BACKEND", "file")
    if backend == "file":
        path = app.config.get("SMS_FILE") or Path(app.config["INSTANCE_DIR"]) / "sms.log"
        return FileGateway(path)
    raise SmsError(f"unknown SMS_BACKEND {backend!r}")
