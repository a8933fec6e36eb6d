"""Load benchmark: residents casting ballots through gunicorn (2 workers) on SQLite and PostgreSQL.

For each backend it creates a fresh database (a SQLite file, or a throwaway PostgreSQL cluster),
seeds a community with a voting round of five projects and N verified voters, starts gunicorn on
a free 127.0.0.1 port and logs every voter in (not timed). Then, over the same number of
concurrent connections, it times: every voter casting one ballot (POST /vote/cast; when it answers
with a redirect, the GET of the receipt page follows, timed as a phase of its own); 50 of them
trying to vote again (each must be refused with 409); four GET /healthz requests per voter,
a trivial endpoint that shows what this machine and gunicorn can do at all; and, as references
for the floor under a cast, one logged-in POST per voter that does nothing and one that only
answers with the receipt page (bench/reference_app.py adds these two routes to the real app).
The casts and the logged-in no-op POSTs run in alternating slices (a quarter of the voters each, at
the same concurrency), so that the two figures compared meet the same machine: on a shared machine
the load from other work changes from one minute to the next, and with it every request's CPU time.
Before them, 20 more voters cast (not timed; their ballots are checked with the others): a worker's
first casts compile the cast's statements, a cost each process pays once, not each ballot.

It prints casts per second, p50/p95/p99 latency (connection set-up included: gunicorn's sync
workers close every connection), the CPU time gunicorn's workers and this load generator spent
per request (the scheduler's nanosecond count from /proc: steadier than rates on a shared machine),
the same for /healthz and the ratio of the two throughputs,
then checks the database: one ballot and one participation per successful cast, every receipt
code shown matches a stored ballot, no voter twice, no second attempt accepted.
Targets, printed as PASS/FAIL: zero lost or duplicate ballots; cast throughput at least 25% of
/healthz's; cast p99 under 250 ms; a cast costs the server at most twice the CPU of the logged-in
no-op POST (both measured in the same run). Only a failed integrity check makes the exit code 1.

With --before-tree PATH (a checkout of other code, e.g. `git archive <rev> | tar -x -C PATH`, with
its translations compiled), each backend is loaded twice in the same run, first with gunicorn serving
that tree and then this one, each on a fresh database seeded by this tree (the schema must be the
same): before and after, on the same machine at the same time.

The last line sums it up: per backend (and tree), cast p99, lost and duplicate ballots, the server
CPU of a cast and of the no-op POST, and their ratio.

Run: .venv/bin/python bench/ballot_load.py [--voters 400] [--connections 32] [--backends sqlite,postgres]
     [--before-tree PATH]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from sqlalchemy import select  # noqa: E402

from deliberation import create_app  # noqa: E402
from deliberation.communities.models import Role  # noqa: E402
from deliberation.config import TestConfig  # noqa: E402
from deliberation.core import secrecy  # noqa: E402
from deliberation.extensions import db  # noqa: E402
from deliberation.proposals.models import Round, RoundPhase  # noqa: E402
from deliberation.votes.models import BallotParticipation  # noqa: E402
from deliberation.votes.services import ballot_count, ballot_scope, receipt_hash  # noqa: E402
from scripts.run_tests import ThrowawayCluster, find_pg_bin, free_port  # noqa: E402
from tests.factories import PASSWORD, grant, make_community, make_resident, make_user  # noqa: E402
from tests.proposals.factories import make_proposal, make_round, move_to  # noqa: E402

HOST = "127.0.0.1"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
SECRET_KEY = "ballot-load-bench-secret-key"  # noqa: S105 (benchmark only, throwaway database)
BUDGET = 100_000
PROJECTS = [("无障碍坡道", 60_000), ("休闲座椅", 50_000), ("楼道路灯", 30_000), ("健身器材", 40_000),
            ("分类垃圾亭", 20_000)]
SECOND_ATTEMPTS = 50
SLICES = 4  # casts and no-op POSTs alternate in this many slices of the voters
WARMUP_CASTS = 20  # cast before the timed slices by voters of their own (each worker's one-time compiling)
HEALTHZ_PER_VOTER = 4  # /healthz is fast: more requests make its rate less noisy
REQUEST_TIMEOUT = 60  # seconds for one request
STARTUP_TIMEOUT = 60  # seconds for gunicorn to answer /healthz
BENCH_APP = "bench.reference_app:create_bench_app()"  # wsgi:app plus two reference routes
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
RECEIPT_RE = re.compile(r'data-testid="receipt-code">([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})<')
# Exception lines ending tracebacks, Flask's "Exception on <path>", gunicorn's own [ERROR]/[CRITICAL] lines.
ERROR_LINE_RE = re.compile(r"^(?:([\w.]+(?:Error|Exception|Timeout)\b.*|Exception on .*)"
                           r"|.*?\[(?:ERROR|CRITICAL)\] (.*))$", re.MULTILINE)


# --- seeding ----------------------------------------------------------------------------

@dataclass
class Seeded:
    """What the load needs to know about the seeded database."""

    app: Flask
    path: str  # /c/<slug>/rounds/<id>
    round_id: int
    project_ids: list[int]
    voters: dict[str, int]  # login -> user id


def bench_config(url: str, instance_dir: Path) -> type:
    """The test configuration pointed at this run's database, with fast password hashing."""
    return type("BallotLoadConfig", (TestConfig,), {
        "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY, "INSTANCE_DIR": instance_dir,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})


def seed(url: str, instance_dir: Path, voters: int) -> Seeded:
    """Create the schema, a community, a round in voting with five projects and N verified voters."""
    app = create_app(bench_config(url, instance_dir))
    with app.app_context():
        db.create_all()
        site = make_user(login="bench-admin", is_site_admin=True)
        community = make_community(slug="bench", actor=site)
        secretary, _ = make_resident(community, login="bench-secretary", room="9001")
        grant(secretary, community, Role.council_secretary)
        party = grant(make_user(login="bench-party"), community, Role.party_branch)
        round_ = make_round(community, secretary, budget=BUDGET, project_cap=BUDGET)
        projects = [make_proposal(round_, secretary, title=title, cost=cost) for title, cost in PROJECTS]
        move_to(round_, RoundPhase.voting, secretary, party=party)
        logins = {}
        for i in range(voters):
            user, _ = make_resident(community, login=f"voter{i:04d}", room=str(1001 + i))
            logins[user.login] = user.id
        db.session.commit()
        seeded = Seeded(app, f"/c/{community.slug}/rounds/{round_.id}", round_.id, [p.id for p in projects], logins)
        db.session.remove()
        db.engine.dispose()
    return seeded


def ballot_choices(project_ids: list[int], count: int, rng: random.Random) -> list[list[int]]:
    """For each voter, a random one or two projects whose cost fits the budget."""
    cost = dict(zip(project_ids, (c for _, c in PROJECTS), strict=True))
    options = [list(combo) for size in (1, 2) for combo in itertools.combinations(project_ids, size)
               if sum(cost[p] for p in combo) <= BUDGET]
    return [rng.choice(options) for _ in range(count)]


# --- HTTP over the standard library -----------------------------------------------------

_local = threading.local()


@dataclass
class Reply:
    status: int
    text: str
    ms: float
    location: str | None = None


def _connection(port: int) -> http.client.HTTPConnection:
    """This thread's connection to the server (http.client reopens it when the server closed it)."""
    conns = _local.__dict__.setdefault("conns", {})
    if port not in conns:
        conns[port] = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    return conns[port]


def _store_cookies(jar: dict[str, str], headers: list[str]) -> None:
    """Apply Set-Cookie headers to a plain name -> value jar (expired cookies are dropped)."""
    for header in headers:
        cookie = SimpleCookie()
        cookie.load(header)
        for name, morsel in cookie.items():
            if morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                jar.pop(name, None)
            else:
                jar[name] = morsel.value


def request(port: int, method: str, path: str, *, jar: dict[str, str] | None = None,
            form: dict | None = None) -> Reply:
    """One request on this thread's connection; the jar sends and collects cookies."""
    conn = _connection(port)
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())} if jar else {}
    body = None
    if form is not None:
        body = urlencode(form, doseq=True)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    started = time.perf_counter()
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
    except (OSError, http.client.HTTPException):
        conn.close()
        raise
    ms = (time.perf_counter() - started) * 1000
    if jar is not None:
        _store_cookies(jar, response.headers.get_all("Set-Cookie") or [])
    return Reply(response.status, data.decode("utf-8", "replace"), ms, response.headers.get("Location"))


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    if match is None:
        raise RuntimeError("no csrf_token on the page")
    return match.group(1)


# --- gunicorn ---------------------------------------------------------------------------

def start_gunicorn(port: int, url: str, instance_dir: Path, log_path: Path, tree: Path = ROOT) -> subprocess.Popen:
    """gunicorn with two workers on 127.0.0.1, serving the code in `tree`, configured through the environment."""
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET_KEY, "DELIBERATION_INSTANCE": str(instance_dir),
           "LOGIN_RATE_LIMIT": "100000 per minute", "HTMX_USE_CDN": "0", "SESSION_COOKIE_SECURE": "0"}
    with open(log_path, "wb") as log:
        return subprocess.Popen([str(GUNICORN), "--workers", "2", "--bind", f"{HOST}:{port}", BENCH_APP],
                                cwd=tree, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_until_up(server: subprocess.Popen, port: int, log_path: Path) -> None:
    """Poll /healthz until it answers 200, or fail (with gunicorn's last words) if it exits or takes too long."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-20:])
            raise RuntimeError(f"gunicorn exited with code {server.returncode}:\n{tail}")
        try:
            if request(port, "GET", "/healthz").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer /healthz within {STARTUP_TIMEOUT} s")


def stop_gunicorn(server: subprocess.Popen) -> None:
    """SIGTERM (graceful), then SIGKILL if it lingers."""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def worker_pids(server: subprocess.Popen) -> list[int]:
    """gunicorn's worker processes (children of the master), from /proc."""
    try:
        return [int(pid) for pid in Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()]
    except OSError:
        return []


def cpu_seconds(pids: list[int]) -> float | None:
    """CPU time the processes have used so far, from the scheduler's own count in nanoseconds
    (/proc/PID/task/*/schedstat); where that is missing, user + system time from /proc/PID/stat, which
    counts in clock ticks (10 ms: a few per cent of a phase's CPU, run to run). None where /proc cannot tell."""
    total = 0.0
    for pid in pids:
        try:
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
            total += sum(int((task / "schedstat").read_text().split()[0]) for task in tasks) / 1e9
        except (OSError, ValueError, IndexError):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return None
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime in ticks
    return total if pids else None


def server_errors(log_path: Path) -> Counter:
    """Exception lines gunicorn's stderr logged (tracebacks end with one), counted."""
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    return Counter((exception or gunicorn)[:240] for exception, gunicorn in ERROR_LINE_RE.findall(text))


def print_server_errors(log_path: Path) -> None:
    errors = server_errors(log_path)
    print("gunicorn's stderr: " + ("errors, by count:" if errors else "no errors or tracebacks"))
    for line, count in errors.most_common(10):
        print(f"  {count:>5} x {line}")


# --- running a phase --------------------------------------------------------------------

@dataclass
class Outcome:
    status: int | str  # HTTP status, or the exception's name when no response came
    ms: float | None
    receipt: str | None = None
    location: str | None = None  # a cast answered with a redirect: where its receipt page is


@dataclass
class Phase:
    outcomes: list[Outcome]
    seconds: float
    ok: int = 0
    statuses: Counter = field(default_factory=Counter)
    server_cpu: float | None = None  # CPU seconds gunicorn's workers used during the phase
    client_cpu: float = 0.0  # CPU seconds this load generator used during the phase
    lost: int = 0  # casts: set by the integrity checks
    duplicates: int = 0

    def server_ms(self) -> float | None:
        """Server CPU milliseconds per request sent."""
        return self.server_cpu * 1000 / (len(self.outcomes) or 1) if self.server_cpu is not None else None

    def latencies(self) -> list[float]:
        return sorted(o.ms for o in self.outcomes if o.ms is not None)

    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    @classmethod
    def joined(cls, parts: list[Phase]) -> Phase:
        """Slices of one phase as one: outcomes in order, times and CPU added up."""
        cpu = [p.server_cpu for p in parts]
        return cls([o for p in parts for o in p.outcomes], sum(p.seconds for p in parts),
                   ok=sum(p.ok for p in parts), statuses=sum((p.statuses for p in parts), Counter()),
                   server_cpu=None if None in cpu else sum(cpu), client_cpu=sum(p.client_cpu for p in parts))


def attempt(job: Callable[[], Outcome]) -> Outcome:
    """Run one job; a connection error becomes an outcome, not an exception."""
    try:
        return job()
    except Exception as error:  # a refused connection, a timeout, a reset: counted by its name
        return Outcome(type(error).__name__, None)


def run_phase(jobs: list[Callable[[], Outcome]], connections: int, timeout: float,
              ok: Callable[[Outcome], bool], workers: list[int]) -> Phase:
    """Run the jobs over `connections` threads (one connection each); stop after `timeout` seconds."""
    pool = ThreadPoolExecutor(max_workers=connections)
    server_before, client_before = cpu_seconds(workers), time.process_time()
    started = time.perf_counter()
    futures = [pool.submit(attempt, job) for job in jobs]
    wait(futures, timeout=timeout)
    pool.shutdown(wait=True, cancel_futures=True)  # requests under way finish (REQUEST_TIMEOUT at most)
    seconds = time.perf_counter() - started
    outcomes = [Outcome("not sent: phase timeout", None) if f.cancelled() else f.result() for f in futures]
    server_after = cpu_seconds(workers)
    phase = Phase(outcomes, seconds, client_cpu=time.process_time() - client_before)
    if server_before is not None and server_after is not None:
        phase.server_cpu = server_after - server_before
    phase.ok = sum(1 for o in outcomes if ok(o))
    phase.statuses = Counter(o.status for o in outcomes)
    return phase


# --- the voters -------------------------------------------------------------------------

@dataclass
class Voter:
    login: str
    jar: dict[str, str]
    token: str


def log_in(port: int, login: str, ballot_path: str) -> Voter:
    """Log in as a browser would and open the ballot; keep the session cookie and the CSRF token."""
    jar: dict[str, str] = {}
    page = request(port, "GET", "/login", jar=jar)
    reply = request(port, "POST", "/login", jar=jar,
                    form={"login": login, "password": PASSWORD, "csrf_token": csrf_token(page.text)})
    if reply.status != 303:
        raise RuntimeError(f"login of {login} answered {reply.status}")
    ballot = request(port, "GET", ballot_path, jar=jar)
    if ballot.status != 200:
        raise RuntimeError(f"ballot page for {login} answered {ballot.status}")
    return Voter(login, jar, csrf_token(ballot.text))


def prepare(port: int, seeded: Seeded, connections: int, timeout: float) -> tuple[list[Voter], Counter]:
    """Log every voter in over the connection pool; return the voters ready to cast and any failures."""
    voters: list[Voter] = []
    failures: Counter = Counter()
    pool = ThreadPoolExecutor(max_workers=connections)
    futures = [pool.submit(log_in, port, login, f"{seeded.path}/vote") for login in seeded.voters]
    wait(futures, timeout=timeout)
    pool.shutdown(wait=True, cancel_futures=True)
    for future in futures:
        error = TimeoutError("not started: preparation timeout") if future.cancelled() else future.exception()
        if error is None:
            voters.append(future.result())
        else:
            failures[f"{type(error).__name__}: {error}"[:120]] += 1
    return voters, failures


def cast_job(port: int, path: str, voter: Voter, choices: list[int]) -> Callable[[], Outcome]:
    """A job that POSTs the voter's ballot: the answer is the receipt page (older code) or a redirect to it."""
    def job() -> Outcome:
        form = {"csrf_token": voter.token, "choices": [str(c) for c in choices]}
        reply = request(port, "POST", f"{path}/vote/cast", jar=voter.jar, form=form)
        match = RECEIPT_RE.search(reply.text) if reply.status == 200 else None
        location = reply.location if reply.status == 303 and (reply.location or "").endswith("/vote/receipt") else None
        return Outcome(reply.status, reply.ms, match.group(1) if match else None, location)
    return job


def receipt_job(port: int, voter: Voter, cast: Outcome) -> Callable[[], Outcome]:
    """A job that follows a cast's redirect (GET, as the browser does) and reads the receipt code there."""
    def job() -> Outcome:
        reply = request(port, "GET", cast.location, jar=voter.jar)
        match = RECEIPT_RE.search(reply.text) if reply.status == 200 else None
        cast.receipt = match.group(1) if match else None
        return Outcome(reply.status, reply.ms, cast.receipt)
    return job


def cast_answered(outcome: Outcome) -> bool:
    """The cast was accepted: the receipt page came back, or a redirect to it."""
    return (outcome.status == 200 and outcome.receipt is not None) or (
        outcome.status == 303 and outcome.location is not None)


def reference_job(port: int, path: str, voter: Voter) -> Callable[[], Outcome]:
    """A job that POSTs to a reference route as the voter (with the CSRF token, as a form would)."""
    def job() -> Outcome:
        reply = request(port, "POST", path, jar=voter.jar, form={"csrf_token": voter.token})
        return Outcome(reply.status, reply.ms, "ok" if reply.status == 200 else None)
    return job


def healthz_job(port: int) -> Callable[[], Outcome]:
    def job() -> Outcome:
        reply = request(port, "GET", "/healthz")
        return Outcome(reply.status, reply.ms, "ok" if '"ok"' in reply.text else None)
    return job


def succeeded(outcome: Outcome) -> bool:
    """Answered, and with its receipt code (a cast's redirect counts once its receipt page showed the code)."""
    return outcome.status in (200, 303) and outcome.receipt is not None


# --- integrity --------------------------------------------------------------------------

def integrity_checks(seeded: Seeded, casts: Phase, voters: list[Voter], again: Phase) -> list[tuple[str, bool]]:
    """Compare what the clients were told with what the database holds."""
    cast_ok = {v.login for v, o in zip(voters, casts.outcomes, strict=True) if succeeded(o)}
    receipts = [o.receipt for o in casts.outcomes if succeeded(o)]
    with seeded.app.app_context():
        round_ = db.session.get(Round, seeded.round_id)
        ballots = ballot_count(round_)
        user_ids = db.session.scalars(select(BallotParticipation.user_id)
                                      .where(BallotParticipation.round_id == seeded.round_id)).all()
        # Voting is still open: the web ballots are sealed, and the bench (holding SECRET_KEY) peeks.
        stored = {payload["receipt_hash"] for payload in secrecy.peek(ballot_scope(round_))}
        db.session.remove()
        db.engine.dispose()
    twice = [uid for uid, n in Counter(user_ids).items() if n > 1]
    missing = [r for r in receipts if receipt_hash(seeded.round_id, r) not in stored]
    expected_ids = {seeded.voters[login] for login in cast_ok}
    # Lost: a cast the voter was told succeeded whose ballot is not there. Duplicate: a ballot, vote
    # or receipt more than the successful casts account for.
    casts.lost = len(missing) + max(0, len(cast_ok) - ballots) + len(expected_ids - set(user_ids))
    casts.duplicates = (max(0, ballots - len(cast_ok)) + len(twice) + len(receipts) - len(set(receipts))
                        + len(set(user_ids) - expected_ids) + again.ok)
    return [
        (f"ballots in the round == successful casts: {ballots} == {len(cast_ok)}", ballots == len(cast_ok)),
        (f"participations == successful casts: {len(user_ids)} == {len(cast_ok)}", len(user_ids) == len(cast_ok)),
        (f"participations belong exactly to the voters whose cast succeeded: {set(user_ids) == expected_ids}",
         set(user_ids) == expected_ids),
        (f"voters with more than one participation: {len(twice)}", not twice),
        (f"receipt codes shown without a stored ballot: {len(missing)} of {len(receipts)}", not missing),
        (f"receipt codes shown twice: {len(receipts) - len(set(receipts))}", len(receipts) == len(set(receipts))),
        (f"second attempts accepted: {again.ok} of {len(again.outcomes)}", again.ok == 0),
    ]


# --- reporting --------------------------------------------------------------------------

def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list (nan when empty)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


def phase_line(label: str, phase: Phase) -> str:
    lat = phase.latencies()
    p50, p95, p99 = (percentile(lat, p) for p in (50, 95, 99))
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(phase.statuses.items(), key=str))
    sent = len(phase.outcomes) or 1
    server = f"{phase.server_cpu * 1000 / sent:5.2f}" if phase.server_cpu is not None else "  n/a"
    return (f"{label:<16} {phase.ok:>5}/{len(phase.outcomes):<5} ok in {phase.seconds:6.2f} s  {phase.rate():8.1f} /s"
            f"   p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  p99 {p99:7.1f} ms   CPU per request: server {server} ms,"
            f" load generator {phase.client_cpu * 1000 / sent:4.2f} ms   [{statuses}]")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


@dataclass
class Result:
    backend: str
    integrity_ok: bool
    ratio: float
    p99: float
    lost: int = 0
    duplicates: int = 0
    cast_ms: float | None = None  # server CPU per cast
    noop_ms: float | None = None  # server CPU per logged-in no-op POST

    @property
    def cost_ratio(self) -> float | None:
        return self.cast_ms / self.noop_ms if self.cast_ms is not None and self.noop_ms else None

    def summary(self) -> str:
        cpu = (f"cast CPU {self.cast_ms:.2f} ms, no-op CPU {self.noop_ms:.2f} ms, ratio {self.cost_ratio:.2f}"
               if self.cost_ratio is not None else "CPU n/a")
        return f"{self.backend} p99 {self.p99:.0f} ms, lost {self.lost}, duplicates {self.duplicates}, {cpu}"


def fmt_ms(value: float | None) -> str:
    return f"{value:.2f} ms" if value is not None else "n/a"


def report(backend: str, run: Load, checks: list[tuple[str, bool]]) -> Result:
    """Print the figures, the integrity checks and the three targets for one backend."""
    casts, again, health = run.casts, run.again, run.health
    print(phase_line("cast ballot", casts))
    refused = again.statuses[409] == len(again.outcomes)
    print(phase_line("second attempt", again).replace(" ok in", " accepted in")
          + f"   (each must be refused with 409: {'yes' if refused else 'NO'})")
    print(phase_line("GET /healthz", health))
    ratio = casts.rate() / health.rate() if health.rate() else 0.0
    print(f"throughput ratio cast / healthz: {ratio:.3f}")
    print("references (what any logged-in request costs here; not targets):")
    for label, phase in run.references.items():
        share = phase.rate() / health.rate() if health.rate() else 0.0
        print(phase_line(label, phase) + f"   ratio to /healthz {share:.3f}")
    print("integrity:")
    for text, ok in checks:
        print(f"  {'ok  ' if ok else 'FAIL'} {text}")
    integrity_ok = all(ok for _, ok in checks)
    p99 = percentile(casts.latencies(), 99)
    result = Result(backend, integrity_ok, ratio, p99, casts.lost, casts.duplicates, casts.server_ms(),
                    run.references["logged-in POST"].server_ms())
    print("targets:")
    print(f"  {verdict(integrity_ok)} zero lost or duplicate ballots"
          f" (lost {casts.lost}, duplicates {casts.duplicates})")
    print(f"  {verdict(ratio >= 0.25)} cast throughput >= 25% of /healthz ({ratio:.1%})")
    print(f"  {verdict(p99 < 250)} cast p99 < 250 ms ({p99:.0f} ms)")
    if result.cost_ratio is not None:
        print(f"  {verdict(result.cost_ratio <= 2)} cast server CPU <= 2x the logged-in no-op POST's"
              f" ({fmt_ms(result.cast_ms)} vs {fmt_ms(result.noop_ms)}: {result.cost_ratio:.2f}x)")
    return result


# --- one backend ------------------------------------------------------------------------

@dataclass
class Load:
    voters: list[Voter]  # the timed voters, in the order of `casts`
    casts: Phase
    again: Phase
    health: Phase
    references: dict[str, Phase]
    warm_voters: list[Voter]  # the warm-up's voters, in the order of `warmup`
    warmup: Phase


def load(seeded: Seeded, port: int, workers: list[int], args) -> Load:
    """Log the voters in, then time the casts, the second attempts, /healthz and the two references."""
    started = time.perf_counter()
    voters, failures = prepare(port, seeded, args.connections, args.timeout)
    print(f"logged in {len(voters)} voters and opened their ballots in {time.perf_counter() - started:.1f} s"
          + (f"; FAILED for {sum(failures.values())}: {dict(failures)}" if failures else ""))
    rng = random.Random(2026)
    warm_voters, voters = voters[:WARMUP_CASTS], voters[WARMUP_CASTS:]
    warmup = run_phase([cast_job(port, seeded.path, v, c) for v, c in
                        zip(warm_voters, ballot_choices(seeded.project_ids, len(warm_voters), rng), strict=True)],
                       args.connections, args.timeout, cast_answered, workers)
    choices = ballot_choices(seeded.project_ids, len(voters), rng)
    cast_slices, noop_slices = [], []
    for k in range(SLICES):  # casts and no-op POSTs alternate: both meet the same machine
        part = slice(k * len(voters) // SLICES, (k + 1) * len(voters) // SLICES)
        cast_slices.append(run_phase([cast_job(port, seeded.path, v, c)
                                      for v, c in zip(voters[part], choices[part], strict=True)],
                                     args.connections, args.timeout, cast_answered, workers))
        noop_slices.append(run_phase([reference_job(port, "/bench/logged-in-post", v) for v in voters[part]],
                                     args.connections, args.timeout, succeeded, workers))
    casts = Phase.joined(cast_slices)
    print("server CPU per request, slice by slice (ms): casts "
          + " ".join(fmt_ms(p.server_ms()) for p in cast_slices) + "; no-op POSTs "
          + " ".join(fmt_ms(p.server_ms()) for p in noop_slices))
    every = list(zip(warm_voters + voters, warmup.outcomes + casts.outcomes, strict=True))
    # The cast's redirect followed: the receipt page, timed apart (it is not the cast, a reload repeats it).
    redirected = [(v, o) for v, o in every if o.location is not None]
    receipts = run_phase([receipt_job(port, v, o) for v, o in redirected], args.connections, args.timeout,
                         succeeded, workers) if redirected else None
    cast_ok = [v for v, o in every if succeeded(o)]
    retry = rng.sample(cast_ok, min(SECOND_ATTEMPTS, len(cast_ok)))
    again = run_phase([cast_job(port, seeded.path, v, seeded.project_ids[:1]) for v in retry],
                      args.connections, args.timeout, cast_answered, workers)
    health = run_phase([healthz_job(port) for _ in range(HEALTHZ_PER_VOTER * len(voters))], args.connections,
                       args.timeout, lambda o: o.status == 200 and o.receipt == "ok", workers)
    references = {
        "logged-in POST": Phase.joined(noop_slices),
        "receipt page": run_phase([reference_job(port, f"/bench{seeded.path}/receipt-page", v) for v in voters],
                                  args.connections, args.timeout, succeeded, workers),
    }
    if receipts is not None:
        references["receipt (GET after cast)"] = receipts
    return Load(voters, casts, again, health, references, warm_voters, warmup)


def run_backend(backend: str, url: str, tmp: Path, args, tree: Path = ROOT) -> Result:
    """Seed, serve the tree's code with gunicorn, load, stop gunicorn, check the database, report."""
    started = time.perf_counter()
    seeded = seed(url, tmp, args.voters + WARMUP_CASTS)
    print(f"seeded {args.voters} verified voters (and {WARMUP_CASTS} for the warm-up) and {len(PROJECTS)} projects"
          f" in {time.perf_counter() - started:.1f} s")
    port, log_path = free_port(), tmp / "gunicorn.log"
    server = start_gunicorn(port, url, tmp, log_path, tree)
    try:
        started = time.perf_counter()
        wait_until_up(server, port, log_path)
        print(f"gunicorn (2 workers) answering on {HOST}:{port} after {time.perf_counter() - started:.1f} s")
        run = load(seeded, port, worker_pids(server), args)
    finally:
        stop_gunicorn(server)
        print_server_errors(log_path)
    every_cast = Phase.joined([run.warmup, run.casts])  # the warm-up's ballots are checked like the others
    checks = integrity_checks(seeded, every_cast, run.warm_voters + run.voters, run.again)
    run.casts.lost, run.casts.duplicates = every_cast.lost, every_cast.duplicates
    return report(backend, run, checks)


def trees(args) -> list[tuple[str, Path]]:
    """The code to serve, labelled: the --before-tree first (when given), then this tree."""
    return ([("before", Path(args.before_tree).resolve())] if args.before_tree else []) + [("", ROOT)]


def labelled(backend: str, label: str) -> str:
    return f"{backend} ({label})" if label else backend


def run_sqlite(args) -> list[Result]:
    results = []
    for label, tree in trees(args):
        with tempfile.TemporaryDirectory(prefix="ballot-load-") as tmp:
            if label:
                print(f"--- serving {tree} ({label}) ---")
            results.append(run_backend(labelled("sqlite", label), f"sqlite:///{tmp}/ballots.sqlite3", Path(tmp),
                                       args, tree))
    return results


def run_postgres(args) -> list[Result]:
    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL binaries (initdb, pg_ctl, createdb) not found")
    results = []
    for label, tree in trees(args):  # a fresh cluster each: the same starting point for both trees
        cluster = ThrowawayCluster(bin_dir)
        try:
            url = cluster.start()
            with tempfile.TemporaryDirectory(prefix="ballot-load-") as tmp:
                if label:
                    print(f"--- serving {tree} ({label}) ---")
                results.append(run_backend(labelled("postgres", label), url, Path(tmp), args, tree))
        finally:
            cluster.stop()
    return results


BACKENDS = {"sqlite": ("SQLite", run_sqlite), "postgres": ("PostgreSQL", run_postgres)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--voters", type=int, default=400)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--backends", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--timeout", type=float, default=300, help="seconds after which a phase stops")
    parser.add_argument("--before-tree", help="also serve this checkout of other code, first, for a before/after")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # progress shows as it happens, even through a pipe
    names = [name.strip() for name in args.backends.split(",") if name.strip()]
    unknown = set(names) - BACKENDS.keys()
    if unknown:
        parser.error(f"unknown backend(s): {', '.join(sorted(unknown))}")
    results = []
    for name in names:
        title, run = BACKENDS[name]
        print(f"\n=== {title}: {args.voters} voters, {args.connections} connections, gunicorn 2 workers ===")
        results.extend(run(args))
    print("\n=== summary ===")
    for r in results:
        cost = f"{r.cost_ratio:.2f} {verdict(r.cost_ratio <= 2)}" if r.cost_ratio is not None else "n/a"
        print(f"{r.backend:<19} integrity {verdict(r.integrity_ok)}   ratio {r.ratio:.3f} {verdict(r.ratio >= 0.25)}"
              f"   p99 {r.p99:.0f} ms {verdict(r.p99 < 250)}   cast CPU {fmt_ms(r.cast_ms)}, no-op CPU"
              f" {fmt_ms(r.noop_ms)}: {cost}")
    print("cast cost: " + "; ".join(r.summary() for r in results))
    return 0 if all(r.integrity_ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
