"""Forensics on a copy of the database: can who took part be paired with what they chose?

For each kind of secret row (a ballot, a survey answer) 24 residents take part one after another,
each with a payload the test can recognise (the ballot's receipt hash, the answer's comment). The
database is copied while voting or answering is open and again after closing, as an intruder or a
careless backup would. The copy is then searched the way an attacker with the source would: the
participants in every order the copy holds (participation key and row order, audit events) against
the recognised payloads in every order the copy holds (every table by rowid, primary key or ctid,
and on SQLite the byte offset of each payload in the database file and in its write-ahead log,
forwards and backwards). Pairing by position must do no better than chance: a random order pairs
one participant on average, and 8 or more of 24 happen by chance less than once in 10,000 tries.

Real commits on a fresh database: SQLite (file and -wal) or, with TEST_DATABASE_URL, PostgreSQL.
"""

from __future__ import annotations

import secrets
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import DateTime, inspect, text
from sqlalchemy.engine import make_url

from deliberation import create_app
from deliberation.extensions import db
from tests.conftest import make_test_config
from tests.factories import build_world, make_resident

PARTICIPANTS = 24
MAX_PAIRED = 7  # a random order pairs 1 of 24 on average; 8 or more happen with probability < 1e-4


@dataclass
class Scenario:
    participation_table: str
    audit_action: str
    participants: list[int]  # user ids in the order they took part
    payload_of: dict[str, int]  # recognisable secret payload → its user's id
    close: Callable[[], None]


def ballots_scenario() -> Scenario:
    from deliberation.proposals.models import RoundPhase
    from deliberation.votes import services
    from tests.proposals.factories import make_proposal, make_round, move_to

    world = build_world()
    round_ = make_round(world.community, world.secretary, budget=100_000, project_cap=100_000)
    items = [make_proposal(round_, world.resident, title=f"项目{i}", cost=10_000) for i in range(5)]
    move_to(round_, RoundPhase.voting, world.secretary, party=world.party)
    voters = [make_resident(world.community, login=f"ballot-voter-{i}")[0] for i in range(PARTICIPANTS)]
    db.session.commit()
    payload_of = {}
    for n, voter in enumerate(voters, start=1):
        choices = [p.id for bit, p in enumerate(items) if n & (1 << bit)]  # a distinct set for each voter
        code = services.cast_ballot(round_, voter, choices=choices)
        db.session.commit()
        payload_of[services.receipt_hash(round_.id, code)] = voter.id

    def close():
        services.close_voting(round_, actor=world.secretary)
        db.session.commit()

    return Scenario("ballot_participations", "ballot.participation", [v.id for v in voters], payload_of, close)


def survey_scenario() -> Scenario:
    from deliberation.evaluations import services
    from tests.evaluations.factories import make_organisation, make_survey

    world = build_world()
    firm = make_organisation(world.community, actor=world.admin)
    survey = make_survey(firm, actor=world.party)
    residents = [make_resident(world.community, login=f"survey-resident-{i}", building_name="1栋" if i % 2 else "2栋")[0]
                 for i in range(PARTICIPANTS)]
    db.session.commit()
    payload_of = {}
    for n, resident in enumerate(residents):
        comment = f"forensic-comment-{secrets.token_hex(8)}"
        ratings = {c.id: 1 + (n + c.id) % 5 for c in survey.rubric.resident_items}
        services.answer_survey(survey, resident, ratings=ratings, comment=comment)
        db.session.commit()
        payload_of[comment] = resident.id

    def close():
        services.close_survey(survey, actor=world.party)
        db.session.commit()

    return Scenario("survey_participations", "survey.answered", [r.id for r in residents], payload_of, close)


SCENARIOS = {"ballots": ballots_scenario, "survey answers": survey_scenario}


@pytest.fixture
def live_app(tmp_path_factory, empty_database_url):
    app = create_app(make_test_config(tmp_path_factory, SQLALCHEMY_DATABASE_URI=empty_database_url))
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


# --- reading a copy -------------------------------------------------------------------

@dataclass
class Copy:
    participant_orders: dict[str, list[int]]  # name of the order → user ids
    row_orders: dict[str, list[str]]  # "table by order" → each row's text, in that order
    byte_orders: dict[str, list[str]]  # "file, first/last offset" → recognised payloads in offset order
    texts: list[str]  # everything readable, to look for payloads
    blobs: set[bytes]  # every binary value in a row (sealed payloads, salts)
    raw: bytes  # what the copy holds on disk (SQLite), or the rows' text (PostgreSQL)


def _sqlite_copy(scenario: Scenario, database: Path, folder: Path) -> Copy:
    folder.mkdir()
    target = folder / "copy.sqlite3"
    files = {"database file": target}
    shutil.copyfile(database, target)
    wal = database.with_name(database.name + "-wal")
    if wal.exists():
        shutil.copyfile(wal, folder / "copy.sqlite3-wal")
        files["write-ahead log"] = folder / "copy.sqlite3-wal"
    byte_orders, blobs = {}, set()
    raw = b"".join(path.read_bytes() for path in files.values())  # before SQLite opens (and folds in) the log
    for name, path in files.items():
        raw = path.read_bytes()
        for which, find in (("first", raw.find), ("last", raw.rfind)):
            found = {payload: find(payload.encode()) for payload in scenario.payload_of}
            byte_orders[f"{name}, {which} offset"] = sorted((p for p, at in found.items() if at >= 0), key=found.get)
    connection = sqlite3.connect(target)
    try:
        tables = [name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        row_orders = {}
        for table in tables:
            keys = [row[1] for row in connection.execute(f'PRAGMA table_info("{table}")') if row[5]]
            orders = {"primary key": ", ".join(f'"{k}"' for k in keys)} if keys else {}
            sql = connection.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
            if "WITHOUT ROWID" not in sql.upper():
                orders["rowid"] = "rowid"
            for order_name, order in orders.items():
                rows = connection.execute(f'SELECT * FROM "{table}" ORDER BY {order}').fetchall()  # noqa: S608 (names from the schema)
                row_orders[f"{table} by {order_name}"] = [repr(row) for row in rows]
                blobs |= {value for row in rows for value in row if isinstance(value, bytes)}
        participant_orders = _participant_orders(scenario, lambda sql: connection.execute(sql).fetchall())
    finally:
        connection.close()
    return Copy(participant_orders, row_orders, byte_orders, [r for rows in row_orders.values() for r in rows],
                blobs, raw)


def _postgresql_copy(scenario: Scenario) -> Copy:
    """What a dump (primary-key order) or the heap (ctid order) shows."""
    row_orders = {}
    with db.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            keys = inspect(connection).get_pk_constraint(table)["constrained_columns"]
            orders = {"ctid": "ctid"} | ({"primary key": ", ".join(f'"{k}"' for k in keys)} if keys else {})
            for order_name, order in orders.items():
                rows = connection.execute(text(f'SELECT row_to_json(t)::text FROM "{table}" AS t ORDER BY {order}'))  # noqa: S608 (names from the schema)
                row_orders[f"{table} by {order_name}"] = list(rows.scalars())
        participant_orders = _participant_orders(scenario, lambda sql: connection.execute(text(sql)).all())
        blobs = set()
        for table, column in connection.execute(text(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND data_type = 'bytea'")):
            blobs |= {bytes(value) for value in connection.execute(text(f'SELECT "{column}" FROM "{table}"')).scalars()}  # noqa: S608 (names from the schema)
    texts = [r for rows in row_orders.values() for r in rows]
    return Copy(participant_orders, row_orders, {}, texts, blobs, "\n".join(texts).encode())


def _participant_orders(scenario: Scenario, query: Callable[[str], list]) -> dict[str, list[int]]:
    table = scenario.participation_table
    orders = {f"{table} by id": [row[0] for row in query(f"SELECT user_id FROM {table} ORDER BY id")],  # noqa: S608 (names from the schema)
              "audit events by time": [row[0] for row in query(
                  f"SELECT actor_id FROM audit_events WHERE action = '{scenario.audit_action}' "  # noqa: S608 (names from the schema)
                  "ORDER BY created_at, id")]}
    assert orders[f"{table} by id"] == scenario.participants  # what the attacker is given: who, in order
    return orders


def take_copy(scenario: Scenario, folder: Path) -> Copy:
    url = make_url(db.engine.url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_copy(scenario, Path(url.database), folder)
    return _postgresql_copy(scenario)


# --- pairing --------------------------------------------------------------------------

def recognised(scenario: Scenario, rows: list[str]) -> list[str]:
    """The payloads found in rows, in the rows' order."""
    found = []
    for row in rows:
        found.extend(p for p in scenario.payload_of if p in row and p not in found)
    return found


def best_pairing(scenario: Scenario, copy: Copy) -> tuple[int, str]:
    """The most participants that any order of participants and any order of payloads pairs correctly."""
    secret_orders = {name: recognised(scenario, rows) for name, rows in copy.row_orders.items()}
    secret_orders |= copy.byte_orders
    best = (0, "nothing recognisable")
    for p_name, people in copy.participant_orders.items():
        for s_name, payloads in secret_orders.items():
            for direction, ordered in (("", payloads), (" reversed", payloads[::-1])):
                paired = sum(1 for person, payload in zip(people, ordered, strict=False)
                             if scenario.payload_of[payload] == person)
                best = max(best, (paired, f"{p_name} against {s_name}{direction}"))
    return best


def secret_columns_with_time(scenario: Scenario, copy: Copy) -> list[str]:
    """Tables holding a recognisable payload, or sealed secrets, that have a column finer than the day."""
    holding = {name.split(" by ")[0] for name, rows in copy.row_orders.items() if recognised(scenario, rows)}
    holding |= {"sealed_rows"}
    return [f"{table}.{column.name}" for table in holding if table in db.metadata.tables
            for column in db.metadata.tables[table].columns if isinstance(column.type, DateTime)]


@pytest.mark.parametrize("kind", list(SCENARIOS))
def test_a_copy_of_the_database_pairs_no_participant_with_their_secret(live_app, tmp_path, kind):
    with live_app.app_context():
        scenario = SCENARIOS[kind]()

        during = take_copy(scenario, tmp_path / "open")
        # While open, a copy of the database alone holds no readable secret payload at all.
        assert not [p for p in scenario.payload_of if any(p in t for t in during.texts)]
        assert not [p for order in during.byte_orders.values() for p in order]
        paired, how = best_pairing(scenario, during)
        assert paired <= MAX_PAIRED, f"while open, {paired} of {PARTICIPANTS} paired by {how}"

        scenario.close()
        after = take_copy(scenario, tmp_path / "closed")
        # Nothing sealed outlives the closing, not even in freed pages or the write-ahead log (SQLite):
        # without the salt, SECRET_KEY opens nothing in a copy taken after closing.
        assert during.blobs and not [b for b in during.blobs if b in after.raw or b.hex() in after.raw.decode(errors="replace")]
        readable = {p for p in scenario.payload_of if any(p in t for t in after.texts)}
        assert readable == set(scenario.payload_of)  # now published, for anyone to check
        paired, how = best_pairing(scenario, after)
        assert paired <= MAX_PAIRED, f"after closing, {paired} of {PARTICIPANTS} paired by {how}"
        assert not secret_columns_with_time(scenario, after)
        db.session.remove()
