"""Benchmark: what a phone downloads for the home, round and ballot pages.

Seeds a community with a round open for voting on a throwaway SQLite file, then loads each page
through the Flask test client the way a browser would: the HTML, then every stylesheet, script
and icon it names, asking for gzip. A first visit starts with an empty cache; a repeat visit
keeps what the first one cached: assets marked `immutable` (or with a max-age) are not asked
for again, others are revalidated. Bytes are response bodies as sent (compressed when the app
compressed them); headers are not counted. The HTML itself is sent uncompressed by the app (a
reverse proxy may gzip it too). `--no-gzip` shows what a client that does not accept gzip gets.
Run: .venv/bin/python bench/static_bytes.py [--no-gzip]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deliberation import create_app  # noqa: E402
from deliberation.config import TestConfig  # noqa: E402
from deliberation.extensions import db  # noqa: E402

TARGET_FIRST_VISIT = 60 * 1024
ASSET = re.compile(r'<(?:link[^>]*\bhref|script[^>]*\bsrc|img[^>]*\bsrc)="(/[^"]+)"')


def seed(app) -> dict[str, str]:
    """A community, a round open for voting with three projects, a verified resident."""
    from deliberation.auth.models import User
    from deliberation.communities import services
    from deliberation.communities.models import Role
    from deliberation.proposals.models import RoundPhase
    from tests.factories import make_community, make_resident, make_user
    from tests.proposals.factories import make_proposal, make_round, move_to

    with app.app_context():
        db.create_all()
        site_admin = make_user(login="site-admin", is_site_admin=True)
        community = make_community(slug="taoyuan", actor=site_admin)
        secretary, _ = make_resident(community, login="sec", phone="13611110003")
        services.grant_role(community, user=secretary, role=Role.council_secretary, actor=site_admin)
        party = make_user(login="branch", phone="13611110004")
        services.grant_role(community, user=party, role=Role.party_branch, actor=site_admin)
        round_ = make_round(community, secretary, title="2026年度第二批", budget=100_000, project_cap=100_000)
        for title, cost in [("健身步道", 60_000), ("儿童滑梯", 50_000), ("楼道扶手", 30_000)]:
            make_proposal(round_, secretary, title=title, cost=cost)
        move_to(round_, RoundPhase.voting, secretary, party=party)
        voter, _ = make_resident(community, login="voter", phone="13611110005")
        db.session.commit()
        voter = db.session.scalar(User.by_login("voter"))
        return {"home": "/c/taoyuan", "round": f"/c/taoyuan/rounds/{round_.id}",
                "ballot": f"/c/taoyuan/rounds/{round_.id}/vote", "voter_id": voter.get_id()}


def visit(client, url: str, cache: dict[str, str], accept: str) -> tuple[int, int]:
    """Load a page and its assets; return (bytes, requests). `cache` maps URL → Cache-Control."""
    response = client.get(url, headers={"Accept-Encoding": accept})
    assert response.status_code == 200, (url, response.status_code)
    total, requests = len(response.get_data()), 1
    assets = list(dict.fromkeys(ASSET.findall(response.get_data(as_text=True))))
    if not any(a.endswith(".ico") for a in assets):
        assets.append("/favicon.ico")  # asked for by every browser when the page names no icon
    for asset in assets:
        control = cache.get(asset)
        if control is not None and ("immutable" in control or "max-age=0" not in control and "max-age" in control):
            continue  # fresh in the browser cache: no request at all
        asset_response = client.get(asset, headers={"Accept-Encoding": accept})
        requests += 1
        total += len(asset_response.get_data())
        cache[asset] = asset_response.headers.get("Cache-Control", "")
    return total, requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-gzip", action="store_true", help="a client that does not accept compression")
    args = parser.parse_args()
    accept = "identity" if args.no_gzip else "gzip, deflate, br"
    with tempfile.TemporaryDirectory() as tmp:
        config = type("BenchConfig", (TestConfig,), {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3", "INSTANCE_DIR": Path(tmp),
            "STATIC_BUILD_DIR": Path(tmp) / "static-build", "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
        app = create_app(config)
        pages = seed(app)
        print(f"{'page':<8} {'first visit':>14} {'requests':>9} {'repeat visit':>14} {'requests':>9}")
        worst = worst_repeat = 0
        for name in ("home", "round", "ballot"):
            client = app.test_client()
            if name == "ballot":
                with client.session_transaction() as session:
                    session["_user_id"] = pages["voter_id"]
                    session["_fresh"] = True
            cache: dict[str, str] = {}
            first, first_requests = visit(client, pages[name], cache, accept)
            repeat, repeat_requests = visit(client, pages[name], cache, accept)
            worst, worst_repeat = max(worst, first), max(worst_repeat, repeat_requests)
            print(f"{name:<8} {first / 1024:>11.1f} KB {first_requests:>9} "
                  f"{repeat / 1024:>11.1f} KB {repeat_requests:>9}")
        verdict = "under" if worst < TARGET_FIRST_VISIT else "OVER"
        print(f"summary: first visit at most {worst / 1024:.1f} KB ({verdict} the {TARGET_FIRST_VISIT // 1024} KB "
              f"target, {'no compression' if args.no_gzip else 'gzip'}); repeat visit at most {worst_repeat} "
              f"request(s)")


if __name__ == "__main__":
    main()
