"""Migration 0009 on data: decisions recorded before it become a superseded chain."""

from sqlalchemy import create_engine, text

from service.persistence import migrate


def test_existing_decisions_become_one_current_and_a_superseded_chain(tmp_path):
    url = f"sqlite:///{tmp_path / 'decisions.db'}"
    migrate.upgrade(url, "0006_stage_change_entries_index")
    engine = create_engine(url)  # no foreign keys enforced: only the decisions rows matter
    with engine.begin() as connection:
        for id_, application_id, at in ((1, 7, "01"), (2, 7, "02"), (3, 8, "03"), (4, 7, "04")):
            connection.execute(
                text(
                    "INSERT INTO decisions (id, application_id, decided_by_id, outcome, "
                    "rationale, against_majority, created_at) VALUES "
                    "(:id, :application_id, 1, 'hire', '', 0, :at)"
                ),
                {"id": id_, "application_id": application_id, "at": f"2026-01-{at} 10:00:00"},
            )
    migrate.upgrade(url, "0009_decisions_supersede")
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT id, version, supersedes_id, superseded_at, reason <> '' "
                "FROM decisions ORDER BY id"
            )
        ).all()
    engine.dispose()
    assert rows == [
        (1, 1, None, "2026-01-02 10:00:00", 0),
        (2, 2, 1, "2026-01-04 10:00:00", 1),
        (3, 1, None, None, 0),
        (4, 3, 2, None, 1),
    ]
