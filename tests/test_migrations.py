"""Migrations: one head, up → down → up on an empty database, models == migrations, and
0021's backfill and 0022's numbers on data."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import bindparam, create_engine, inspect, make_url, text
from sqlalchemy.exc import DBAPIError

from service.domain.pipeline import joined_stages
from service.domain.self_identification import ANSWER_SETS, QUESTIONS
from service.persistence import Base, migrate
from service.persistence.reports import ENTRY_KINDS
from service.persistence.self_identification import answers_code_sql
from tests.conftest import postgres_url, reset_postgres
from tests.generated_data import generated_database


def test_single_migration_head():
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrations.db'}"
    return empty_postgres_url()


def empty_postgres_url() -> str:
    # Named after the test database, so suites run side by side on one server do not collide.
    base = postgres_url()
    name = f"{make_url(base).database}_migrations"
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    reset_postgres(url)
    return url


def test_upgrade_downgrade_upgrade_on_an_empty_database(empty_database_url):
    migrate.upgrade(empty_database_url)
    migrate.downgrade(empty_database_url, "base")
    engine = create_engine(empty_database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(empty_database_url)
    assert {"users", "applications", "audit_events"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_models_and_migrations_agree(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_audit_triggers_refuse_changes_until_their_downgrade(empty_database_url):
    migrate.upgrade(empty_database_url)
    engine = create_engine(empty_database_url)
    insert = text(
        "INSERT INTO audit_events (action, entity_type, entity_id, at, reason) "
        "VALUES ('x', 'y', 1, CURRENT_TIMESTAMP, '')"
    )
    with engine.begin() as connection:
        connection.execute(insert)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_events"))
    engine.dispose()
    migrate.downgrade(empty_database_url, "0006_stage_change_entries_index")
    with engine.begin() as connection:
        assert connection.execute(text("DELETE FROM audit_events")).rowcount == 1
    engine.dispose()


def test_two_upgrades_at_once_on_postgresql_apply_each_revision_once():
    """Two deploys running `hiring db upgrade` at the same moment: the second waits for the
    first (a transaction's advisory lock) and then finds nothing to do. (SQLite lets one
    writer in at a time by itself.)"""
    empty_database_url = empty_postgres_url()
    import subprocess
    import sys

    code = "import sys; from service.persistence import migrate; migrate.upgrade(sys.argv[1])"
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", code, empty_database_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    engine = create_engine(empty_database_url)
    with engine.connect() as connection:
        current, heads = migrate.pending_heads(connection)
    engine.dispose()
    assert current == heads


def test_the_stages_each_application_entered_are_backfilled_from_its_timeline(
    empty_database_url,
):
    """Migration 0021 on data: `entered_stages` becomes the application's distinct entries
    (applied, moved), sorted; a status change's stage is no entry, and an application
    without entries has none."""
    generated_database(empty_database_url, 60, seed=3)
    engine = create_engine(empty_database_url)
    copy = (
        "INSERT INTO stage_changes (application_id, kind, from_stage, to_stage, from_status, "
        "to_status, actor_id, reason, at) SELECT application_id, {kind}, from_stage, "
        "{to_stage}, from_status, to_status, actor_id, reason, at FROM stage_changes "
        "WHERE id = (SELECT min(id) FROM stage_changes WHERE kind = 'moved')"
    )
    with engine.begin() as connection:
        generated = dict(
            connection.execute(text("SELECT id, entered_stages FROM applications")).all()
        )
        # A move back (a stage entered twice) and a status change naming a stage never entered.
        connection.execute(text(copy.format(kind="kind", to_stage="to_stage")))
        connection.execute(text(copy.format(kind="'withdrawn'", to_stage="'never_entered'")))
        without = connection.scalar(text("SELECT max(id) FROM applications"))
        connection.execute(text(f"DELETE FROM stage_changes WHERE application_id = {without}"))
    migrate.downgrade(empty_database_url, "0020_rating_evidence_chars")
    assert "entered_stages" not in {c["name"] for c in inspect(engine).get_columns("applications")}
    migrate.upgrade(empty_database_url)
    with engine.connect() as connection:
        backfilled = dict(
            connection.execute(text("SELECT id, entered_stages FROM applications")).all()
        )
        entries = connection.execute(
            text(
                "SELECT application_id, to_stage FROM stage_changes WHERE kind IN :kinds"
            ).bindparams(bindparam("kinds", ENTRY_KINDS, expanding=True))
        ).all()
    engine.dispose()
    entered: dict[int, list[str]] = {}
    for application_id, stage in entries:
        entered.setdefault(application_id, []).append(stage)
    assert backfilled == {i: joined_stages(entered.get(i, [])) for i in backfilled}
    assert backfilled == generated | {without: ""}  # as the generator (and the app) writes it
    assert len(set(backfilled.values())) > 3 and "never_entered" not in str(backfilled)


def test_the_database_numbers_every_set_of_answers_as_the_reports_read_it(empty_database_url):
    """Migration 0022: `answers_code` is the index of the row's answers in `ANSWER_SETS`
    (as the reports read it back), for the rows there before it and for every set of
    answers written after it; and the model's expression of it computes the same."""
    generated_database(empty_database_url, 40, seed=5)
    migrate.downgrade(empty_database_url, "0021_application_entered_stages")
    migrate.upgrade(empty_database_url)
    engine = create_engine(empty_database_url)
    columns = ", ".join(QUESTIONS)
    with engine.begin() as connection:
        existing = connection.execute(
            text(f"SELECT {columns}, answers_code FROM self_identifications")
        ).all()
        row_id = connection.scalar(text("SELECT min(id) FROM self_identifications"))
        written = []
        for answers in ANSWER_SETS:
            connection.execute(
                text(
                    "UPDATE self_identifications SET "
                    + ", ".join(f"{q} = :{q}" for q in QUESTIONS)
                    + " WHERE id = :id"
                ),
                {**dict(zip(QUESTIONS, answers, strict=True)), "id": row_id},
            )
            written.append(
                connection.execute(
                    text(
                        f"SELECT answers_code, {answers_code_sql()} "
                        "FROM self_identifications WHERE id = :id"
                    ),
                    {"id": row_id},
                ).one()
            )
    engine.dispose()
    assert len(existing) > 10
    assert [ANSWER_SETS[code] for *_, code in existing] == [tuple(a) for *a, _ in existing]
    assert written == [(code, code) for code in range(len(ANSWER_SETS))]
