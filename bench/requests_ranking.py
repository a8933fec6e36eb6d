"""Benchmark: the public monthly ranking of handling units and grids (接诉即办 三率).

Seeds 100,000 requests over 24 months, 200 handling units and 40 micro-grids with bulk inserts on a
fresh SQLite file (or --database-url / DATABASE_URL: its tables are dropped and recreated!), recounts the
rates' monthly roll-up once as `flask requests rebuild-rates` would (bulk inserts go around the steps that
keep it), then requests the ranking page through the Flask test client and prints its number of SQL
statements (fixed whatever the rows), its median and p95 server time, the load average, and a one-line
summary. Target: under 300 ms. Printed, not asserted.
Run: .venv/bin/python bench/requests_ranking.py [--requests 30] [--database-url postgresql+psycopg://…]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, insert  # noqa: E402

from deliberation import create_app  # noqa: E402
from deliberation.config import TestConfig  # noqa: E402
from deliberation.core.models import utcnow  # noqa: E402
from deliberation.extensions import db  # noqa: E402
from deliberation.grids import rates, rollup  # noqa: E402
from deliberation.grids.models import (  # noqa: E402
    Channel,
    DeadlineClass,
    Grid,
    GridLevel,
    HandlingUnit,
    RatingChannel,
    RequestCategory,
    RequestStatus,
    RequestType,
    ResidentRequest,
    UnitKind,
)
from tests.factories import make_community, make_user  # noqa: E402

REQUESTS = 100_000
MONTHS = 24
UNITS = 200
GRIDS = 40


def seed(app) -> str:
    rng = random.Random(12)
    with app.app_context():
        db.drop_all()
        db.create_all()
        site = make_user(login="bench-admin", is_site_admin=True)
        community = make_community(slug="bench", actor=site)
        now = utcnow()
        root = Grid(community_id=community.id, level=GridLevel.community, name="基准社区网格")
        db.session.add(root)
        db.session.flush()
        db.session.execute(insert(Grid), [
            {"community_id": community.id, "parent_id": root.id, "level": GridLevel.micro.value, "name": f"微网格{i}",
             "description": "", "created_at": now, "updated_at": now} for i in range(GRIDS)])
        db.session.execute(insert(HandlingUnit), [
            {"community_id": community.id, "kind": UnitKind.street_department.value if i % 4 else UnitKind.other.value,
             "name": f"承办单位{i:03d}", "contact_phone": "", "active": True, "created_at": now, "updated_at": now}
            for i in range(UNITS)])
        grids = list(db.session.scalars(db.select(Grid.id).where(Grid.level == GridLevel.micro)))
        units = list(db.session.scalars(db.select(HandlingUnit.id)))
        start = now - timedelta(days=30 * MONTHS)
        span = (now - start).total_seconds()
        rows = []
        for _ in range(REQUESTS):
            created = start + timedelta(seconds=rng.random() * span)
            hours = rng.choice([2, 24, 168, 168, 168, 360])
            due = created + timedelta(hours=hours)
            row = {"community_id": community.id, "grid_id": rng.choice(grids), "building_id": None, "place": "",
                   "type": rng.choice(list(RequestType)).value, "category": rng.choice(list(RequestCategory)).value,
                   "text": "楼道灯坏了", "channel": Channel.app.value, "requester_id": None, "requester_name": "",
                   "requester_phone": "", "deadline_class": DeadlineClass.general.value, "deadline_hours": hours,
                   "due_at": due, "status": RequestStatus.new.value, "answer": "", "rating_comment": "",
                   "handling_unit_id": rng.choice(units) if rng.random() < 0.7 else None,
                   "closed_unrated": False, "created_at": created, "updated_at": created}
            answered = created + timedelta(hours=hours * rng.uniform(0.1, 1.4))
            if answered < now:
                row.update(status=RequestStatus.answered.value, answered_at=answered)
                rated = answered + timedelta(days=rng.uniform(0, 9))
                if rated < now:
                    if rated - answered > timedelta(days=7):
                        row.update(status=RequestStatus.closed.value, closed_at=answered + timedelta(days=7),
                                   closed_unrated=True)
                    else:
                        score = rng.choice([1, 2, 3, 4, 4, 5, 5, 5])
                        row.update(status=RequestStatus.closed.value, closed_at=rated, rated_at=rated,
                                   resolved=score >= 3, satisfaction=score, rating_channel=RatingChannel.app.value)
            rows.append(row)
        for chunk in range(0, REQUESTS, 10_000):
            db.session.execute(insert(ResidentRequest), rows[chunk:chunk + 10_000])
        db.session.commit()
        rebuilt = time.perf_counter()
        rollup.rebuild(community)
        db.session.commit()
        print(f"roll-up recounted from the requests in {time.perf_counter() - rebuilt:.1f} s")
        return community.slug


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                        help="a database to seed (its tables are dropped); default a fresh SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
        config = type("BenchConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url,
                                                     "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                                                     "INSTANCE_DIR": Path(tmp)})
        app = create_app(config)
        started = time.perf_counter()
        slug = seed(app)
        where = url.split("://", 1)[0] if args.database_url else "SQLite file"
        print(f"seeded {REQUESTS:,} requests over {MONTHS} months, {UNITS} units, {GRIDS} grids in "
              f"{time.perf_counter() - started:.1f} s ({where})")
        client = app.test_client()
        month = rates.shift(rates.current_month(), -1)
        page = f"/c/{slug}/requests/ranking?month={month}"
        with app.app_context():
            statements = []
            listener = lambda *a, **k: statements.append(1)  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
            assert client.get(page).status_code == 200
            event.remove(db.engine, "before_cursor_execute", listener)
        times = []
        for _ in range(args.requests):
            began = time.perf_counter()
            response = client.get(page)
            times.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200
        median = statistics.median(times)
        p95 = statistics.quantiles(times, n=20)[18] if len(times) >= 2 else median
        load = " ".join(f"{n:.2f}" for n in os.getloadavg())
        print(f"ranking page {month}: {len(statements)} SQL statements; median {median:.1f} ms, p95 {p95:.1f} ms "
              f"(n={len(times)}); load average {load}")
        print(f"SUMMARY requests_ranking: {REQUESTS:,} requests / {UNITS} units — {len(statements)} queries, "
              f"median {median:.0f} ms ({'under' if median < 300 else 'OVER'} the 300 ms target)")
        with app.app_context():
            db.drop_all()
            db.engine.dispose()


if __name__ == "__main__":
    main()
