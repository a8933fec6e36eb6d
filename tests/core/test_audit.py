"""The audit log records every state change and `flask audit verify` catches tampering."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from deliberation.core.audit import AuditEvent, verify_chain
from deliberation.extensions import db


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


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


def test_chain_is_intact_and_links_each_event_to_the_previous_one(world):
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert len(events) > 10
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(events, events[1:], strict=False))
    report = verify_chain(batch_size=7)  # several batches
    assert report.ok and report.checked == len(events)


def test_audit_verify_detects_an_edited_row(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "OK" in result.output
    target = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id).offset(5).limit(1)).one()
    db.session.execute(text("UPDATE audit_events SET summary = 'nothing happened' WHERE id = :id"), {"id": target.id})
    db.session.expire_all()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code != 0
    assert f"BROKEN at event {target.id}" in result.output
    assert "content does not match" in result.output


def test_audit_verify_detects_a_deleted_row(app, world):
    target = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id).offset(3).limit(1)).one()
    target_id = target.id
    db.session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": target_id})
    db.session.expire_all()
    report = verify_chain()
    assert not report.ok
    assert report.broken_at > target_id and report.reason == "previous-hash link does not match"


def test_a_fork_in_the_chain_is_impossible(world):
    last = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
    twin = AuditEvent(created_at=last.created_at, action="x", object_type="X", object_id="1",
                      prev_hash=last.prev_hash, hash="f" * 64, summary="", actor_label="")
    db.session.add(twin)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_fingerprint_noted_earlier_reveals_that_the_newest_events_were_deleted(app, world):
    """Deleting the last events leaves an intact chain; the fingerprint printed earlier shows it."""
    anchor_event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).offset(2).limit(1)).one()
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify", "--anchor", anchor_event.hash])
    assert ok.exit_code == 0 and "1 fingerprint(s) found" in ok.output
    db.session.execute(text("DELETE FROM audit_events WHERE id >= :id"), {"id": anchor_event.id})
    db.session.expire_all()
    assert verify_chain().ok  # the chain alone cannot tell
    report = verify_chain(anchors=[anchor_event.hash.upper()])
    assert not report.ok and report.missing_anchors == (anchor_event.hash,)
    result = runner.invoke(args=["audit", "verify", "--anchor", anchor_event.hash])
    assert result.exit_code != 0 and "anchor not in the chain" in result.output and anchor_event.hash in result.output
