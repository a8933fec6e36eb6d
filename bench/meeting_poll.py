"""Benchmark: the server's CPU cost of a live council meeting polled by phones.

Simulates a 20-member meeting in session (quorum met, a speaker on the clock, an open motion
being voted on) in which every member's phone polls the room partial every 2 seconds for an
hour, and the secretary's console polls its partial at the same rate. Time is compressed: the
same number of requests (20 × 1,800 plus the console's 1,800) is issued as fast as possible
through the Flask test client, and the process CPU time (time.process_time) is measured.
Reports CPU seconds per member-hour. Run: .venv/bin/python bench/meeting_poll.py [--minutes 60]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deliberation import create_app  # noqa: E402
from deliberation.auth.services import create_user  # noqa: E402
from deliberation.communities import services as communities  # noqa: E402
from deliberation.communities.models import Role  # noqa: E402
from deliberation.config import TestConfig  # noqa: E402
from deliberation.consultations import services as sessions  # noqa: E402
from deliberation.consultations.models import SessionKind, VoteChoice  # noqa: E402
from deliberation.core.models import utcnow  # noqa: E402
from deliberation.councils import services as councils  # noqa: E402
from deliberation.councils.models import SeatType  # noqa: E402
from deliberation.extensions import db  # noqa: E402

MEMBERS = 20
POLL_SECONDS = 2


def set_up(app):
    """A community, a 20-member council and a meeting in session; returns (slug, session id, users)."""
    with app.app_context():
        db.drop_all()
        db.create_all()
        admin = create_user(login="admin", display_name="管理员", password="bench-password", is_site_admin=True)
        community = communities.create_community(slug="bench", name="基准社区", district="南山区",
                                                 street="桃源街道", actor=admin)
        estate = communities.add_estate(community, name="基准小区", actor=admin)
        building = communities.add_building(estate, name="1栋", actor=admin)
        communities.grant_role(community, user=admin, role=Role.community_admin, actor=admin)
        secretary = create_user(login="secretary", display_name="秘书", password="bench-password")
        communities.grant_role(community, user=secretary, role=Role.council_secretary, actor=admin)
        council = councils.create_council(community, settings=councils.CouncilSettings(
            name="议事会", term_label="第一届", term_start=date(2026, 1, 1), term_end=date(2028, 12, 31)), actor=admin)
        members = []
        for n in range(MEMBERS):
            user = create_user(login=f"m{n}", display_name=f"成员{n}", password="bench-password")
            residency = communities.register_residency(user, community, building=building, unit="1", room=str(100 + n))
            communities.verify_residency(residency, actor=admin)
            councils.add_member(council, user, seat=SeatType.elected_resident, actor=admin)
            members.append(user)
        session = sessions.create_session(community, fields=sessions.SessionFields(
            kind=SessionKind.council_meeting, title="基准会议", starts_at=utcnow(), place="会议室"),
            council=council, actor=secretary)
        for title in ("议题一", "议题二", "议题三"):
            sessions.add_item(session, fields=sessions.ItemFields(title=title), actor=secretary)
        sessions.notice_session(session, actor=secretary)
        sessions.start_session(session, urgent_reason="基准测试", actor=secretary)
        for user in members[:18]:
            sessions.sign_in(session, user)
        for user in members[:3]:
            sessions.request_to_speak(session, user)
        sessions.start_speaker(sessions.speaker_queue(session)[0], actor=secretary)
        motion = sessions.open_motion(session.items[0], text="同意", actor=secretary)
        for user in members[:10]:
            sessions.cast_vote(motion, user, VoteChoice.yes)
        db.session.commit()
        return community.slug, session.id, [u.get_id() for u in members], secretary.get_id()


def client_for(app, user_id: str):
    client = app.test_client()
    with client.session_transaction() as s:
        s["_user_id"] = user_id
        s["_fresh"] = True
    return client


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=int, default=60, help="length of the simulated meeting")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    app = create_app(type("BenchConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url}))
    slug, session_id, member_ids, secretary_id = set_up(app)
    polls = args.minutes * 60 // POLL_SECONDS
    phones = [client_for(app, uid) for uid in member_ids]
    console = client_for(app, secretary_id)
    headers = {"HX-Request": "true"}
    live_url, console_url = f"/c/{slug}/sessions/{session_id}/live", f"/c/{slug}/sessions/{session_id}/console"
    assert phones[0].get(live_url, headers=headers).status_code == 200
    assert console.get(console_url, headers=headers).status_code == 200

    cpu_start, wall_start = time.process_time(), time.perf_counter()
    for _ in range(polls):
        for phone in phones:
            phone.get(live_url, headers=headers)
        console.get(console_url, headers=headers)
    cpu, wall = time.process_time() - cpu_start, time.perf_counter() - wall_start
    requests = polls * (len(phones) + 1)
    member_hours = len(phones) * args.minutes / 60
    print(f"database: {url.split(':')[0]}")
    print(f"simulated meeting: {args.minutes} min, {len(phones)} phones + 1 console, one poll each every "
          f"{POLL_SECONDS} s")
    print(f"requests: {requests:,} in {wall:.1f} s wall, {cpu:.1f} s CPU ({cpu / requests * 1000:.2f} ms CPU each)")
    print(f"CPU seconds per member-hour: {cpu / member_hours:.1f} "
          f"(the console's polls are included; one core serves about {3600 / (cpu / member_hours):.0f} polling "
          f"members)")


if __name__ == "__main__":
    main()
