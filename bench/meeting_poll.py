"""Benchmark: the server's CPU cost of a live council meeting, polled as today and live, in one run.

Simulates a 20-member meeting in session (quorum met, a speaker on the clock, an open motion being
voted on) for an hour, with a change every --change-every seconds (a member ticked in or out by the
secretary, so the quorum line changes). Time is compressed: the requests are issued as fast as possible
through the Flask test client and the process CPU time (time.process_time) is measured; the changes
themselves (the secretary's work, the same in every approach) are not counted.

- polling (today): every phone GETs the room partial every 2 s and the console its partial; each is
  rendered.
- live, polling the version (the fallback where Server-Sent Events are off or broken): every 2 s each
  page asks the session's version alone, with the one it holds (`/version`: 304 after reading only the
  version, the same for every viewer); once it moved, the page GETs its partial, rendered once per change.
- live, Server-Sent Events: each page holds a stream that checks the version every LIVE_CHECK_SECONDS
  (without Redis) and reconnects every LIVE_STREAM_SECONDS; a page fetches its partial once per change.
  Measured per operation (the stream's real connect request, its real version check, the real refetch)
  and multiplied by how often each happens in the hour.

The two ways of polling run in alternating slices of the hour (SLICES), so that both meet the same machine.
The last line compares today's polling with the live approach's worst case on this machine, the
version-polling fallback. Run: .venv/bin/python bench/meeting_poll.py [--minutes 60] [--change-every 60]
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
SLICES = 4  # today's polling and the live fallback alternate in this many slices of the hour


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


def change(app, session_id: int, member_id: str, n: int, secretary_id: str) -> None:
    """The n-th change of the meeting: the secretary ticks the last member in, then out again."""
    from deliberation.auth.models import User
    from deliberation.consultations.models import ConsultationSession

    with app.app_context():
        session = db.session.get(ConsultationSession, session_id)
        member = db.session.get(User, int(member_id.split(":")[0]))
        secretary = db.session.get(User, int(secretary_id.split(":")[0]))
        if n % 2 == 0:
            sessions.sign_in(session, member, recorded_by=secretary)
        else:
            sessions.sign_out(session, member, actor=secretary)
        db.session.commit()


class Poller:
    """One approach's phones and console polling every 2 s; `run` plays the next ticks of its hour and
    adds up the CPU of the answers, the requests, the version polls and the full renders.

    Today's polling GETs each partial every tick and renders it. The live fallback (`version_url` given)
    asks the session's version every tick with the one it holds (If-None-Match: 304 while unchanged) and
    GETs its partial only once the version moved, as static/js/live.js does."""

    def __init__(self, meeting: Meeting, clients, addresses, *, version_url: str | None):
        self.meeting, self.clients, self.addresses, self.version_url = meeting, clients, addresses, version_url
        self.etags = [None] * len(clients)
        self.versions = [None] * len(clients)
        self.every = max(meeting.args.change_every // POLL_SECONDS, 1)
        self.tick, self.cpu, self.requests, self.version_polls, self.renders = 0, 0.0, 0, 0, 0

    def run(self, ticks: int) -> None:
        excluded = 0.0
        start = time.process_time()
        for tick in range(self.tick, self.tick + ticks):
            if tick and tick % self.every == 0:
                excluded += self.meeting._change()
            for n, (client, address) in enumerate(zip(self.clients, self.addresses, strict=True)):
                if self.version_url is not None:
                    held = {"If-None-Match": self.versions[n]} if self.versions[n] else {}
                    answer = client.get(self.version_url, headers=held)
                    self.requests += 1
                    self.version_polls += 1
                    if answer.status_code == 304:
                        continue
                    assert answer.status_code == 200, answer.status_code
                    self.versions[n] = answer.headers["ETag"]
                headers = {"HX-Request": "true"}
                if self.version_url is not None and self.etags[n]:
                    headers["If-None-Match"] = self.etags[n]
                response = client.get(address, headers=headers)
                self.requests += 1
                if response.status_code == 200:
                    self.renders += 1
                    self.etags[n] = response.headers.get("ETag")
        self.cpu += time.process_time() - start - excluded
        self.tick += ticks


class Meeting:
    """Runs the simulated hour for one approach and returns the CPU seconds of the server's answers."""

    def __init__(self, app, args, session_id, member_ids, secretary_id, urls):
        self.app, self.args, self.session_id = app, args, session_id
        self.member_ids, self.secretary_id = member_ids, secretary_id
        self.urls = urls
        self.changes = 0

    def _change(self) -> float:
        """Apply the next change; returns its CPU so the caller can leave it out."""
        start = time.process_time()
        change(self.app, self.session_id, self.member_ids[-1], self.changes, self.secretary_id)
        self.changes += 1
        return time.process_time() - start

    def poller(self, *, live: bool) -> Poller:
        """An hour of polling every 2 s by every phone and the console, run a part at a time (`Poller.run`)."""
        clients = [client_for(self.app, uid) for uid in self.member_ids] + [client_for(self.app, self.secretary_id)]
        addresses = [self.urls["live"]] * len(self.member_ids) + [self.urls["console"]]
        return Poller(self, clients, addresses, version_url=self.urls["version"] if live else None)

    def streamed(self) -> tuple[float, dict]:
        """CPU seconds of an hour of event streams, from the measured cost of each operation."""
        from deliberation.consultations.live import live_version

        config = self.app.config
        pages = len(self.member_ids) + 1
        hour = self.args.minutes * 60
        clients = [client_for(self.app, uid) for uid in self.member_ids] + [client_for(self.app, self.secretary_id)]
        addresses = [self.urls["live"]] * len(self.member_ids) + [self.urls["console"]]
        # Connecting: the real request (login, session, permission, one version check), once per page.
        current = str(self.version())
        lifetime, config["LIVE_STREAM_SECONDS"] = config["LIVE_STREAM_SECONDS"], 0  # answer once and end
        start = time.process_time()
        for client in clients:
            body = client.get(self.urls["events"], headers={"Last-Event-ID": current}).get_data()
            assert body.startswith(b"retry:"), body
        connect = (time.process_time() - start) / pages
        config["LIVE_STREAM_SECONDS"] = lifetime
        # Checking: the stream's real version read, repeated.
        checks = 2000
        with self.app.app_context():
            start = time.process_time()
            for _ in range(checks):
                live_version(self.session_id)
                db.session.rollback()
            check = (time.process_time() - start) / checks
        # Refetching: after each change every page fetches its partial once (with its ETag: a 200).
        etags = [client.get(address, headers={"HX-Request": "true"}).headers.get("ETag")
                 for client, address in zip(clients, addresses, strict=True)]
        n_changes = max(hour // self.args.change_every - 1, 0)
        sample = min(n_changes, 10)
        refetch_cpu = 0.0
        for _ in range(sample):
            self._change()
            start = time.process_time()
            for n, (client, address) in enumerate(zip(clients, addresses, strict=True)):
                response = client.get(address, headers={"HX-Request": "true", "If-None-Match": etags[n]})
                assert response.status_code == 200
                etags[n] = response.headers.get("ETag")
            refetch_cpu += time.process_time() - start
        refetch = refetch_cpu / max(sample, 1) / pages
        reconnects = hour / config["LIVE_STREAM_SECONDS"]
        per_page = reconnects * connect + hour / config["LIVE_CHECK_SECONDS"] * check + n_changes * refetch
        return per_page * pages, {"connect": connect, "check": check, "refetch": refetch, "reconnects": reconnects,
                                  "changes": n_changes}

    def version(self) -> int:
        from deliberation.consultations.live import live_version

        with self.app.app_context():
            return live_version(self.session_id)[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=int, default=60, help="length of the simulated meeting")
    parser.add_argument("--change-every", type=int, default=60, help="seconds between two changes of the meeting")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    app = create_app(type("BenchConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url,
                                                         "LIVE_STREAM_SECONDS": 300.0, "LIVE_CHECK_SECONDS": 1.0}))
    slug, session_id, member_ids, secretary_id = set_up(app)
    base = f"/c/{slug}/sessions/{session_id}"
    urls = {"live": f"{base}/live", "console": f"{base}/console", "events": f"{base}/events",
            "version": f"{base}/version"}
    phones, member_hours = len(member_ids), len(member_ids) * args.minutes / 60
    meeting = Meeting(app, args, session_id, member_ids, secretary_id, urls)
    assert client_for(app, member_ids[0]).get(urls["live"], headers={"HX-Request": "true"}).status_code == 200

    print(f"database: {url.split(':')[0]}")
    print(f"simulated meeting: {args.minutes} min, {phones} phones + 1 console, a change every {args.change_every} s "
          f"(the console's requests are included; the changes' own CPU is not)")
    # The two ways of polling run in alternating slices of the hour, so that both meet the same machine (on a
    # shared one the load from other work changes from one minute to the next, and with it every request's
    # CPU). A slice is a whole number of change intervals: each approach's slice opens with a change of its
    # own, after which every page renders anyway, so the other approach's changes in between cost nothing
    # extra.
    polls = args.minutes * 60 // POLL_SECONDS
    every = max(args.change_every // POLL_SECONDS, 1)
    today, fallback_poller = meeting.poller(live=False), meeting.poller(live=True)
    slice_ticks = max(polls // SLICES // every, 1) * every
    while today.tick < polls:
        for poller in (today, fallback_poller):
            poller.run(min(slice_ticks, polls - poller.tick))
    polling, requests = today.cpu, today.requests
    print(f"polling (today): {requests:,} requests, all rendered, {polling:.1f} s CPU "
          f"({polling / requests * 1000:.2f} ms each); {polling / member_hours:.2f} s per member-hour")
    fallback = fallback_poller.cpu
    print(f"live, polling the version: {fallback_poller.requests:,} requests ({fallback_poller.version_polls:,} "
          f"version polls, 304 unless it moved; {fallback_poller.renders:,} partials rendered); {fallback:.1f} s CPU; "
          f"{fallback / member_hours:.2f} s per member-hour")
    streamed, parts = meeting.streamed()
    print(f"live, Server-Sent Events: connect {parts['connect'] * 1000:.2f} ms × {parts['reconnects']:.0f}, "
          f"version check {parts['check'] * 1000:.3f} ms × {args.minutes * 60 / app.config['LIVE_CHECK_SECONDS']:.0f}, "
          f"refetch {parts['refetch'] * 1000:.2f} ms × {parts['changes']} per page over the meeting; "
          f"{streamed / member_hours:.2f} s per member-hour (ratio {polling / streamed:.1f})")
    live = fallback
    print(f"member-hour CPU: polling {polling / member_hours:.2f} s, live {live / member_hours:.2f} s, "
          f"ratio {polling / live:.1f}")


if __name__ == "__main__":
    main()
