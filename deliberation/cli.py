"""Command-line interface: flask demo | create-admin | import-residents | audit verify | audit anchor."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from deliberation.core.errors import DomainError
from deliberation.core.inputs import INT_MAX
from deliberation.extensions import db
from deliberation.tally import RULES as TALLY_RULES


def _fail(error: DomainError) -> None:
    db.session.rollback()
    raise click.ClickException(str(error.message))


def register_cli(app: Flask) -> None:
    from deliberation.grids.cli import register_requests_commands
    from deliberation.notifications.cli import notifications_group, register_worker_command

    register_worker_command(app)
    app.cli.add_command(notifications_group)
    register_requests_commands(app)

    @app.cli.command("create-admin")
    @click.option("--login", prompt=True, help="Login name of the site administrator.")
    @click.option("--name", "display_name", prompt="Display name", help="Display name.")
    @click.password_option(help="Password (asked twice if not given).")
    def create_admin(login: str, display_name: str, password: str) -> None:
        """Create a site administrator, who creates communities and appoints their admins."""
        from deliberation.auth import services

        try:
            user = services.create_user(login=login, display_name=display_name, password=password,
                                        is_site_admin=True)
        except DomainError as error:
            _fail(error)
        db.session.commit()
        click.echo(f"Site administrator {user.login} created.")

    @app.cli.command("import-residents")
    @click.argument("community_slug")
    @click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--actor", default=None, help="Login of the community admin recorded as importer.")
    def import_residents(community_slug: str, csv_file: Path, actor: str | None) -> None:
        """Import a residents' roll CSV (building, unit, room, name, phone) into a community."""
        from deliberation.auth.models import User
        from deliberation.communities import services
        from deliberation.communities.models import Community

        community = db.session.scalar(select(Community).where(Community.slug == community_slug))
        if community is None:
            raise click.ClickException(f"No community with slug {community_slug!r}.")
        actor_user = db.session.scalar(User.by_login(actor)) if actor else None
        if actor is not None and actor_user is None:
            raise click.ClickException(f"No user {actor!r}.")
        try:
            report = services.import_roll(community, data=csv_file.read_bytes(), actor=actor_user)
        except DomainError as error:
            _fail(error)
        db.session.commit()
        for problem in report.rejected:
            click.echo(f"line {problem.line}: rejected: {problem.reason} ({problem.text})", err=True)
        click.echo(f"{len(report.imported)} imported, {len(report.unchanged)} already on the roll, "
                   f"{len(report.rejected)} rejected, {report.matching_registrations} waiting registrations "
                   "match the roll (approve them in the verification queue).")

    @app.cli.command("demo")
    @click.option("--if-empty", is_flag=True, help="Do nothing if the database already has communities.")
    def demo(if_empty: bool) -> None:
        """Load the demo community (南山区 桃源社区) and print the demo accounts."""
        from deliberation.communities.models import Community
        from deliberation.demo import DEMO_ACCOUNTS, load_demo

        if db.session.scalar(select(Community).limit(1)) is not None:
            if if_empty:
                click.echo("Database already has data; demo not loaded again.")
                _print_accounts(DEMO_ACCOUNTS)
                return
            raise click.ClickException("The database already has communities; the demo loads into an empty one.")
        summary = load_demo()
        db.session.commit()
        click.echo(summary)
        _print_accounts(DEMO_ACCOUNTS)

    @app.cli.command("tally")
    @click.option("--pb", "pb_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="A Pabulib .pb file (approval, cumulative, ordinal or choose-1 ballots).")
    @click.option("--rule", type=click.Choice([*TALLY_RULES, "equal_shares"]), default=None,
                  help="Counting rule; default: the file's META rule.")
    def tally(pb_file: Path, rule: str | None) -> None:
        """Count a Pabulib election and print the winning project ids, one per line."""
        from deliberation.tally import PbFormatError, winners_from_pb

        try:
            winners = winners_from_pb(pb_file, rule)
        except PbFormatError as error:
            raise click.ClickException(str(error)) from error
        for project_id in winners:
            click.echo(project_id)

    @app.cli.command("export-pb")
    @click.argument("round_id", type=click.IntRange(1, INT_MAX))
    @click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help="File to write (default: standard output).")
    def export_pb(round_id: int, output: Path | None) -> None:
        """Write a counted round in Pabulib .pb format (ballots by receipt hash)."""
        from deliberation.proposals.models import Round
        from deliberation.votes.exports import export_pb as export

        round_ = db.session.get(Round, round_id)
        if round_ is None:
            raise click.ClickException(f"No round {round_id}.")
        try:
            text = export(round_)
        except DomainError as error:
            _fail(error)
        if output:
            output.write_text(text, encoding="utf-8")
            click.echo(f"Wrote {output}.")
        else:
            click.echo(text, nl=False)

    audit_group = AppGroup("audit", help="Audit log commands.")
    app.cli.add_command(audit_group)

    @audit_group.command("verify")
    @click.option("--anchor", "anchors", multiple=True, metavar="FINGERPRINT",
                  help="An audit fingerprint printed on published minutes, vote results, an export or the notice "
                       "board; it must still be in the log. Repeat for several.")
    @click.option("--anchors-file", "anchors_files", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
                  help="A file of anchors 'YYYY-MM-DD COUNT FINGERPRINT', one a line, as the notice board prints "
                       "them (default: instance/audit_anchors.log, written by 'flask audit anchor', if it exists).")
    def audit_verify(anchors: tuple[str, ...], anchors_files: tuple[Path, ...]) -> None:
        """Check the audit log: hash chain, sequence, keyed MACs and published anchors. One line per problem."""
        from deliberation.core.audit_anchors import anchors_file, parse_anchor_lines
        from deliberation.core.audit_verify import verify_chain

        files = list(anchors_files) or ([anchors_file()] if anchors_file().exists() else [])
        lines = []
        for path in files:
            try:
                lines += parse_anchor_lines(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError) as error:
                raise click.ClickException(f"{path}: {error}") from None
        report = verify_chain(anchors=anchors, anchor_lines=lines)
        if report.ok:
            click.echo(f"OK: {report.checked} events, chain, sequence and MACs intact (audit key id "
                       f"{report.key_id})" + (f", {len(anchors)} fingerprint(s) found" if anchors else "")
                       + (f", {len(lines)} anchor(s) from {', '.join(map(str, files))} match" if lines else "") + ".")
            return
        for problem in report.problems:
            click.echo(f"BROKEN: {problem.message}", err=True)
        click.echo(f"{len(report.problems)} problem(s) in {report.checked} events (audit key id {report.key_id}).",
                   err=True)
        raise SystemExit(1)

    @audit_group.command("anchor")
    def audit_anchor() -> None:
        """Publish today's chain head on the notice boards (once a day: run it daily from cron)."""
        from deliberation.core.audit_anchors import append_to_anchors_file, write_daily_anchor

        line, written = write_daily_anchor()
        db.session.commit()
        # A notice-board view may have anchored the day first: the file still gets its line, once.
        path = append_to_anchors_file(line)
        click.echo(f"{'Anchored' if written else 'Today was already anchored'}: {line} (kept in {path}).")


def _print_accounts(accounts) -> None:
    click.echo("Demo accounts (demo only — change or remove before real use):")
    for login, password, role in accounts:
        click.echo(f"  {login:<16} {password:<14} {role}")
