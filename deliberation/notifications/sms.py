"""SMS gateways: `get_gateway(app).send(phone, text) -> provider message id`, raising `SmsError`.

`SMS_BACKEND=file` (the default) appends each message to instance/sms.log; `SMS_BACKEND=aliyun`
calls Alibaba Cloud's Dysmsapi `SendSms` (RPC style, HMAC-SHA1 signature version 1.0).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask


class SmsError(Exception):
    """The gateway did not accept the message (the text says why, without the message)."""


class FileGateway:
    """Writes each message to a file (instance/sms.log): the default for development and tests."""

    _lock = threading.Lock()

    def __init__(self, path: Path):
        self.path = path

    def send(self, phone: str, text: str) -> str:
        message_id = uuid.uuid4().hex
        line = json.dumps({"id": message_id, "at": datetime.now(UTC).isoformat(timespec="seconds"),
                           "to": phone, "text": text}, ensure_ascii=False)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock, self.path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
        except OSError as error:
            raise SmsError(f"cannot write {self.path}: {error.strerror}") from error
        return message_id


def percent_encode(value: str) -> str:
    """Alibaba Cloud's POP encoding: RFC 3986 unreserved characters kept, space as %20."""
    return urllib.parse.quote(str(value), safe="~")


def aliyun_signature(params: dict[str, str], secret: str, method: str = "POST") -> str:
    """Signature of an RPC request: Base64(HMAC-SHA1(secret + "&", method&%2F&encode(sorted query)))."""
    query = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))
    string_to_sign = f"{method}&{percent_encode('/')}&{percent_encode(query)}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunGateway:
    """Dysmsapi SendSms (version 2017-05-25): one approved template whose ${content} carries the text."""

    def __init__(self, *, endpoint: str, access_key_id: str, access_key_secret: str, sign_name: str,
                 template_code: str, timeout: int = 15):
        if not (access_key_id and access_key_secret and sign_name and template_code):
            raise SmsError("the Aliyun SMS gateway needs SMS_ALIYUN_ACCESS_KEY_ID, _SECRET, _SIGN_NAME "
                           "and _TEMPLATE_CODE")
        if not endpoint.startswith(("https://", "http://")):
            raise SmsError("SMS_ALIYUN_ENDPOINT must be an http(s) URL")
        self.endpoint = endpoint
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.sign_name = sign_name
        self.template_code = template_code
        self.timeout = timeout

    def request_params(self, phone: str, text: str, *, out_id: str = "") -> dict[str, str]:
        params = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": phone,
            "RegionId": "cn-hangzhou",
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": self.template_code,
            "TemplateParam": json.dumps({"content": text}, ensure_ascii=False),
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        if out_id:
            params["OutId"] = out_id
        params["Signature"] = aliyun_signature(params, self.access_key_secret, "POST")
        return params

    def send(self, phone: str, text: str) -> str:
        body = urllib.parse.urlencode(self.request_params(phone, text)).encode()
        request = urllib.request.Request(self.endpoint, data=body, method="POST",  # noqa: S310 (http(s) only)
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (configured https URL)
                answer = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            try:
                answer = json.loads(error.read().decode("utf-8"))
            except ValueError:
                raise SmsError(f"HTTP {error.code} from the SMS gateway") from error
        except (OSError, ValueError) as error:
            raise SmsError(f"SMS gateway unreachable: {error}") from error
        if answer.get("Code") != "OK":
            raise SmsError(f"SMS gateway refused: {answer.get('Code')} {answer.get('Message', '')}".strip())
        return str(answer.get("BizId", ""))


def get_gateway(app: Flask):
    """The SMS gateway the app's configuration names (`SMS_BACKEND`)."""
    config = app.config
    backend = config.get("SMS_BACKEND", "file")
    if backend == "file":
        return FileGateway(Path(config.get("SMS_FILE") or Path(config["INSTANCE_DIR"]) / "sms.log"))
    if backend == "aliyun":
        return AliyunGateway(
            endpoint=config["SMS_ALIYUN_ENDPOINT"], access_key_id=config["SMS_ALIYUN_ACCESS_KEY_ID"],
            access_key_secret=config["SMS_ALIYUN_ACCESS_KEY_SECRET"], sign_name=config["SMS_ALIYUN_SIGN_NAME"],
            template_code=config["SMS_ALIYUN_TEMPLATE_CODE"], timeout=config.get("SMS_TIMEOUT", 15))
    raise SmsError(f"unknown SMS_BACKEND {backend!r} (file or aliyun)")
