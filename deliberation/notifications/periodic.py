"""Periodic jobs: functions `fn(now)` (now: naive UTC) that `flask worker` runs at most once a minute
and `flask notifications tick` runs once (for cron). Each job runs in its own transaction: a job that
fails is rolled back and logged and does not stop the others.

Several workers (on several hosts) each run the jobs, so a job must be safe to run twice at once: claim
what it acts on with a conditional UPDATE (see `jobs.voting_closing_reminders`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from importlib import import_module

from deliberation.core.models import utcnow
from deliberation.extensions import db

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 60

# "module:function"; imported when run, so that a job's area may import the notifications freely.
JOBS: list[str] = [
    "deliberation.notifications.jobs:voting_closing_reminders",
    "deliberation.grids.services:tick",
]


def job(path: str) -> Callable[[datetime], object]:
    module, name = path.split(":")
    return getattr(import_module(module), name)


def run_jobs(now: datetime | None = None) -> dict[str, bool]:
    """Run every job once, each committed on its own; returns whether each succeeded."""
    now = now or utcnow()
    results = {}
    for path in JOBS:
        try:
            job(path)(now)
            db.session.commit()
        except Exception:  # one broken job must not stop the others or the deliveries
            db.session.rollback()
            log.exception("periodic job %s failed", path)
            results[path] = False
        else:
            results[path] = True
    return results
