"""`flask worker`: deliver the notification outbox."""

from __future__ import annotations

import signal

import click
from flask import Flask


def register_worker_command(app: Flask) -> None:
    @app.cli.command("worker")
    @click.option("--once", is_flag=True, help="Deliver what is due now, then exit (for cron and tests).")
    @click.option("--interval", default=5.0, show_default=True, help="Seconds to wait when nothing is due.")
    def worker(once: bool, interval: float) -> None:
        """Deliver notifications (e-mail, SMS) from the outbox, with retries; safe to run several at once."""
        from deliberation.notifications.worker import run_forever, run_once

        if once:
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
