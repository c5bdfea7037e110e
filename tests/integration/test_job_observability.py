"""A job carries the id of the request that enqueued it into the worker's log lines, and
the worker records its duration and outcome where the API's `/metrics` reads them."""

import json

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

from service import jobs
from service.extensions import db
from service.persistence.packets import Packet
from service.usecases.users import create_user
from tests.api.test_metrics import sample
from tests.integration.conftest import start_worker

pytestmark = pytest.mark.integration

REQUEST_ID = "req-packet-7f3a"


def json_lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def request_packet_over_http(live_app, application_id) -> int:
    _, token = create_user(db.session, "admin@example.com", "Avery", "admin")
    response = live_app.test_client().post(
        f"/api/v1/applications/{application_id}/packets",
        json={},
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": REQUEST_ID},
    )
    # The request ran in the fixture's app context: end its transaction, or SQLite (BEGIN
    # IMMEDIATE) keeps the worker waiting for the lock.
    db.session.close()
    assert response.status_code == 202, response.json
    return response.json["id"]


def test_a_packet_render_logs_the_id_of_the_request_that_asked_for_it(
    live_app, submitted_loop, tmp_path
):
    packet_id = request_packet_over_http(live_app, submitted_loop[0])
    with db.new_session() as session:
        job_id = session.get(Packet, packet_id).job_id
    (tmp_path / "metrics").mkdir()
    worker = start_worker(
        live_app,
        "--burst",
        env={
            "LOG_LEVEL": "INFO",
            "LOG_FORMAT": "json",
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        },
    )
    output, _ = worker.communicate(timeout=120)
    assert worker.returncode == 0, output
    lines = json_lines(output)
    of_the_request = [line for line in lines if line["request_id"] == REQUEST_ID]
    assert any(job_id in line["message"] for line in of_the_request), output
    # The calibration refresh the scorecards enqueued came from no request.
    calibration = [line for line in lines if "refresh_calibration" in line["message"]]
    assert calibration and all(line["request_id"] is None for line in calibration)


def test_the_worker_records_job_durations_and_outcomes_in_the_metrics_directory(
    live_app, submitted_loop, tmp_path
):
    request_packet_over_http(live_app, submitted_loop[0])
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    worker = start_worker(live_app, "--burst", env={"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)})
    output, _ = worker.communicate(timeout=120)
    assert worker.returncode == 0, output
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(metrics_dir))
    value = registry.get_sample_value(
        "hiring_job_duration_seconds_count",
        {"function": "workers.jobs.render_packet", "outcome": "success"},
    )
    assert value == 1


def test_jobs_that_failed_for_good_are_counted_per_queue(live_app):
    jobs.enqueue("workers.jobs.render_packet", 999_999, queue_name="packets")  # no such packet
    worker = start_worker(live_app, "--burst")
    output, _ = worker.communicate(timeout=120)
    assert worker.returncode == 0, output
    with live_app.app_context():
        page = live_app.test_client().get("/metrics").get_data(as_text=True)
    assert sample(page, "hiring_failed_jobs", queue="packets") == 1
    assert sample(page, "hiring_failed_jobs", queue="events") == 0
