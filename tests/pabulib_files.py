"""The real Pabulib elections the tests carry under tests/data/pabulib (or $PABULIB_DIR)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CARRIED = Path(__file__).resolve().parent / "data" / "pabulib"


def pabulib_dir() -> Path:
    """The folder of .pb files: tests/data/pabulib unless $PABULIB_DIR names another; absent is a failure."""
    folder = Path(os.environ.get("PABULIB_DIR") or CARRIED).resolve()
    if not folder.is_dir():
        pytest.fail(f"Pabulib folder not found at {folder}")
    return folder
