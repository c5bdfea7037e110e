"""The bench at its smallest size, so it cannot rot: generator, one API figure, calibration, JSON."""

from __future__ import annotations

import json

from bench import run
from tests.generated_data import generated_database


def test_bench_smoke_run_reports_every_figure_beside_its_baseline(tmp_path):
    result = run.smoke(tmp_path, applications=200, requests=10)

    assert set(result) >= {
        "date",
        "commit",
        "command",
        "machine",
        "settings",
        "figures",
        "not_measured",
        "raw",
    }
    assert result["raw"]["generator"]["rows"]["scorecard_ratings"] > 0
    names = {(f["section"], f["name"]) for f in result["figures"]}
    assert {
        ("api", "get_application throughput"),
        ("api", "get_application p99"),
        ("calibration", "full REML fit"),
        ("calibration", "BLUP refresh"),
    } <= names
    for figure in result["figures"]:
        assert figure["baseline"] > 0 and figure["ratio"] is not None, figure
    api = result["raw"]["api"]["200"]
    assert api["get_application"]["errors"] == 0
    assert api["get_application"]["baseline"]["before"]["errors"] == 0
    (model,) = result["raw"]["calibration"]
    assert model["others_cores"] >= -0.5 and model["stolen_cores"] >= 0  # measured beside it
    json.dumps(result)  # the report is plain JSON


def test_generator_is_deterministic_for_a_seed(tmp_path):

    counts = []
    for name in ("a", "b"):
        summary = generated_database(f"sqlite:///{tmp_path / name}.db", 60, seed=3)
        counts.append(summary["rows"])
    assert counts[0] == counts[1]


def test_the_generator_adds_a_busy_requisition_of_active_applications(tmp_path):
    from sqlalchemy import create_engine, func, select

    from service.persistence.applications import Application

    url = f"sqlite:///{tmp_path / 'busy.db'}"
    summary = generated_database(url, 60, seed=3, busy_requisition=25)
    engine = create_engine(url)
    with engine.connect() as connection:
        busiest = connection.execute(
            select(
                Application.requisition_id, func.count(), func.count(Application.stage.distinct())
            )
            .where(Application.status == "active")
            .group_by(Application.requisition_id)
            .order_by(func.count().desc())
            .limit(1)
        ).one()
    engine.dispose()
    assert busiest[1] == 25 and busiest[2] == 5  # spread over every stage but the offer
    assert summary["rows"]["applications"] == 85


def test_a_generated_database_is_reused_only_while_it_holds_what_was_generated(tmp_path):
    """A bench run adds interviews, scorecards and applications to the database it
    measures; the next run must not measure those as if they were generated."""
    from sqlalchemy import create_engine, text

    url = f"sqlite:///{tmp_path / 'reused.db'}"
    summary = generated_database(url, 60, seed=3, busy_requisition=5)
    assert summary["rows"]["requisitions"] == summary["requisitions"] + 1  # the busy one
    assert run._as_generated(url, summary["rows"])
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO stage_changes (application_id, kind, from_stage, to_stage, "
                "from_status, to_status, actor_id, reason, at) SELECT application_id, kind, "
                "from_stage, to_stage, from_status, to_status, actor_id, reason, at "
                "FROM stage_changes WHERE id = (SELECT min(id) FROM stage_changes)"
            )
        )
    engine.dispose()
    assert not run._as_generated(url, summary["rows"])
