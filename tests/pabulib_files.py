"""The real Pabulib elections the tests carry under tests/data/pabulib (public files, source named there)."""

from __future__ import annotations

from pathlib import Path

import pytest

CARRIED = Path(__file__).resolve().parent / "data" / "pabulib"


def pabulib_dir() -> Path:
    """The folder of .pb files the tests carry; its absence is a failure, not a skip."""
    if not CARRIED.is_dir():
        pytest.fail(f"Pabulib folder not found at {CARRIED}")
    return CARRIED
