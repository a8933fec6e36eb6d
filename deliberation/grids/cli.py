"""`flask requests tick`: flag and escalate overdue requests, close unrated ones (cron or the worker).
`flask requests rebuild-rates`: recount the rates' monthly roll-up from the requests."""

from __future__ import annotations

from datetime import datetime

import click
from flask import Flask
from flask.cli import AppGroup

from deliberation.extensions import db


def register_requests_commands(app: Flask) -> None:
    group = AppGroup("requests", help="Resident requests (接诉即办).")

    @group.command("tick")
    @click.option("--now", "now_text", default=None, help="The time to act as of (UTC, ISO 8601); default now.")
    def tick_command(now_text: str | None) -> None:
        """Flag and escalate overdue requests; close requests left unrated for 7 days."""
        from deliberation.grids.services import tick

        try:
            now = datetime.fromisoformat(now_text) if now_text else None
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--now") from None
        if now is not None and now.tzinfo is not None:
            now = (now - now.utcoffset()).replace(tzinfo=None)
        result = tick(now)
        db.session.commit()
        click.echo(f"{result.overdue} overdue and escalated, {result.closed_unrated} closed unrated.")

    @group.command("rebuild-rates")
    @click.option("--community", "slug", default=None, help="Only this community (its slug); default all.")
    def rebuild_rates_command(slug: str | None) -> None:
        """Recount the three rates' monthly roll-up from the requests (repair after bulk edits)."""
        from sqlalchemy import select

        from deliberation.communities.models import Community
        from deliberation.grids.rollup import rebuild

        query = select(Community).order_by(Community.id)
        if slug is not None:
            query = query.where(Community.slug == slug)
        communities = db.session.scalars(query).all()
        if slug is not None and not communities:
            raise click.BadParameter(f"no community {slug!r}", param_hint="--community")
        for community in communities:
            corrected = rebuild(community)
            db.session.commit()
            click.echo(f"{community.slug}: {corrected} roll-up rows corrected.")

    app.cli.add_command(group)
