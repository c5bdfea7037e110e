"""The `hiring` command: Flask's CLI plus the project's own commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext

from service.domain.access import ROLES
from service.domain.errors import DomainError
from service.extensions import db
from service.persistence import migrate

if TYPE_CHECKING:
    from service.domain.templates import InterviewTemplate

database = AppGroup("db", help="Schema migrations (Alembic).")
users = AppGroup("users", help="Users and API tokens.")
templates = AppGroup("templates", help="Interview templates in interview_templates/.")
calibration = AppGroup("calibration", help="Interviewer calibration (rater leniency).")
retention = AppGroup("retention", help="Erase candidates' data once the retention policy says so.")


def _url() -> str:
    url: str = current_app.config["SETTINGS"].database_url
    return url


@database.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Upgrade the schema (default: to the latest revision)."""
    migrate.upgrade(_url(), revision)
    click.echo(f"database at {revision}")


@database.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Downgrade the schema to REVISION (e.g. -1 or base)."""
    migrate.downgrade(_url(), revision)


@database.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models (review it before committing)."""
    from alembic import command

    command.revision(migrate.alembic_config(_url()), message=message, autogenerate=True)


@users.command("create")
@click.argument("email")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
def users_create(email: str, name: str, role: str) -> None:
    """Create a user and print their API token (shown once)."""
    from service.usecases.users import create_user

    user, token = _run(lambda: create_user(db.session, email, name, role))
    click.echo(f"created {user.role} {user.email} (id {user.id})\ntoken: {token}")


@users.command("deactivate")
@click.argument("email")
def users_deactivate(email: str) -> None:
    """Deactivate a user; their tokens stop working at once."""
    from service.usecases.users import deactivate_user, find_user

    user = _run(lambda: deactivate_user(db.session, None, find_user(db.session, email).id))
    click.echo(f"deactivated {user.email}")


@users.command("reactivate")
@click.argument("email")
def users_reactivate(email: str) -> None:
    """Let a deactivated user back in; issue them a new token with rotate-token."""
    from service.usecases.users import find_user, reactivate_user

    user = _run(lambda: reactivate_user(db.session, None, find_user(db.session, email).id))
    click.echo(f"reactivated {user.email}")


@users.command("rotate-token")
@click.argument("email")
def users_rotate_token(email: str) -> None:
    """Revoke a user's tokens and print a new one (shown once)."""
    from service.usecases.users import find_user, rotate_token

    token = _run(lambda: rotate_token(db.session, None, find_user(db.session, email).id))
    click.echo(f"token: {token}")


@users.command("set-password")
@click.argument("email")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of prompting.",
)
def users_set_password(email: str, password_stdin: bool) -> None:
    """Set or reset a user's password for the web pages; their open sessions end."""
    from service.usecases.users import find_user, set_password

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = str(click.prompt("password", hide_input=True, confirmation_prompt=True))
    user = _run(lambda: set_password(db.session, None, find_user(db.session, email).id, password))
    click.echo(f"password set for {user.email}")


@templates.command("check")
@click.argument("folder", required=False, type=click.Path(exists=True, file_okay=False))
def templates_check(folder: str | None) -> None:
    """Validate every template file; exit 1 listing each problem."""
    loaded = _load_templates(folder)
    for template in loaded:
        click.echo(f"ok {template.key} {template.version[:12]} ({template.title})")


@templates.command("sync")
@click.argument("folder", required=False, type=click.Path(exists=True, file_okay=False))
def templates_sync(folder: str | None) -> None:
    """Store new template versions; stored versions are never changed."""
    from service.usecases.templates import sync_templates

    for result in sync_templates(db.session, _load_templates(folder)):
        state = "stored" if result.created else "unchanged"
        click.echo(f"{state} {result.key} {result.version[:12]}")


@calibration.command("fit")
@click.option(
    "--csv",
    "csv_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Columns: unit (or candidate), interviewer, competency, score.",
)
@click.option(
    "--unit-level",
    type=click.Choice(["cell", "candidate"]),
    default="cell",
    show_default=True,
    help="Model unit: candidate × competency cell, or candidate.",
)
@click.option(
    "--model",
    type=click.Choice(["linear", "ordinal"]),
    default=None,
    help="Rater model [the CALIBRATION_MODEL setting].",
)
@with_appcontext
def calibration_fit(
    csv_path: str,
    unit_level: Literal["cell", "candidate"],
    model: Literal["linear", "ordinal"] | None,
) -> None:
    """Fit the calibration model on an exported CSV and print JSON (nothing is stored)."""
    from service.domain.calibration import fit
    from service.domain.calibration_io import fit_report, read_ratings_csv

    chosen = model or current_app.config["SETTINGS"].calibration_model
    result = _run(lambda: fit(read_ratings_csv(csv_path), unit_level=unit_level, model=chosen))
    click.echo(json.dumps(fit_report(result), indent=2, allow_nan=False))


@calibration.command("refresh")
@click.option("--full", is_flag=True, help="Refit the variance components too.")
def calibration_refresh(full: bool) -> None:
    """Refit from every submitted rating now, in this process, and store the result."""
    from service.usecases.calibration import refit_calibration

    run = refit_calibration(
        db.session, full=full, model=current_app.config["SETTINGS"].calibration_model
    )
    if run is None:
        click.echo("nothing to do: data unchanged since the last fit, or too little data")
    else:
        click.echo(f"calibration {run.fitted_with}: {run.n_ratings} ratings in {run.seconds:.2f} s")


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="List who would be erased and why; change nothing.")
def retention_run(dry_run: bool) -> None:
    """Erase every candidate the retention policy makes due (RETENTION_DAYS, or the
    template's retention_days), each with the reason in the audit log."""
    from service.extensions import packet_storage
    from service.usecases.data_protection import due_for_erasure, run_retention

    days = current_app.config["SETTINGS"].retention_days
    if days <= 0:
        raise click.ClickException("retention is off (RETENTION_DAYS=0)")
    if dry_run:
        due = due_for_erasure(db.session, days)
    else:
        due = run_retention(db.session, packet_storage(), days)
    for item in due:
        click.echo(f"candidate {item.candidate_id}: {item.why}")
    verb = "would be erased" if dry_run else "erased"
    click.echo(f"{len(due)} candidate{'s' if len(due) != 1 else ''} {verb}")


@click.command("settings")
@with_appcontext
def show_settings() -> None:
    """Print the effective settings, secrets masked."""
    click.echo(json.dumps(current_app.config["SETTINGS"].masked(), indent=2))


@click.command("demo")
@with_appcontext
def demo() -> None:
    """Create demo users (printing their tokens and passwords) and demo data, if the
    database is empty."""
    from service.demo import seed_demo

    credentials = seed_demo(db.session)
    if not credentials:
        click.echo("database already has users; demo data not created")
        return
    tokens = [(c.role, c.email, c.token) for c in credentials]
    passwords = [(c.role, c.email, c.password) for c in credentials]
    for name, rows, what in (
        ("demo-tokens.txt", tokens, "API tokens"),
        ("demo-passwords.txt", passwords, "passwords for the web pages"),
    ):
        path = Path(current_app.instance_path) / name
        lines = _write_secret_lines(path, rows)
        click.echo(f"demo users' {what} (shown once; also saved to {path}):")
        click.echo("\n".join(lines))


def _write_secret_lines(path: Path, rows: list[tuple[str, str, str]]) -> list[str]:
    """`ROLE EMAIL SECRET` per line, in a file only its owner may read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    lines = [f"{role:15} {email:32} {secret}" for role, email, secret in rows]
    path.write_text("\n".join(lines) + "\n")
    return lines


@click.command("demo-reports")
@with_appcontext
def demo_reports() -> None:
    """Data for the admin's template, fairness and calibration pages (after `hiring demo`)."""
    from sqlalchemy import select

    from service.demo import seed_reports_demo
    from service.persistence.users import User

    if db.session.scalar(select(User.id).where(User.email == "admin@example.com")) is None:
        raise click.ClickException("no demo data: run `hiring demo` first")
    requisition_id = seed_reports_demo(db.session)
    if requisition_id is None:
        click.echo("The reports demo is already there.")
    else:
        click.echo(
            f"Requisition {requisition_id}: self-identified applicants, scored screens, a fit."
        )


@click.command("demo-packet")
@click.option(
    "--long",
    "long_loop",
    is_flag=True,
    help="Instead, a second candidate with eight interviews, long evidence and amendments.",
)
@with_appcontext
def demo_packet(long_loop: bool) -> None:
    """Complete the demo onsite loop and render its packet (plain and anonymized)."""
    from service.demo import seed_long_packet_demo, seed_packet_demo
    from service.extensions import packet_storage
    from service.usecases.packets import request_packet

    application = (seed_long_packet_demo if long_loop else seed_packet_demo)(db.session)
    if application is None:
        raise click.ClickException("no demo data: run `hiring demo` first")
    manager = application.requisition.hiring_manager
    storage = packet_storage()
    for anonymized in (False, True):
        packet = request_packet(db.session, manager, application.id, anonymized)
        db.session.refresh(packet)
        where = storage.describe(packet.storage_key) if packet.storage_key else "(not rendered yet)"
        kind = "anonymized" if anonymized else "named"
        click.echo(
            f"{kind} packet {packet.id} v{packet.version}: {packet.status}, "
            f"{packet.page_count} pages, {where}"
        )
    if current_app.config["SETTINGS"].redis_url:
        click.echo("rendering happens in the RQ workers: run `python -m workers`")


@click.group("reminders")
def reminders() -> None:
    """Scorecard reminders, stage targets, the outbox and digests."""


@reminders.command("run")
@click.option("--digests", is_flag=True, help="Send the daily digests now too.")
@with_appcontext
def run_reminders(digests: bool) -> None:
    """One pass of what the workers' periodic jobs do: announce due reminders, deliver
    every pending event (and retry lost deliveries and emails), optionally the digests."""
    from service.usecases.notifications import send_digests, sweep
    from service.usecases.reminders import run_reminders as announce

    settings = current_app.config["SETTINGS"]
    counts = announce(db.session)
    counts.update(sweep(db.session, settings))
    if digests:
        counts["digests"] = send_digests(db.session, settings)
    click.echo(json.dumps(counts))


def _load_templates(folder: str | None) -> list[InterviewTemplate]:
    from service.domain.template_loading import (
        TEMPLATE_DIR,
        TemplateInvalidError,
        load_template_dir,
    )

    try:
        return load_template_dir(Path(folder) if folder else TEMPLATE_DIR)
    except TemplateInvalidError as error:
        raise click.ClickException("\n".join(error.messages)) from None


def _run(operation):
    try:
        return operation()
    except DomainError as error:
        raise click.ClickException(error.detail) from None


def register_commands(app: Flask) -> None:
    commands = (
        database,
        users,
        templates,
        calibration,
        retention,
        reminders,
        show_settings,
        demo,
        demo_packet,
        demo_reports,
    )
    for command in commands:
        app.cli.add_command(command)


def main() -> None:
    from service import create_app

    FlaskGroup(name="hiring", create_app=create_app, help="hiring-pipeline management").main()
