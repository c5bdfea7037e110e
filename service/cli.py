"""The `hiring` command: Flask's CLI plus the project's own commands."""

from __future__ import annotations

import json
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
def calibration_fit(csv_path: str, unit_level: Literal["cell", "candidate"]) -> None:
    """Fit the calibration model on an exported CSV and print JSON (nothing is stored)."""
    from service.domain.calibration import fit
    from service.domain.calibration_io import fit_report, read_ratings_csv

    result = _run(lambda: fit(read_ratings_csv(csv_path), unit_level=unit_level))
    click.echo(json.dumps(fit_report(result), indent=2, allow_nan=False))


@calibration.command("refresh")
@click.option("--full", is_flag=True, help="Refit the variance components too.")
def calibration_refresh(full: bool) -> None:
    """Refit from every submitted rating now, in this process, and store the result."""
    from service.usecases.calibration import refit_calibration

    run = refit_calibration(db.session, full=full)
    if run is None:
        click.echo("nothing to do: data unchanged since the last fit, or too little data")
    else:
        click.echo(f"calibration {run.fitted_with}: {run.n_ratings} ratings in {run.seconds:.2f} s")


@click.command("settings")
@with_appcontext
def show_settings() -> None:
    """Print the effective settings, secrets masked."""
    click.echo(json.dumps(current_app.config["SETTINGS"].masked(), indent=2))


@click.command("demo")
@with_appcontext
def demo() -> None:
    """Create demo users (printing their tokens) and demo data, if the database is empty."""
    from service.demo import seed_demo

    tokens = seed_demo(db.session)
    if not tokens:
        click.echo("database already has users; demo data not created")
        return
    token_file = Path(current_app.instance_path) / "demo-tokens.txt"
    token_file.parent.mkdir(parents=True, exist_ok=True)
    token_file.touch(mode=0o600)
    lines = [f"{role:15} {email:32} {token}" for role, email, token in tokens]
    token_file.write_text("\n".join(lines) + "\n")
    click.echo("demo users (tokens shown once; also saved to " + str(token_file) + "):")
    click.echo("\n".join(lines))


@click.command("demo-packet")
@with_appcontext
def demo_packet() -> None:
    """Complete the demo onsite loop and render its packet (plain and anonymized)."""
    from service.demo import seed_packet_demo
    from service.usecases.packets import request_packet

    application = seed_packet_demo(db.session)
    if application is None:
        raise click.ClickException("no demo data: run `hiring demo` first")
    manager = application.requisition.hiring_manager
    storage_root = Path(current_app.config["SETTINGS"].packet_storage_dir)
    for anonymized in (False, True):
        packet = request_packet(db.session, manager, application.id, anonymized)
        db.session.refresh(packet)
        where = storage_root / packet.storage_key if packet.storage_key else "(not rendered yet)"
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
    for command in (
        database,
        users,
        templates,
        calibration,
        reminders,
        show_settings,
        demo,
        demo_packet,
    ):
        app.cli.add_command(command)


def main() -> None:
    from service import create_app

    FlaskGroup(name="hiring", create_app=create_app, help="hiring-pipeline management").main()
