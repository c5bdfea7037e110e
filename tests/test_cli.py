"""The `hiring` command: users, templates, settings, demo."""

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from service import create_app
from service.config import Settings
from service.domain.errors import AuthenticationError
from service.persistence.base import utcnow
from service.persistence.outbox import OutboxEvent
from service.persistence.requisitions import Requisition
from service.persistence.templates import TemplateVersion
from service.usecases.users import authenticate
from tests.factories import ApplicationFactory, InterviewFactory, RequisitionFactory


@pytest.fixture
def cli(app, session, session_factory):
    original = app.extensions["db"]
    app.extensions["db"] = session_factory
    yield app.test_cli_runner()
    app.extensions["db"] = original


def test_users_create_prints_a_working_token(cli, session):
    result = cli.invoke(args=["users", "create", "Pat@Example.com", "Pat", "--role", "recruiter"])
    assert result.exit_code == 0, result.output
    token = result.output.split("token: ")[1].strip()
    assert authenticate(session, token).email == "pat@example.com"


def test_users_create_refuses_a_taken_email(cli):
    cli.invoke(args=["users", "create", "pat@example.com", "Pat", "--role", "recruiter"])
    result = cli.invoke(args=["users", "create", "pat@example.com", "Pat", "--role", "admin"])
    assert result.exit_code == 1
    assert "already exists" in result.output


def test_users_deactivate_and_rotate_token(cli, session):
    created = cli.invoke(
        args=["users", "create", "kim@example.com", "Kim", "--role", "interviewer"]
    )
    old = created.output.split("token: ")[1].strip()
    rotated = cli.invoke(args=["users", "rotate-token", "kim@example.com"])
    new = rotated.output.split("token: ")[1].strip()
    assert new != old
    assert authenticate(session, new).email == "kim@example.com"
    assert cli.invoke(args=["users", "deactivate", "kim@example.com"]).exit_code == 0
    with pytest.raises(AuthenticationError):
        authenticate(session, new)


def test_unknown_user_is_a_clear_error(cli):
    result = cli.invoke(args=["users", "deactivate", "nobody@example.com"])
    assert result.exit_code == 1
    assert "No user with email nobody@example.com" in result.output


def test_templates_check_accepts_the_shipped_templates(cli):
    result = cli.invoke(args=["templates", "check"])
    assert result.exit_code == 0, result.output
    assert "ok backend_engineer" in result.output


def test_templates_check_reports_file_and_path(cli, tmp_path):
    (tmp_path / "broken.yaml").write_text("key: broken\ntitle: 3\n")
    result = cli.invoke(args=["templates", "check", str(tmp_path)])
    assert result.exit_code == 1
    assert "broken.yaml:" in result.output


def test_templates_sync_stores_nothing_new_for_unchanged_templates(cli, session):
    before = session.scalar(select(func.count(TemplateVersion.id)))
    result = cli.invoke(args=["templates", "sync"])
    assert result.exit_code == 0
    assert "unchanged backend_engineer" in result.output
    assert session.scalar(select(func.count(TemplateVersion.id))) == before


def test_templates_sync_never_changes_a_pinned_version(cli, session, tmp_path):
    requisition = RequisitionFactory()
    pinned = dict(requisition.template_version.content)
    source = tmp_path / "backend_engineer.yaml"
    from service.domain.template_loading import TEMPLATE_DIR

    source.write_text(
        (TEMPLATE_DIR / "backend_engineer.yaml")
        .read_text()
        .replace("title: Backend Software Engineer", "title: Backend Engineer (revised)", 1)
    )
    result = cli.invoke(args=["templates", "sync", str(tmp_path)])
    assert "stored backend_engineer" in result.output
    session.expire_all()
    assert session.get(Requisition, requisition.id).template_version.content == pinned


def test_settings_masks_secrets(tmp_path):
    settings = replace(
        Settings.from_env(tmp_path, env={}),
        database_url="postgresql+psycopg://app:s3cret@db.internal/hiring",
        secret_key="very-secret",
    )
    runner = create_app({"SETTINGS": settings}).test_cli_runner()
    output = json.loads(runner.invoke(args=["settings"]).output)
    assert "s3cret" not in json.dumps(output) and "very-secret" not in json.dumps(output)
    assert output["database_url"] == "postgresql+psycopg://app:***@db.internal/hiring"
    assert output["redis_url"] is None


def test_default_settings_are_embedded(tmp_path):
    settings = Settings.from_env(tmp_path, env={})
    assert settings.database_url == f"sqlite:///{tmp_path / 'hiring.db'}"
    assert settings.redis_url is None
    assert settings.packet_storage_dir == str(tmp_path / "packets")


def test_demo_creates_users_once(cli, session, app):
    first = cli.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "recruiter@example.com" in first.output
    assert session.scalar(select(func.count(Requisition.id))) >= 2
    second = cli.invoke(args=["demo"])
    assert "already has users" in second.output


def test_calibration_fit_prints_the_published_penicillin_fit(cli):
    from pathlib import Path

    csv_path = Path(__file__).parent / "domain" / "data" / "penicillin_ratings.csv"
    result = cli.invoke(
        args=[
            "calibration",
            "fit",
            "--csv",
            str(csv_path),
            "--unit-level",
            "candidate",
            "--model",
            "linear",
        ]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert round(report["reml_criterion"], 4) == 330.8606
    assert {
        "variance_components",
        "interviewers",
        "connected_components",
        "reliability",
    } <= report.keys()
    assert len(report["interviewers"]) == 6


def test_calibration_fit_names_the_bad_row(cli, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("unit,interviewer,competency,score\na,x,coding,3\nb,y,coding,high\n")
    result = cli.invoke(args=["calibration", "fit", "--csv", str(bad)])
    assert result.exit_code == 1
    assert "3" in result.output and "score" in result.output


def test_retention_run_lists_then_erases_who_is_due(cli, session, app):
    from datetime import timedelta

    from service.persistence.base import utcnow
    from service.persistence.candidates import Candidate
    from tests.factories import CandidateFactory

    old = CandidateFactory(created_at=utcnow() - timedelta(days=400))
    kept = CandidateFactory(
        created_at=utcnow() - timedelta(days=400), keep_until=utcnow() + timedelta(days=30)
    )
    fresh = CandidateFactory()
    session.flush()
    dry = cli.invoke(args=["retention", "run", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"candidate {old.id}: no application in 365 days" in dry.output
    assert f"candidate {kept.id}" not in dry.output and f"candidate {fresh.id}" not in dry.output
    assert session.get(Candidate, old.id).erased_at is None  # a dry run changes nothing
    done = cli.invoke(args=["retention", "run"])
    assert done.exit_code == 0, done.output
    assert "1 candidate erased" in done.output
    session.expire_all()
    assert session.get(Candidate, old.id).erased_at is not None
    assert session.get(Candidate, kept.id).erased_at is None


def test_demo_gives_each_user_a_password_saved_beside_the_tokens(cli, session, app):
    from pathlib import Path

    from service.usecases.users import sign_in_with_password

    result = cli.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    lines = (Path(app.instance_path) / "demo-passwords.txt").read_text().splitlines()
    rows = [line.split() for line in lines]
    assert {role for role, _, _ in rows} == {"admin", "recruiter", "hiring_manager", "interviewer"}
    role, email, password = rows[0]
    assert password in result.output  # printed once
    assert sign_in_with_password(session, email, password).role == role
    assert oct((Path(app.instance_path) / "demo-passwords.txt").stat().st_mode)[-3:] == "600"


def test_set_password_reads_it_from_stdin_and_the_user_can_sign_in(cli, session):
    from service.usecases.users import sign_in_with_password
    from tests.factories import UserFactory

    user = UserFactory(role="interviewer")
    result = cli.invoke(
        args=["users", "set-password", user.email, "--password-stdin"],
        input="a long enough passphrase\n",
    )
    assert result.exit_code == 0, result.output
    assert sign_in_with_password(session, user.email, "a long enough passphrase").id == user.id


def test_set_password_refuses_a_short_one_naming_the_rule(cli, session):
    from tests.factories import UserFactory

    user = UserFactory(role="interviewer")
    result = cli.invoke(
        args=["users", "set-password", user.email, "--password-stdin"], input="short\n"
    )
    assert result.exit_code != 0
    assert "at least 12" in result.output


def test_set_password_prompts_twice_when_not_given_on_stdin(cli, session):
    from service.usecases.users import sign_in_with_password
    from tests.factories import UserFactory

    user = UserFactory(role="interviewer")
    typed = "typed at the prompt twice"
    result = cli.invoke(args=["users", "set-password", user.email], input=f"{typed}\n{typed}\n")
    assert result.exit_code == 0, result.output
    assert typed not in result.output  # hidden input
    assert sign_in_with_password(session, user.email, typed).id == user.id


def test_the_demo_candidate_applied_before_any_interview(cli, session):
    from service.persistence.applications import Application, timeline_of
    from service.persistence.interviews import Interview

    assert cli.invoke(args=["demo"]).exit_code == 0
    application = session.scalar(select(Application).order_by(Application.id).limit(1))
    entered = {c.to_stage: c.at for c in timeline_of(session, application.id)}
    assert list(entered.values()) == sorted(entered.values())
    template = application.template
    for interview in session.scalars(
        select(Interview).where(Interview.application_id == application.id)
    ):
        stage = template.interview(interview.interview_key).stage
        assert application.created_at < entered[stage] < interview.starts_at, interview.id


def test_the_long_demo_packet_is_made_ahead_and_keeps_every_word(cli, session, app):
    import subprocess
    from pathlib import Path

    from service.demo import LONG_TOKEN
    from service.persistence.packets import Packet

    assert cli.invoke(args=["demo"]).exit_code == 0
    result = cli.invoke(args=["demo-packet", "--long"])
    assert result.exit_code == 0, result.output
    named = session.scalar(
        select(Packet).where(Packet.anonymized.is_(False)).order_by(Packet.version.desc())
    )
    assert (named.status, named.requested_by_id) == ("ready", None)  # made ahead, then found
    assert len(named.content["interviews"]) == 8
    amended = [i for i in named.content["interviews"] if len(i["revisions"]) > 1]
    assert [r["changes"][0]["score_to"] for i in amended for r in i["revisions"][1:]] == [2, None]
    pdf = Path(app.config["SETTINGS"].packet_storage_dir, named.storage_key).read_bytes()
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert "".join(text.split()).count(LONG_TOKEN) >= 8


def test_reminders_run_announces_due_steps_once_without_redis(cli, session):
    InterviewFactory(starts_at=utcnow() - timedelta(hours=30))  # ended 29 h ago, owed
    stuck = ApplicationFactory()
    stuck.stage_entered_at = utcnow() - timedelta(days=90)
    session.flush()
    first = cli.invoke(args=["reminders", "run"])
    assert first.exit_code == 0, first.output
    counts = json.loads(first.output.strip().splitlines()[-1])
    assert counts["scorecard_steps"] == 3  # due, overdue, the latest reminder reached
    assert counts["stage_overdue"] >= 1
    again = json.loads(cli.invoke(args=["reminders", "run"]).output.strip().splitlines()[-1])
    assert (again["scorecard_steps"], again["stage_overdue"]) == (0, 0)
    types = set(
        session.scalars(select(OutboxEvent.type).where(OutboxEvent.dispatched_at.is_(None)))
    )
    assert types == set(), "the pass also dispatched what it announced"
