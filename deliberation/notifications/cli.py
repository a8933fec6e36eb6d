"""`flask worker`: deliver the notification outbox and run the periodic jobs; `flask notifications tick`:
run the periodic jobs once (for cron)."""

from __future__ import annotations

import signal
from datetime import datetime

import click
from flask import Flask
from flask.cli import AppGroup


def register_worker_command(app: Flask) -> None:
    @app.cli.command("worker")
    @click.option("--once", is_flag=True, help="Run the periodic jobs and deliver what is due now, then exit.")
    @click.option("--interval", default=5.0, show_default=True, help="Seconds to wait when nothing is due.")
    def worker(once: bool, interval: float) -> None:
        """Deliver notifications (e-mail, SMS) from the outbox, with retries, and run the periodic jobs at most
        once a minute; safe to run several at once."""
        from deliberation.notifications.worker import run_forever, run_once

        if once:
            from deliberation.notifications.periodic import run_jobs

            run_jobs()
            total = 0
            while claimed := run_once():
                total += claimed
            click.echo(f"{total} deliveries attempted.")
            return
        stopping = []

        def stop(_signum, _frame):
            stopping.append(True)  # finish the delivery in hand, then exit

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        click.echo("Notification worker started.")
        run_forever(interval=interval, should_stop=lambda: bool(stopping))
        click.echo("Notification worker stopped.")


notifications_group = AppGroup("notifications", help="Notification jobs.")


@notifications_group.command("tick")
@click.option("--at", "at", default=None, help="Run as if it were this UTC time (YYYY-MM-DDTHH:MM), for tests.")
def tick(at: str | None) -> None:
    """Run every periodic job once (reminders, overdue requests...), each in its own transaction."""
    from deliberation.notifications.periodic import run_jobs

    now = datetime.fromisoformat(at) if at else None
    results = run_jobs(now)
    for path, ok in results.items():
        click.echo(f"{path}: {'ok' if ok else 'FAILED (see the log)'}")
    if not all(results.values()):
        raise SystemExit(1)
