"""Benchmark: 10,000 residents notified that voting opened.

Seeds a community with 10,000 verified residents who each gave an e-mail address (bulk inserts on a
fresh SQLite file, or DATABASE_URL), then times the request that opens voting (it writes the inbox
and the outbox in its own transaction), then runs the worker against a local SMTP server (aiosmtpd)
and prints e-mails per second and the process's memory over the run. Prints; asserts nothing.
Run: .venv/bin/python bench/notify_bench.py [--residents 10000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiosmtpd.controller import Controller  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from deliberation import create_app  # noqa: E402
from deliberation.auth.models import User  # noqa: E402
from deliberation.communities.models import Residency, Role  # noqa: E402
from deliberation.config import TestConfig  # noqa: E402
from deliberation.core.models import utcnow  # noqa: E402
from deliberation.extensions import db  # noqa: E402
from deliberation.notifications import worker  # noqa: E402
from deliberation.notifications.models import Channel, DeliveryStatus, NotificationSettings, OutboxMessage  # noqa: E402
from deliberation.proposals.models import RoundPhase  # noqa: E402
from tests.factories import building, grant, make_community, make_user  # noqa: E402
from tests.notifications.conftest import free_port  # noqa: E402
from tests.proposals.factories import make_proposal, make_round, move_to  # noqa: E402


def rss_mb() -> float:
    """Resident memory of this process now (Linux /proc), in MB."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


class CountingHandler:
    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def seed(app, residents: int) -> tuple[int, int]:
    with app.app_context():
        db.drop_all()
        db.create_all()
        site = make_user(login="bench-admin", is_site_admin=True)
        community = make_community(slug="bench", actor=site)
        secretary = grant(make_user(login="bench-secretary"), community, Role.council_secretary)
        party = grant(make_user(login="bench-party"), community, Role.party_branch)
        round_ = make_round(community, secretary, title="2027年度民生微实事")
        make_proposal(round_, site)
        move_to(round_, RoundPhase.branch_review, secretary)
        now = utcnow()
        db.session.execute(insert(User), [
            {"login": f"r{i}", "display_name": f"居民{i}", "phone": f"137{i:08d}", "password_hash": "x",
             "is_site_admin": False, "active": True, "session_token": f"bench-{i}", "phone_claims": 0,
             "created_at": now, "locale": "en" if i % 10 == 0 else None} for i in range(residents)])
        first = db.session.scalar(select(func.min(User.id)).where(User.login.like("r%")))
        home = building(community)
        db.session.execute(insert(Residency), [
            {"user_id": first + i, "community_id": community.id, "building_id": home.id, "unit": "1",
             "room": str(i), "household_key": f"bench-{i}", "status": "verified", "verified_at": now,
             "created_at": now} for i in range(residents)])
        db.session.execute(insert(NotificationSettings), [
            {"user_id": first + i, "email": f"r{i}@example.org", "email_confirmed_at": now, "quiet_from": 0,
             "quiet_until": 0}
            for i in range(residents)])
        db.session.commit()
        return round_.id, party.id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=10_000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    handler = CountingHandler()
    port = free_port()
    config = type("BenchConfig", (TestConfig,), {
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or f"sqlite:///{tmp / 'bench.sqlite3'}",
        "INSTANCE_DIR": tmp, "WTF_CSRF_ENABLED": False, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "NOTIFY_BATCH_SIZE": 200,
    })
    app = create_app(config)
    print(f"seeding {args.residents} verified residents with e-mail addresses ...")
    round_id, party_id = seed(app, args.residents)

    client = app.test_client()
    with app.app_context():
        party = db.session.get(User, party_id)
        with client.session_transaction() as session:
            session["_user_id"] = party.get_id()
            session["_fresh"] = True
        db.session.remove()
    started = time.perf_counter()
    response = client.post(f"/c/bench/rounds/{round_id}/advance", data={"confirmed": "1"})
    open_seconds = time.perf_counter() - started
    with app.app_context():
        written = db.session.scalar(select(func.count()).select_from(OutboxMessage))
        emails = db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                   .where(OutboxMessage.channel == Channel.email))
        db.session.remove()
    print(f"request that opens voting: HTTP {response.status_code} in {open_seconds:.2f} s, "
          f"{written} outbox rows ({emails} e-mails) written in its transaction")

    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    memory = [rss_mb()]
    started = time.perf_counter()
    with app.app_context():
        while worker.run_once():
            memory.append(rss_mb())
        sent = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.channel == Channel.email, OutboxMessage.status == DeliveryStatus.sent))
        db.session.remove()
    deliver_seconds = time.perf_counter() - started
    controller.stop()
    rate = handler.count / deliver_seconds if deliver_seconds else 0
    print(f"worker: {handler.count} e-mails received by the SMTP server, {sent} marked sent, "
          f"in {deliver_seconds:.1f} s = {rate:.0f} e-mails/s")
    quarter = max(1, len(memory) // 4)
    print(f"memory (RSS) during delivery: start {memory[0]:.0f} MB, after a quarter {memory[quarter]:.0f} MB, "
          f"end {memory[-1]:.0f} MB, peak {max(memory):.0f} MB")
    print(f"SUMMARY notify_bench: {args.residents} residents; opening voting {open_seconds:.2f} s; "
          f"{rate:.0f} e-mails/s; RSS {memory[0]:.0f}->{memory[-1]:.0f} MB")


if __name__ == "__main__":
    main()
