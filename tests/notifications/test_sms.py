"""SMS gateways: the file backend, and Aliyun Dysmsapi SendSms against a local fake that checks the signature."""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from deliberation.notifications.sms import AliyunGateway, FileGateway, SmsError, aliyun_signature, get_gateway

SECRET = "testsecret"


class FakeDysmsapi(BaseHTTPRequestHandler):
    """Answers like Dysmsapi: checks every required parameter and the HMAC-SHA1 signature."""

    received: list[dict] = []
    answer_code = "OK"

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        params = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
        signature = params.pop("Signature", "")
        required = {"AccessKeyId", "Action", "Format", "PhoneNumbers", "RegionId", "SignName", "SignatureMethod",
                    "SignatureNonce", "SignatureVersion", "TemplateCode", "TemplateParam", "Timestamp", "Version"}
        if not required <= set(params) or params["Action"] != "SendSms" or params["Version"] != "2017-05-25":
            answer = {"Code": "MissingParameter", "Message": "missing"}
        elif signature != aliyun_signature(params, SECRET, "POST"):
            answer = {"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched"}
        else:
            type(self).received.append(params)
            answer = {"Code": self.answer_code, "Message": "OK", "BizId": "900619746936498440^0", "RequestId": "r1"}
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_aliyun():
    FakeDysmsapi.received = []
    FakeDysmsapi.answer_code = "OK"
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeDysmsapi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def gateway(endpoint: str, secret: str = SECRET) -> AliyunGateway:
    return AliyunGateway(endpoint=endpoint, access_key_id="testid", access_key_secret=secret,
                         sign_name="桃源社区", template_code="SMS_0001", timeout=5)


def test_aliyun_send_is_signed_and_returns_the_biz_id(fake_aliyun):
    text = "议事会会议通知：第三次议事会 12-03 19:00 社区会议室（请准时）"
    assert gateway(fake_aliyun).send("13800001234", text) == "900619746936498440^0"
    [params] = FakeDysmsapi.received
    assert params["PhoneNumbers"] == "13800001234" and params["SignName"] == "桃源社区"
    assert json.loads(params["TemplateParam"]) == {"content": text}


def test_a_wrong_secret_is_refused_as_a_bad_signature(fake_aliyun):
    with pytest.raises(SmsError, match="SignatureDoesNotMatch"):
        gateway(fake_aliyun, secret="wrong").send("13800001234", "hello")
    assert FakeDysmsapi.received == []


def test_a_provider_refusal_and_an_unreachable_gateway_raise_sms_error(fake_aliyun):
    FakeDysmsapi.answer_code = "isv.BUSINESS_LIMIT_CONTROL"
    with pytest.raises(SmsError, match="BUSINESS_LIMIT_CONTROL"):
        gateway(fake_aliyun).send("13800001234", "hello")
    with pytest.raises(SmsError, match="unreachable"):
        gateway("http://127.0.0.1:9/").send("13800001234", "hello")


def test_the_signature_matches_alibaba_clouds_documented_encoding():
    # Spaces as %20, "*" as %2A, "~" kept; the key is the secret followed by "&".
    params = {"A": "a b*~", "B": "中"}
    import base64
    import hashlib
    import hmac
    query = "A=a%20b%2A~&B=%E4%B8%AD"
    string_to_sign = "POST&%2F&" + urllib.parse.quote(query, safe="~")
    expected = base64.b64encode(hmac.new(b"k&", string_to_sign.encode(), hashlib.sha1).digest()).decode()
    assert aliyun_signature(params, "k") == expected


def test_get_gateway_defaults_to_the_file_backend(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "INSTANCE_DIR", tmp_path)
    gw = get_gateway(app)
    assert isinstance(gw, FileGateway)
    message_id = gw.send("13800001234", "测试")
    line = json.loads((tmp_path / "sms.log").read_text(encoding="utf-8"))
    assert line["id"] == message_id and line["to"] == "13800001234" and line["text"] == "测试"
    monkeypatch.setitem(app.config, "SMS_BACKEND", "aliyun")
    with pytest.raises(SmsError):
        get_gateway(app)  # not configured
