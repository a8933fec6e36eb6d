"""The sealing helper: fixed-length boxes, unique receipts, opening destroys the key, a changed key refuses."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from deliberation.core import secrecy
from deliberation.core.errors import DomainError
from deliberation.core.secrecy import SealedRow, SealKey
from deliberation.extensions import db


def boxes(scope: str) -> list[bytes]:
    return list(db.session.scalars(select(SealedRow.box).where(SealedRow.scope == scope)))


def test_every_sealed_payload_of_a_scope_has_the_same_length(db_session):
    secrecy.seal("test:1", {"comment": None}, capacity=400)
    secrecy.seal("test:1", {"comment": "很长的意见" * 25}, capacity=400)
    secrecy.seal("test:1", {"choices": [1, 2, 3, 4, 5, 6, 7, 8]}, capacity=400)
    assert len({len(box) for box in boxes("test:1")}) == 1
    assert not any("很长".encode() in box for box in boxes("test:1"))


def test_a_repeated_unique_value_is_refused_at_sealing(db_session):
    assert secrecy.seal("test:2", {"receipt_hash": "a" * 64}, capacity=100, unique="a" * 64)
    assert not secrecy.seal("test:2", {"receipt_hash": "a" * 64}, capacity=100, unique="a" * 64)
    assert secrecy.seal("test:3", {"receipt_hash": "a" * 64}, capacity=100, unique="a" * 64)  # another scope
    assert secrecy.sealed_count("test:2") == 1


def test_opening_returns_every_payload_and_destroys_the_rows_and_the_salt(db_session):
    for n in range(5):
        secrecy.seal("test:4", {"n": n}, capacity=50)
    secrecy.seal("test:5", {"n": 99}, capacity=50)
    assert sorted(p["n"] for p in secrecy.unseal("test:4")) == [0, 1, 2, 3, 4]
    assert not secrecy.is_sealed("test:4") and secrecy.sealed_count("test:4") == 0
    assert secrecy.unseal("test:4") == []
    assert secrecy.sealed_count("test:5") == 1  # other scopes keep theirs
    assert db.session.scalar(select(func.count()).select_from(SealKey)) == 1


def test_a_changed_secret_key_cannot_open_and_destroys_nothing(app, db_session):
    secrecy.seal("test:6", {"n": 1}, capacity=50)
    original = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = "another-key"
    try:
        with pytest.raises(DomainError, match="SECRET_KEY"):
            secrecy.unseal("test:6")
    finally:
        app.config["SECRET_KEY"] = original
    assert secrecy.sealed_count("test:6") == 1
    assert secrecy.unseal("test:6") == [{"n": 1}]
