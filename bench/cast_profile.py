"""Where one ballot cast's server CPU goes, in process (no gunicorn, no network to the client).

Seeds a database as bench/ballot_load.py does, logs N voters in with Flask's test client, then casts
their ballots (POST /vote/cast) and reports, per cast: the CPU of the whole request; the CPU spent
inside each step of the cast view and the casting service (functions wrapped with timers; steps nest,
the indented ones are part of the one above); the statements sent to the database with the client-side
CPU of each (SQLAlchemy cursor events: driver and wire, not SQLAlchemy's own work); and, as the
reference, a logged-in POST that writes nothing (/vote/receipt/noted with no receipt to forget).

Run: .venv/bin/python bench/cast_profile.py [--voters 300] [--url sqlite:////tmp/x.db | postgresql+psycopg://...]
A PostgreSQL URL must name an empty database (the schema is created in it).
"""

from __future__ import annotations

import argparse
import collections
import functools
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ballot_load as bl  # noqa: E402, I001
from sqlalchemy import event  # noqa: E402

from deliberation.core import audit, secrecy  # noqa: E402
from deliberation.extensions import db  # noqa: E402
from deliberation.votes import casting, receipt_stash, services, views  # noqa: E402

# (module, function name, label, depth): what the table breaks the cast into, in call order.
STEPS = [
    (casting, "ballot_to_cast", "read and lock the round, residency, options, salt (+ audit lock on PostgreSQL)", 0),
    (views, "_posted", "read the posted choices", 0),
    (services, "check_choices", "check the choices (view and service)", 0),
    (views.services, "cast", "cast service", 0),
    (services, "_participate_and_seal", "PostgreSQL: participation + sealed ballot, one statement", 1),
    (services, "_participate", "SQLite: record the participation (one INSERT, returns the audit head)", 1),
    (services, "eligibility_key", "eligibility key", 2),
    (services, "_seal_ballot", "SQLite: seal the ballot", 1),
    (secrecy, "_salt", "read the salt apart (only the round's first ballot)", 2),
    (secrecy, "_key", "derive the key (HKDF)", 2),
    (secrecy, "_encode", "encode + pad", 2),
    (audit, "record", "audit event (hash, MAC, insert)", 1),
    (receipt_stash, "keep", "receipt into its cookie (encrypted)", 0),
]


def timed(acc: collections.Counter, label: str, fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        start = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            acc[label] += time.process_time() - start
    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--voters", type=int, default=300)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()
    instance = Path(tempfile.mkdtemp(prefix="cast-profile-"))
    url = args.url or f"sqlite:///{instance / 'cast.db'}"
    seeded = bl.seed(url, instance, args.voters + 1)
    app = seeded.app
    clients = []
    for login in list(seeded.voters)[:args.voters]:
        client = app.test_client()
        token = bl.csrf_token(client.get("/login").get_data(as_text=True))
        client.post("/login", data={"login": login, "password": bl.PASSWORD, "csrf_token": token})
        clients.append((client, bl.csrf_token(client.get(seeded.path + "/vote").get_data(as_text=True))))
    choices = [str(c) for c in bl.ballot_choices(seeded.project_ids, 1, random.Random(1))[0]]

    steps: collections.Counter = collections.Counter()
    for module, name, label, _depth in STEPS:
        setattr(module, name, timed(steps, label, getattr(module, name)))
    if views.services is not services or views.casting is not casting:
        raise SystemExit("views.services is not votes.services")
    statements: collections.Counter = collections.Counter()
    counts: collections.Counter = collections.Counter()
    started = {}
    on = [False]

    def before(conn, cursor, statement, *rest):
        started["t"] = time.process_time()

    def after(conn, cursor, statement, *rest):
        if on[0]:
            key = " ".join(statement.split())[:72]
            statements[key] += time.process_time() - started["t"]
            counts[key] += 1

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", before)
        event.listen(db.engine, "after_cursor_execute", after)

    def cast(client, token):
        reply = client.post(seeded.path + "/vote/cast", data={"csrf_token": token, "choices": choices})
        if reply.status_code != 303:
            raise SystemExit(f"cast answered {reply.status_code}")

    cast(*clients[0])  # warm the statement caches
    steps.clear()
    rest = clients[1:]
    on[0] = True
    start = time.process_time()
    for client, token in rest:
        cast(client, token)
    per_cast = (time.process_time() - start) / len(rest)
    on[0] = False
    start = time.process_time()
    for client, token in rest:
        client.post(seeded.path + "/vote/receipt/noted", data={"csrf_token": token})
    per_noop = (time.process_time() - start) / len(rest)

    us = 1e6 / len(rest)
    print(f"{url.split(':')[0]}: {len(rest)} casts; CPU per cast {per_cast * 1e3:.3f} ms; logged-in POST that "
          f"writes nothing {per_noop * 1e3:.3f} ms; ratio {per_cast / per_noop:.2f}")
    print("steps of the cast (CPU per cast, µs; indented steps are part of the one above):")
    for _module, _name, label, depth in STEPS:
        print(f"  {steps[label] * us:8.1f}  {'    ' * depth}{label}")
    top = sum(steps[label] for _m, _n, label, depth in STEPS if depth == 0) * us
    print(f"  {top:8.1f}  sum of the top-level steps; the rest of the request "
          f"({per_cast * 1e6 - top:.1f} µs) is Flask, the session cookie, loading the user, CSRF, the final "
          "commit and the redirect")
    print(f"statements ({sum(counts.values()) / len(rest):.1f} per cast; driver-side CPU, µs):")
    for key, seconds in sorted(statements.items(), key=lambda kv: -kv[1]):
        print(f"  {seconds * us:8.1f}  x{counts[key] / len(rest):.0f}  {key}")


if __name__ == "__main__":
    main()
