"""Benchmark: the proposal list page with 5,000 proposals and 100,000 co-signatures.

Seeds the data with bulk inserts on a fresh SQLite file (or DATABASE_URL), then requests the
round page through the Flask test client with several filters and sorts, and prints median and
p95 response times. In the same run it times the community home page (notice board) and a
static-ish page, and prints the ratio, since absolute times on shared machines are noisy.
Run: .venv/bin/python bench/bench_proposal_list.py [--requests 200]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402

from deliberation import create_app  # noqa: E402
from deliberation.auth.models import User  # noqa: E402
from deliberation.config import TestConfig  # noqa: E402
from deliberation.core.models import utcnow  # noqa: E402
from deliberation.extensions import db  # noqa: E402
from deliberation.proposals.models import Proposal, ProposalStatus, Support  # noqa: E402
from tests.factories import make_community, make_user  # noqa: E402
from tests.proposals.factories import make_round  # noqa: E402

PROPOSALS = 5_000
SUPPORTS = 100_000
VOTERS = 2_000


def seed(app) -> tuple[str, int]:
    with app.app_context():
        db.drop_all()
        db.create_all()
        site = make_user(login="bench-admin", is_site_admin=True)
        community = make_community(slug="bench", actor=site)
        round_ = make_round(community, site, title="基准批次", budget=100_000_000)
        now = utcnow()
        db.session.execute(insert(User), [
            {"login": f"v{i}", "display_name": f"居民{i}", "phone": f"139{i:08d}", "password_hash": "x",
             "is_site_admin": False, "active": True, "session_token": f"bench-{i}", "phone_claims": 0,
             "created_at": now} for i in range(VOTERS)])
        first_voter = db.session.scalar(db.select(db.func.min(User.id)).where(User.login.like("v%")))
        rng = random.Random(5)
        estates = [e.id for e in community.estates]
        db.session.execute(insert(Proposal), [
            {"round_id": round_.id, "community_id": community.id, "proposer_id": first_voter + i % VOTERS,
             "title": f"项目 {i} 楼道照明与无障碍改造", "description": "说明" * 40,
             "category": rng.choice(["services", "goods", "works"]), "cost": rng.randint(1_000, 200_000),
             "estate_id": rng.choice(estates), "location_text": "", "status": ProposalStatus.submitted.value,
             "support_count": 0, "created_at": now, "updated_at": now} for i in range(PROPOSALS)])
        first_proposal = db.session.scalar(db.select(db.func.min(Proposal.id)))
        pairs = set()
        while len(pairs) < SUPPORTS:
            pairs.add((first_proposal + rng.randrange(PROPOSALS), first_voter + rng.randrange(VOTERS)))
        db.session.execute(insert(Support), [{"proposal_id": p, "user_id": u, "created_at": now} for p, u in pairs])
        db.session.execute(db.text("UPDATE proposals SET support_count = "
                                   "(SELECT COUNT(*) FROM supports WHERE supports.proposal_id = proposals.id)"))
        db.session.commit()
        return community.slug, round_.id


def timed(client, url: str, n: int) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return times


def report(label: str, times: list[float]) -> float:
    median = statistics.median(times)
    p95 = statistics.quantiles(times, n=20)[18]
    print(f"{label:<48} median {median:7.1f} ms   p95 {p95:7.1f} ms   (n={len(times)})")
    return median


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
        config = type("BenchConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url,
                                                     "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                                                     "INSTANCE_DIR": Path(tmp)})
        app = create_app(config)
        started = time.perf_counter()
        slug, round_id = seed(app)
        print(f"seeded {PROPOSALS:,} proposals and {SUPPORTS:,} co-signatures in {time.perf_counter() - started:.1f} s "
              f"({'DATABASE_URL' if os.environ.get('DATABASE_URL') else 'SQLite file'})")
        client = app.test_client()
        base = f"/c/{slug}/rounds/{round_id}"
        list_median = report("round page, newest first", timed(client, base, args.requests))
        report("round page, most co-signed", timed(client, base + "?sort=supported", args.requests))
        report("round page, search '照明' + category", timed(client, base + "?q=照明&category=works", args.requests))
        report("round page, page 100, cost ascending", timed(client, base + "?sort=cost_low&page=100", args.requests))
        report("community home (notice board)", timed(client, f"/c/{slug}", args.requests))
        baseline = report("login page (no data queries, baseline)", timed(client, "/login", args.requests))
        print(f"ratio round page / login page: {list_median / baseline:.1f}")
        with app.app_context():
            db.drop_all()
            db.engine.dispose()


if __name__ == "__main__":
    main()
