"""The audit log records every state change, and `flask audit verify` catches tampering by anyone
who can write to the database but does not hold AUDIT_KEY: rewriting, deletion and truncation."""

from __future__ import annotations

import io
import os
import stat
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError

from deliberation import create_app
from deliberation.core import audit
from deliberation.core.audit import GENESIS_HASH, AuditEvent, event_hash, verify_chain
from deliberation.core.audit_anchors import AuditAnchor, anchors_file, local_today, write_daily_anchor
from deliberation.extensions import db
from tests.conftest import make_test_config


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def events() -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def verify(app, *args: str):
    db.session.expire_all()
    return app.test_cli_runner().invoke(args=["audit", "verify", *args])


def broken_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("BROKEN:")]


def recompute_plain_chain(rows: list[AuditEvent], *, renumber: bool = False) -> None:
    """What an attacker with the source and write access to the database (but not the key) can do:
    make every plain hash and link consistent again after changing rows."""
    previous = GENESIS_HASH
    for seq, event in enumerate(rows, start=1):
        if renumber:
            event.seq = -seq  # out of the way of the unique constraint first
        event.prev_hash = previous
        event.hash = event.compute_hash()
        previous = event.hash
        db.session.flush()
    if renumber:
        for event in rows:
            event.seq = -event.seq
        db.session.flush()


@pytest.fixture
def no_anchors_file(app):
    path = anchors_file()
    path.unlink(missing_ok=True)
    yield path
    path.unlink(missing_ok=True)


def test_every_state_change_of_the_foundation_is_audited(client, world, as_user):
    as_user(world.admin)
    client.post("/c/taoyuan/admin/roll", data={"file": (io.BytesIO(
        "building,unit,room,name,phone\n1栋,1,101,张三,13900000001\n".encode()), "r.csv")})
    client.post(f"/c/taoyuan/admin/residents/{world.pending.id}/verify")
    recorded = set(actions())
    for action in ("community.created", "estate.created", "building.created", "user.created",
                   "residency.registered", "residency.verified", "role.granted", "roll.imported"):
        assert action in recorded, action
    assert verify_chain().ok


def test_chain_is_intact_numbered_and_signed(world):
    rows = events()
    assert len(rows) > 10
    assert [e.seq for e in rows] == list(range(1, len(rows) + 1))
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(rows, rows[1:], strict=False))
    assert all(e.mac and len(e.mac) == 64 and e.mac != e.hash for e in rows)
    report = verify_chain(batch_size=7)  # several batches
    assert report.ok and report.checked == len(rows)


def test_audit_verify_detects_an_edited_row(app, world):
    result = verify(app)
    assert result.exit_code == 0 and "OK" in result.stdout
    target = events()[5]
    db.session.execute(text("UPDATE audit_events SET summary = 'nothing happened' WHERE id = :id"), {"id": target.id})
    result = verify(app)
    assert result.exit_code == 1
    assert broken_lines(result) == [f"BROKEN: event #{target.seq} (id {target.id}): content does not match its "
                                    f"hash — edited"]


def test_rewriting_an_event_and_recomputing_the_plain_chain_is_caught(app, world):
    """Without the key the attacker can make every hash and link consistent, but not the MACs."""
    rows = events()
    old_head = rows[-1].hash
    target = rows[4]
    target.summary = "nothing happened"
    recompute_plain_chain(rows)
    result = verify(app)
    assert result.exit_code == 1
    assert broken_lines(result) == [
        f"BROKEN: events #{target.seq}–#{rows[-1].seq}: MAC does not match the audit key — rewritten (the plain "
        f"hashes recomputed) by someone without the key",
        # and the head no longer matches the day's published anchor
        f"BROKEN: event #{rows[-1].seq} is not the one in the anchor published on {local_today().isoformat()} "
        f"({old_head}): rewritten or deleted"]
    # The attacker also copies MACs around or blanks them: still caught.
    db.session.execute(update(AuditEvent).where(AuditEvent.seq == target.seq).values(mac=None))
    assert "has no MAC" in verify(app).stderr


def test_deleting_an_event_in_the_middle_is_caught(app, world):
    rows = events()
    victim = rows[3]
    db.session.execute(delete(AuditEvent).where(AuditEvent.id == victim.id))
    result = verify(app)
    assert result.exit_code == 1
    assert broken_lines(result) == [f"BROKEN: event #{victim.seq} missing: deleted before event #{victim.seq + 1}"]


def test_deleting_a_middle_event_and_renumbering_and_relinking_is_caught(app, world):
    rows = events()
    victim = rows[3]
    db.session.execute(delete(AuditEvent).where(AuditEvent.id == victim.id))
    recompute_plain_chain([e for e in events() if e.id != victim.id], renumber=True)
    assert [e.seq for e in events()] == list(range(1, len(rows)))  # no gap left, links consistent
    result = verify(app)
    assert result.exit_code == 1
    lines = broken_lines(result)
    assert lines[0].startswith(f"BROKEN: events #{victim.seq}–#{len(rows) - 1}: MAC does not match the audit key")
    assert lines[1:] == [f"BROKEN: the anchor published on {local_today().isoformat()} counts {len(rows)} events "
                         f"but the log ends at #{len(rows) - 1}: the newest events were deleted"]


def test_a_fork_in_the_chain_is_impossible(world):
    last = events()[-1]
    twin = AuditEvent(created_at=last.created_at, action="x", object_type="X", object_id="1", seq=last.seq + 1,
                      prev_hash=last.prev_hash, hash="f" * 64, summary="", actor_label="")
    db.session.add(twin)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_truncating_the_newest_events_is_caught_by_the_published_daily_anchor(app, world, no_anchors_file):
    """The tail is deleted after the day's anchor: the anchor row, the anchors file and a fingerprint
    noted from the notice board each reveal it — even when the attacker deletes the anchor row too."""
    db.session.execute(delete(AuditAnchor))  # the world fixture anchored the day: anchor it by command
    anchored = app.test_cli_runner().invoke(args=["audit", "anchor"])
    assert anchored.exit_code == 0, anchored.output
    head = audit.head()
    assert no_anchors_file.read_text().split() == [local_today().isoformat(), str(head.seq), head.hash]
    db.session.execute(delete(AuditEvent).where(AuditEvent.seq > head.seq - 3))
    assert verify_chain().kinds() == {"anchor_missing"}
    result = verify(app)
    assert result.exit_code == 1
    assert f"counts {head.seq} events but the log ends at #{head.seq - 3}: the newest events were deleted" in result.stderr
    # The attacker deletes the anchor row as well: the file outside the database still has it.
    db.session.execute(delete(AuditAnchor))
    result = verify(app)
    assert result.exit_code == 1
    assert any("the anchor kept outside the database" in line and "newest events were deleted" in line
               for line in broken_lines(result))
    # Without the file, the fingerprint someone noted from the notice board or an export.
    no_anchors_file.unlink()
    assert verify(app).exit_code == 0  # the database alone cannot tell: the README says so
    result = verify(app, "--anchor", head.hash.upper())
    assert result.exit_code == 1
    assert broken_lines(result) == [f"BROKEN: fingerprint {head.hash} is not in the log: the events up to it were "
                                    f"deleted or rewritten"]


def test_a_saved_copy_of_the_notice_board_anchors_is_checked(app, world, tmp_path, no_anchors_file):
    head = audit.head()
    saved = tmp_path / "anchors.txt"
    saved.write_text(f"# copied from the notice board\n{date.today().isoformat()} {head.seq} {head.hash}\n")
    result = verify(app, "--anchors-file", str(saved))
    assert result.exit_code == 0 and "1 anchor(s)" in result.stdout
    saved.write_text(f"{date.today().isoformat()} {head.seq} {'a' * 64}\n")
    result = verify(app, "--anchors-file", str(saved))
    assert result.exit_code == 1 and f"event #{head.seq} is not the one in the anchor kept outside" in result.stderr
    saved.write_text("yesterday 12 abc\n")
    result = verify(app, "--anchors-file", str(saved))
    assert result.exit_code == 1 and "line 1: expected 'YYYY-MM-DD COUNT FINGERPRINT'" in result.stderr


def test_an_anchor_row_cannot_be_forged_without_the_key(app, world):
    db.session.execute(update(AuditAnchor).values(seq=AuditAnchor.seq - 2))
    result = verify(app)
    assert result.exit_code == 1 and "does not match its MAC: forged or edited without the audit key" in result.stderr


def test_audit_anchor_is_idempotent_per_day(app, world, no_anchors_file):
    runner = app.test_cli_runner()
    first, second = runner.invoke(args=["audit", "anchor"]), runner.invoke(args=["audit", "anchor"])
    assert first.exit_code == second.exit_code == 0
    assert "already anchored" in second.output
    assert db.session.scalar(select(func.count()).select_from(AuditAnchor)) == 1
    assert len(no_anchors_file.read_text().splitlines()) == 1
    # Another day gets its own anchor.
    line, written = write_daily_anchor(local_today() + timedelta(days=1))
    assert written and db.session.scalar(select(func.count()).select_from(AuditAnchor)) == 2


def test_notice_board_publishes_the_daily_anchor_and_writes_it_on_the_first_view(client, world):
    db.session.execute(delete(AuditAnchor))
    head = audit.head()
    page = client.get("/c/taoyuan").get_data(as_text=True)
    assert 'data-testid="notice-audit-anchors"' in page and head.hash in page
    assert db.session.scalar(select(AuditAnchor.head_hash)) == head.hash  # committed by the view
    audit.record("test.later", audit.Ref("X", 1))
    again = client.get("/c/taoyuan").get_data(as_text=True)
    assert audit.head().hash not in again  # one anchor per day: the first view's head stays
    assert db.session.scalar(select(func.count()).select_from(AuditAnchor)) == 1


def test_a_wrong_key_is_reported_as_such_not_as_a_thousand_rewrites(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_KEY", "someone-elses-key")
    result = verify(app)
    assert result.exit_code == 1
    lines = broken_lines(result)
    assert len(lines) == 2  # every event, and the day's anchor signed with the real key
    assert "no event's MAC matches the audit key in use (key id " in lines[0]
    assert "wrong or missing AUDIT_KEY" in lines[0]
    assert "anchor of" in lines[1] and "does not match its MAC" in lines[1]


def test_the_audit_key_lives_outside_the_database(tmp_path_factory, monkeypatch):
    monkeypatch.delenv("AUDIT_KEY", raising=False)
    instance = tmp_path_factory.mktemp("instance")
    config = make_test_config(tmp_path_factory, INSTANCE_DIR=instance, AUDIT_KEY=None)
    first = create_app(config).config["AUDIT_KEY"]
    key_file = instance / "audit_key"
    assert key_file.read_text().strip() == first and len(first) == 64
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert first != create_app(config).config["SECRET_KEY"]
    assert create_app(config).config["AUDIT_KEY"] == first  # generated once, then kept
    monkeypatch.setenv("AUDIT_KEY", "from-the-environment")
    assert create_app(config).config["AUDIT_KEY"] == "from-the-environment"
    with pytest.raises(RuntimeError, match="AUDIT_KEY must differ from SECRET_KEY"):
        create_app(make_test_config(tmp_path_factory, AUDIT_KEY="same", SECRET_KEY="same"))


def test_record_keeps_its_signature_and_signs_each_event(world):
    before = audit.head()
    audit.record("test.recorded", audit.Ref("Thing", 7), actor=world.admin, community=world.community, summary="s")
    after = audit.head()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.seq == after.seq))
    assert after.seq == before.seq + 1 and event.prev_hash == before.hash
    assert event.hash == event_hash({c: getattr(event, c) for c in audit.HASHED_COLUMNS})
    assert event.mac == audit.event_mac("test-audit-key-not-for-production", after.seq, after.hash)


def test_printable_pages_carry_the_current_head(client, world):
    from tests.proposals.factories import make_round

    round_ = make_round(world.community, world.secretary)
    page = client.get(f"/c/taoyuan/rounds/{round_.id}").get_data(as_text=True)
    head = audit.head()
    assert 'data-testid="audit-head"' in page and head.hash in page and f"{head.seq} 条事件" in page


def test_a_replaced_key_is_named_when_only_the_older_events_fail(app, world, monkeypatch):
    """instance/audit_key lost and regenerated: old events fail, new ones pass; verify says which."""
    old = audit.head()
    monkeypatch.setitem(app.config, "AUDIT_KEY", "a-regenerated-key")
    audit.record("test.after_new_key", audit.Ref("X", 1))
    lines = broken_lines(verify(app))
    assert lines[0] == (f"BROKEN: events #1–#{old.seq}: MAC does not match the audit key in use (key id "
                        f"{audit.key_id('a-regenerated-key')}), the events after them do: the key was replaced (a "
                        f"lost instance/audit_key regenerated?) or those events were rewritten without the key")
