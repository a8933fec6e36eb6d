"""Run the same action from many threads at once, each with its own session, and report how each ended."""

from __future__ import annotations

import threading
from collections.abc import Callable

from deliberation.core.errors import DomainError
from deliberation.extensions import db


def race(app, actions: list[Callable[[], None]], *, timeout: float = 120) -> list[str]:
    """Start every action together (a barrier), each in its own thread and app context, and commit
    what it did. Returns one outcome per action: "done", "refused" (a DomainError) or the name of
    any other exception (a lock timeout, say), rolled back like a refusal."""
    start = threading.Barrier(len(actions))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(action: Callable[[], None]) -> None:
        start.wait(timeout=60)  # before touching the database, so no thread holds a pooled connection
        with app.app_context():
            try:
                action()
                db.session.commit()
                outcome = "done"
            except DomainError:
                db.session.rollback()
                outcome = "refused"
            except Exception as error:  # a lost race surfacing at commit is still no second row
                db.session.rollback()
                outcome = type(error).__name__
            finally:
                db.session.remove()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return outcomes
