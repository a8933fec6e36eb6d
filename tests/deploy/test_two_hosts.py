"""Two app hosts behind one nginx, sharing PostgreSQL and Redis, started from the sample configuration
in deploy/ (README: "Production deployment").

Each host is a gunicorn process (deploy/gunicorn.conf.py) with an instance folder of its own; nginx
(deploy/nginx.conf, rendered with local ports) sends the requests to them in turn. Which host answered a
request is read from nginx's access log (the request id it returns in X-Request-Id). Everything a
person does must work whichever host answers: logging in, being slowed after wrong passwords,
logging out, a photo uploaded through one host and shown by the other, the meeting room and its live
updates (ETags, event streams woken through Redis, the unread badge), and the notification worker running
on both hosts at once delivers each message once.

Runs in the PostgreSQL suite (TEST_DATABASE_URL), which scripts/run_tests.py runs with a throwaway Redis
(TEST_REDIS_URL); it also needs nginx. Without Redis or nginx it is skipped, unless REQUIRE_POSTGRES=1
(then it fails).
"""

from __future__ import annotations

import copy
import html
import http.cookiejar
import json
import os
import queue
import re
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from deliberation import create_app
from deliberation.config import TestConfig
from deliberation.extensions import db
from tests.conftest import make_test_config

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
HOSTS = ("host-a", "host-b")


def _nginx() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def _missing() -> str | None:
    if not os.environ.get("TEST_REDIS_URL"):
        return "needs Redis in TEST_REDIS_URL (the PostgreSQL suite of scripts/run_tests.py starts one)"
    if _nginx() is None:
        return "needs nginx (Debian package nginx or nginx-light; .ci/run installs it)"
    return None


@pytest.fixture(scope="module", autouse=True)
def _requirements():
    if not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
        pytest.skip("runs in the PostgreSQL suite (scripts/run_tests.py sets TEST_DATABASE_URL and TEST_REDIS_URL)")
    reason = _missing()
    if reason:
        if os.environ.get("REQUIRE_POSTGRES", "").strip().lower() in {"1", "true", "yes"}:
            pytest.fail(f"REQUIRE_POSTGRES=1 but the two-host test cannot run: {reason}")
        pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, what: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout} s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- an HTTP client that remembers cookies and does not follow redirects -----------------------

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Reply:
    status: int
    headers: dict
    body: bytes
    host: str  # the app host that answered (from nginx's access log)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Browser:
    """One person's browser, talking to the proxy."""

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())

    def request(self, method: str, path: str, *, form: dict | None = None, files: dict | None = None,
                headers: dict | None = None) -> Reply:
        body, content_type = None, None
        if files:
            body, content_type = _multipart(form or {}, files)
        elif form is not None:
            body, content_type = urlencode(form, doseq=True).encode(), "application/x-www-form-urlencoded"
        request = urllib.request.Request(self.cluster.url + path, data=body, method=method,  # noqa: S310 (http://127.0.0.1)
                                         headers=headers or {})
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with self.opener.open(request, timeout=30) as response:
                status, response_headers, data = response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:  # 3xx (not followed) and 4xx/5xx
            status, response_headers, data = error.code, dict(error.headers), error.read()
        return Reply(status, response_headers, data, self.cluster.host_of(response_headers["X-Request-Id"]))

    def get(self, path: str, **kwargs) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, form: dict | None = None, **kwargs) -> Reply:
        return self.request("POST", path, form={"csrf_token": self.csrf_token(), **(form or {})}, **kwargs)

    def csrf_token(self) -> str:
        page = self.get("/login")  # the login form, or a redirect once logged in
        if page.status != 200:
            page = self.get("/account")
        match = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', page.text)
        assert match, "a page with a form carries a CSRF token"
        return match.group(1)

    def session_cookie(self) -> str | None:
        return next((c.value for c in self.jar if c.name == "session"), None)

    def log_in(self, login: str, password: str) -> Reply:
        token = self.csrf_token()
        return self.request("POST", "/login", form={"csrf_token": token, "login": login, "password": password})


def _multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data, content_type) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: {content_type}\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# --- the deployment ---------------------------------------------------------------------------

class Cluster:
    """Two gunicorn hosts and nginx, configured from deploy/, on a fresh PostgreSQL database."""

    def __init__(self, database_url: str, redis_url: str, folder: Path):
        self.folder = folder
        self.database_url = database_url
        self.ports = {host: free_port() for host in HOSTS}
        self.proxy_port = free_port()
        self.url = f"http://127.0.0.1:{self.proxy_port}"
        self.nginx_dir = folder / "nginx"
        self.processes: list[subprocess.Popen] = []
        self.workers: dict[str, subprocess.Popen] = {}
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "REQUIRE_"))},
            # What deploy/deliberation.env sets on every host: the same database, Redis and keys.
            "DATABASE_URL": database_url,
            "RATELIMIT_STORAGE_URI": redis_url,
            "REDIS_URL": redis_url,  # live meetings' streams are woken across hosts
            "SECRET_KEY": TestConfig.SECRET_KEY,
            "AUDIT_KEY": TestConfig.AUDIT_KEY,
            "TRUSTED_PROXIES": "1",
            "PUBLIC_BASE_URL": self.url,
            # Plain HTTP on the loopback: the cookies cannot be Secure here.
            "SESSION_COOKIE_SECURE": "0",
            "WEB_CONCURRENCY": "2",
            "GUNICORN_THREADS": "4",  # an open event stream holds one
            # Small enough to reach in a test; each failure counts whichever host answers.
            "LOGIN_ACCOUNT_RATE_LIMIT": "3 per minute",
            "LOGIN_RATE_LIMIT": "1000 per minute",
            "NOTIFY_BATCH_SIZE": "3",
            "SMS_BACKEND": "file",
        }

    def instance(self, host: str) -> Path:
        return self.folder / host

    def host_env(self, host: str) -> dict[str, str]:
        return {**self.env, "DELIBERATION_INSTANCE": str(self.instance(host)),
                "DELIBERATION_BIND": f"127.0.0.1:{self.ports[host]}"}

    def start(self) -> None:
        for host in HOSTS:
            self.instance(host).mkdir()
            log = self.folder / f"{host}.log"
            process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", str(DEPLOY / "gunicorn.conf.py"), "wsgi:app"],
                cwd=ROOT, env=self.host_env(host), stdout=log.open("w"), stderr=subprocess.STDOUT)
            self.processes.append(process)
            wait_for_port(self.ports[host], process, f"gunicorn ({host})", log)
        self.nginx_dir.mkdir()
        self.nginx_dir.chmod(0o755)  # nginx's workers run as www-data when the test runs as root
        conf = self.nginx_dir / "nginx.conf"
        conf.write_text(render_nginx(self.proxy_port, [self.ports[h] for h in HOSTS], self.nginx_dir))
        log = self.nginx_dir / "error.log"
        log.touch()
        nginx = subprocess.Popen([_nginx(), "-c", str(conf), "-p", str(self.nginx_dir), "-e", str(log),
                                  "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        self.processes.append(nginx)
        wait_for_port(self.proxy_port, nginx, "nginx", log)

    def host_of(self, request_id: str) -> str:
        """The app host that answered the request with this id (nginx logs it once the reply is sent)."""
        by_port = {str(port): host for host, port in self.ports.items()}
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for line in (self.nginx_dir / "access.log").read_text().splitlines():
                if f"id={request_id} " in line:
                    return by_port[re.search(r"upstream=127\.0\.0\.1:(\d+)", line).group(1)]
            time.sleep(0.05)
        raise AssertionError(f"request {request_id} is not in nginx's access log")

    def start_worker(self, host: str) -> None:
        log = self.folder / f"worker-{host}.log"
        self.workers[host] = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--interval", "0.2"], cwd=ROOT,
            env=self.host_env(host), stdout=log.open("w"), stderr=subprocess.STDOUT)
        self.processes.append(self.workers[host])

    def stop(self) -> None:
        for process in reversed(self.processes):
            stop(process)


def render_nginx(listen: int, app_ports: list[int], folder: Path) -> str:
    """deploy/nginx.conf with its ${DELIBERATION_...} variables filled in, as envsubst would."""
    values = {"DELIBERATION_LISTEN": f"127.0.0.1:{listen}", "DELIBERATION_NGINX_DIR": str(folder),
              **{f"DELIBERATION_APP_{n}": f"127.0.0.1:{port}" for n, port in enumerate(app_ports, start=1)}}
    rendered = string.Template((DEPLOY / "nginx.conf").read_text()).safe_substitute(values)
    assert "${DELIBERATION_" not in rendered
    return rendered


@dataclass
class Seeded:
    resident_login: str
    resident_id: int
    community: str
    round_id: int
    session_id: int
    sms_recipients: list[int]


def seed(database_url: str, tmp_path_factory) -> tuple[Seeded, object]:
    """Migrate the fresh database as a deployment would (flask db upgrade), then add a community with a
    collecting round and a meeting in session."""
    import flask_migrate

    from tests.councils.factories import make_council, make_session, start
    from tests.factories import build_world, make_user
    from tests.proposals.factories import make_round

    app = create_app(make_test_config(tmp_path_factory, SQLALCHEMY_DATABASE_URI=database_url))
    with app.app_context():
        flask_migrate.upgrade(directory=str(ROOT / "migrations"))
        world = build_world()
        round_ = make_round(world.community, world.secretary)
        council = make_council(world.community, world.admin, members=3, seat_users=[world.resident])
        session = make_session(world.community, world.secretary, council)
        start(session, world.secretary)
        recipients = [make_user(phone=f"1390000{n:04d}").id for n in range(30)]
        db.session.commit()
        seeded = Seeded("resident", world.resident.id, world.community.slug, round_.id, session.id, recipients)
    return seeded, app


@pytest.fixture(scope="module")
def database_url():
    """A new database on the test server, dropped afterwards."""
    base = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"two_hosts_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def cluster(database_url, tmp_path_factory):
    seeded, app = seed(database_url, tmp_path_factory)
    folder = Path(tempfile.mkdtemp(prefix="deliberation-two-hosts-"))
    folder.chmod(0o755)
    deployment = Cluster(database_url, os.environ["TEST_REDIS_URL"], folder)
    deployment.seeded, deployment.app = seeded, app
    try:
        deployment.start()
        yield deployment
    finally:
        deployment.stop()
        with app.app_context():
            db.engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)


def test_requests_alternate_between_the_two_hosts(cluster):
    browser = Browser(cluster)
    hosts = [browser.get("/login").host for _ in range(4)]
    assert set(hosts) == set(HOSTS)
    assert all(a != b for a, b in zip(hosts, hosts[1:], strict=False))


def test_a_login_through_one_host_holds_on_both_and_a_logout_ends_it_on_both(cluster):
    browser = Browser(cluster)
    login = browser.log_in(cluster.seeded.resident_login, "correct-horse-9")
    assert login.status == 303, login.text[:500]
    pages = [browser.get("/account") for _ in range(2)]
    assert {page.host for page in pages} == set(HOSTS)
    assert all(page.status == 200 for page in pages)
    # Someone copies the session cookie before the logout.
    thief = Browser(cluster)
    thief.jar.set_cookie(copy.copy(next(c for c in browser.jar if c.name == "session")))
    assert thief.get("/account").status == 200
    logout = browser.post("/logout")
    assert logout.status == 303
    # The copied cookie opens nothing any more, on either host.
    after = [thief.get("/account") for _ in range(2)]
    assert {page.host for page in after} == set(HOSTS)
    assert all(page.status == 302 and "/login" in page.headers["Location"] for page in after)


def test_wrong_passwords_are_counted_across_hosts_and_forged_addresses_do_not_help(cluster):
    """3 failures a minute per address and account, with the count in Redis: alternating hosts does not
    give each host its own three, and an X-Forwarded-For written by the client is not believed."""
    account = f"nobody-{uuid.uuid4().hex[:8]}"
    browser = Browser(cluster)
    token = browser.csrf_token()
    replies = []
    for n in range(4):
        replies.append(browser.request("POST", "/login", form={"csrf_token": token, "login": account,
                                                                "password": "wrong"},
                                       headers={"X-Forwarded-For": f"203.0.113.{n + 1}"}))
    assert [r.status for r in replies] == [422, 422, 422, 429]
    assert {r.host for r in replies} == set(HOSTS)


def test_a_photo_uploaded_through_one_host_is_served_by_the_other(cluster):
    from tests.proposals.factories import jpeg_bytes

    seeded = cluster.seeded
    browser = Browser(cluster)
    assert browser.log_in(seeded.resident_login, "correct-horse-9").status == 303
    form = {"csrf_token": browser.csrf_token(), "title": "楼道加装扶手", "description": "三号楼楼道没有扶手，老人上下楼不方便。",
            "category": "works", "cost": "30000", "place": "", "location_text": ""}
    photo = jpeg_bytes()
    sent = browser.request("POST", f"/c/{seeded.community}/rounds/{seeded.round_id}/propose", form=form,
                           files={"photos": ("坡道.jpg", photo, "image/jpeg")})
    assert sent.status == 303, sent.text[:500]
    page = browser.get(sent.headers["Location"].removeprefix(cluster.url))
    name = re.search(r"/uploads/([A-Za-z0-9_-]+\.jpg)", page.text).group(1)
    served = [browser.get(f"/uploads/{name}") for _ in range(2)]
    assert {reply.host for reply in served} == set(HOSTS)
    assert all(reply.status == 200 and reply.body[:2] == b"\xff\xd8" for reply in served)
    assert served[0].body == served[1].body
    cached = browser.get(f"/uploads/{name}", headers={"If-None-Match": served[0].headers["ETag"]})
    assert cached.status == 304
    # Nothing was written to either host's instance folder.
    assert not any((cluster.instance(host) / "uploads").exists() for host in HOSTS)


def test_the_meeting_room_shows_the_same_from_either_host(cluster):
    seeded = cluster.seeded
    browser = Browser(cluster)
    assert browser.log_in(seeded.resident_login, "correct-horse-9").status == 303
    room = f"/c/{seeded.community}/sessions/{seeded.session_id}"
    signed_in = browser.post(f"{room}/sign-in", headers={"HX-Request": "true"})
    assert signed_in.status in (200, 303), signed_in.text[:500]
    live = [browser.get(f"{room}/live", headers={"HX-Request": "true"}) for _ in range(2)]
    assert {reply.host for reply in live} == set(HOSTS)
    present = [re.search(r'data-testid="quorum".*?<strong>(\d+)</strong>', reply.text, re.S) for reply in live]
    assert all(reply.status == 200 for reply in live) and all(present)
    assert [m.group(1) for m in present] == ["1", "1"]


def room_version(cluster) -> int:
    from deliberation.consultations.live import live_version

    with cluster.app.app_context():
        found = live_version(cluster.seeded.session_id)
        db.session.rollback()
    return found[0]


def change_the_meeting(cluster, secretary: Browser) -> tuple[Reply, int]:
    """The secretary ticks the resident in, or out if present (either moves the room's version on),
    through the proxy; returns the reply and the version after it."""
    seeded = cluster.seeded
    from deliberation.consultations.models import Attendance

    with cluster.app.app_context():
        present = db.session.scalar(select(func.count()).select_from(Attendance).where(
            Attendance.session_id == seeded.session_id, Attendance.user_id == seeded.resident_id))
        db.session.rollback()
    before = room_version(cluster)
    reply = secretary.post(f"/c/{seeded.community}/sessions/{seeded.session_id}/attendance",
                           form={"user_id": str(seeded.resident_id), "present": "0" if present else "1"})
    assert reply.status == 303, reply.text[:500]
    after = room_version(cluster)
    assert after > before
    return reply, after


def logged_in(cluster, login: str) -> Browser:
    browser = Browser(cluster)
    assert browser.log_in(login, "correct-horse-9").status == 303
    return browser


def test_the_rooms_etag_moves_whichever_host_made_the_change(cluster):
    """A phone polling through the proxy with the ETag of its copy gets 304 from either host while nothing
    changed, and the new room from either host once a change committed through one of them."""
    seeded = cluster.seeded
    phone, secretary = logged_in(cluster, seeded.resident_login), logged_in(cluster, "secretary")
    live = f"/c/{seeded.community}/sessions/{seeded.session_id}/live"
    first = phone.get(live, headers={"HX-Request": "true"})
    assert first.status == 200 and first.headers["ETag"]
    tag = {"HX-Request": "true", "If-None-Match": first.headers["ETag"]}
    unchanged = [phone.get(live, headers=tag) for _ in range(2)]
    assert {r.host for r in unchanged} == set(HOSTS)
    assert [(r.status, r.body) for r in unchanged] == [(304, b""), (304, b"")]
    changed_by, version = change_the_meeting(cluster, secretary)
    after = [phone.get(live, headers=tag) for _ in range(2)]
    assert {r.host for r in after} == set(HOSTS)
    assert all(r.status == 200 and r.headers["ETag"] != first.headers["ETag"] for r in after)
    assert after[0].headers["ETag"] == after[1].headers["ETag"]  # the same version on both hosts
    assert f"-{version}-" in after[0].headers["ETag"]
    # The full page names the same tag, so a phone's first refresh after loading it is a 304 on either host.
    page = phone.get(f"/c/{seeded.community}/sessions/{seeded.session_id}")
    shown = html.unescape(re.search(r'data-live-etag="([^"]+)"', page.text).group(1))
    assert shown == after[0].headers["ETag"]
    again = [phone.get(live, headers={"HX-Request": "true", "If-None-Match": shown}) for _ in range(2)]
    assert {r.host for r in again} == set(HOSTS) and [r.status for r in again] == [304, 304]


class EventStream:
    """An EventSource's connection through the proxy, read by a thread: the events arrive in a queue."""

    def __init__(self, browser: Browser, path: str):
        request = urllib.request.Request(browser.cluster.url + path,  # noqa: S310 (http://127.0.0.1)
                                         headers={"Accept": "text/event-stream"})
        self.response = browser.opener.open(request, timeout=60)
        self.request_id = self.response.headers["X-Request-Id"]
        self.events: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        event: dict[str, str] = {}
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\r\n")
                if not line:
                    if "event" in event:
                        self.events.put(event)
                    event = {}
                    continue
                field, _, value = line.partition(":")
                event[field] = value.strip()
        except (OSError, ValueError, AttributeError):  # closed by the test (http.client drops its file)
            pass

    def next(self, kind: str, timeout: float) -> dict | None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                return None
            if event["event"] == kind:
                return event
        return None

    def close(self) -> None:
        self.response.close()
        self.thread.join(timeout=5)


def test_an_event_stream_through_one_host_hears_a_change_made_on_the_other_within_2_s(cluster):
    """Streams opened through nginx on both hosts (REDIS_URL set: they read the database only every 15 s and
    are woken by Redis) each receive the `version` event of a change committed through one host within
    2 s — so the host that did not make the change hears it through Redis, and nginx passes it on at once."""
    seeded = cluster.seeded
    phone, secretary = logged_in(cluster, seeded.resident_login), logged_in(cluster, "secretary")
    path = f"/c/{seeded.community}/sessions/{seeded.session_id}/events"
    streams = [EventStream(phone, path) for _ in HOSTS]
    try:
        now = room_version(cluster)
        for stream in streams:  # at once on connecting: the current version
            first = stream.next("version", timeout=5)
            assert first is not None and first["id"] == str(now)
        time.sleep(0.5)  # both streams are waiting on Redis
        reply, version = change_the_meeting(cluster, secretary)
        changed = time.monotonic()
        heard = [stream.next("version", timeout=2) for stream in streams]
        assert all(event is not None and event["id"] == str(version) for event in heard), heard
        assert time.monotonic() - changed < 2.5
    finally:
        for stream in streams:
            stream.close()
    # Which hosts held the streams: nginx logs a stream once it ends.
    assert {cluster.host_of(stream.request_id) for stream in streams} == set(HOSTS)
    assert reply.host in HOSTS


def test_the_unread_badge_answers_304_from_either_host(cluster):
    phone = logged_in(cluster, cluster.seeded.resident_login)
    first = phone.get("/inbox/unread", headers={"HX-Request": "true"})
    assert first.status == 200 and first.headers["ETag"]
    again = [phone.get("/inbox/unread", headers={"HX-Request": "true", "If-None-Match": first.headers["ETag"]})
             for _ in range(2)]
    assert {r.host for r in again} == set(HOSTS)
    assert [(r.status, r.body) for r in again] == [(304, b""), (304, b"")]


def test_the_worker_runs_on_both_hosts_and_delivers_each_message_once(cluster):
    from deliberation.notifications import services
    from deliberation.notifications.models import Channel, DeliveryStatus, OutboxMessage

    for host in HOSTS:
        cluster.start_worker(host)
    started = time.monotonic() + 60
    while time.monotonic() < started and not all(
            "Notification worker started." in (cluster.folder / f"worker-{host}.log").read_text() for host in HOSTS):
        time.sleep(0.2)
    time.sleep(2)  # past the periodic jobs each worker runs first: both are polling before the messages arrive

    def sent_by_host() -> dict[str, list[dict]]:
        return {host: [json.loads(line) for line in (cluster.instance(host) / "sms.log").read_text().splitlines()]
                if (cluster.instance(host) / "sms.log").exists() else [] for host in HOSTS}

    # Which worker claims a batch is up to the scheduler: on a loaded machine one worker can drain a wave
    # before the other wakes. Send waves (each message once, checked below) until both have delivered some.
    expected = 0
    with cluster.app.app_context():
        for wave in range(5):
            key = f"two-hosts-{wave}"
            written = services.notify(cluster.seeded.sms_recipients, "verification_approved", key=key,
                                      context={"community": "桃源社区"}, emergency=True)
            db.session.commit()
            sms = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.channel == Channel.sms,
                                                                        OutboxMessage.key.startswith(f"{key}:"))
            in_wave = db.session.scalar(sms)
            assert written == 2 * in_wave == 2 * len(cluster.seeded.sms_recipients)
            expected += in_wave
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                db.session.rollback()
                if db.session.scalar(sms.where(OutboxMessage.status == DeliveryStatus.sent)) == in_wave:
                    break
                time.sleep(0.2)
            if all(sent_by_host()[host] for host in HOSTS):
                break
        db.session.rollback()
        rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.channel == Channel.sms,
                                                              OutboxMessage.key.startswith("two-hosts-"))).all()
        assert len(rows) == expected
        assert all(row.status == DeliveryStatus.sent and row.attempts == 1 for row in rows)
        every_sms = db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                      .where(OutboxMessage.channel == Channel.sms))
    for host in HOSTS:
        assert cluster.workers[host].poll() is None, f"the worker of {host} is still running"
    sent = sent_by_host()
    assert sum(len(messages) for messages in sent.values()) == every_sms  # the seeding's too: none twice
    per_phone = Counter(message["to"] for messages in sent.values() for message in messages
                        if message["to"].startswith("1390000"))
    waves = expected // len(cluster.seeded.sms_recipients)
    assert len(per_phone) == len(cluster.seeded.sms_recipients)
    assert set(per_phone.values()) == {waves}  # each message of each wave once, none lost
    assert all(sent[host] for host in HOSTS), "both workers delivered some"
