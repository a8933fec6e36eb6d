"""Benchmark: import a 10,000-row residents' roll in one transaction.

Prints the wall time of the import (parse, validate, insert, audit, commit) for 1,000 and for
10,000 rows on a fresh SQLite database (or DATABASE_URL), and their ratio: close to 10 means
the import scales linearly. Run: .venv/bin/python bench/bench_roll_import.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from deliberation import create_app  # noqa: E402
from deliberation.communities import services  # noqa: E402
from deliberation.communities.models import RollEntry  # noqa: E402
from deliberation.config import TestConfig  # noqa: E402
from deliberation.extensions import db  # noqa: E402


def make_roll(rows: int, building_names: list[str]) -> bytes:
    lines = ["building,unit,room,name,phone"]
    for i in range(rows):
        lines.append(f"{building_names[i % len(building_names)]},{1 + i % 4},{100 + i // 40},居民{i},139{i:08d}")
    return "\n".join(lines).encode()


def time_import(rows: int, url: str) -> float:
    app = create_app(type("BenchConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url}))
    with app.app_context():
        db.drop_all()
        db.create_all()
        from deliberation.auth.services import create_user

        actor = create_user(login="bench", display_name="bench", password="bench-password", is_site_admin=True)
        community = services.create_community(slug="bench", name="基准社区", district="南山区", street="桃源街道",
                                              actor=actor)
        estate = services.add_estate(community, name="基准小区", actor=actor)
        names = [services.add_building(estate, name=f"{n}栋", actor=actor).name for n in range(1, 21)]
        db.session.commit()
        data = make_roll(rows, names)
        started = time.perf_counter()
        report = services.import_roll(community, data=data, actor=actor)
        db.session.commit()
        elapsed = time.perf_counter() - started
        stored = db.session.scalar(select(func.count(RollEntry.id)))
        assert len(report.imported) == rows == stored, (len(report.imported), stored)
        db.drop_all()
        db.engine.dispose()
    return elapsed


def main() -> None:
    url = os.environ.get("DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        target = url or f"sqlite:///{tmp}/bench.sqlite3"
        small = time_import(1_000, target)
        large = time_import(10_000, target)
    print(f"database: {'DATABASE_URL' if url else 'SQLite file'}")
    print(f"roll import  1,000 rows: {small:.3f} s ({1_000 / small:,.0f} rows/s)")
    print(f"roll import 10,000 rows: {large:.3f} s ({10_000 / large:,.0f} rows/s), one transaction")
    print(f"ratio 10,000 / 1,000: {large / small:.1f} (10 = linear)")


if __name__ == "__main__":
    main()
