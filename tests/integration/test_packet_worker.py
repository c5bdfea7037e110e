"""Packets through real Redis and real `python -m workers` processes: render, duplicate
requests, a worker killed mid-render, and a transient database failure retried."""

import contextlib
import os
import signal
import sqlite3
import subprocess
import threading
import time

from rq import Worker
from rq.job import Job

from service import jobs
from service.extensions import db
from service.persistence.packets import Packet
from service.usecases import packets
from tests.integration.conftest import start_worker


def packet_row(packet_id):
    with db.new_session() as session:
        return session.get(Packet, packet_id)


def wait_for(predicate, timeout=60.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def kill_hard(pid: int) -> None:
    """SIGKILL a worker and its work horses (RQ puts each horse in a session of its own).
    A process that has already gone is not an error: calling this twice is safe."""
    children = subprocess.run(
        ["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False
    ).stdout
    for process in [*map(int, children.split()), pid]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process, signal.SIGKILL)


def request(application_id, manager_id, anonymized=False):
    with db.new_session() as session:
        from service.persistence.users import User

        return packets.request_packet(
            session, session.get(User, manager_id), application_id, anonymized
        ).id


def test_real_worker_renders_a_queued_packet(live_app, submitted_loop):
    packet_id = request(*submitted_loop)
    assert packet_row(packet_id).status == "queued"
    worker = start_worker(live_app, "--burst")
    output, _ = worker.communicate(timeout=120)
    assert worker.returncode == 0, output
    packet = packet_row(packet_id)
    assert packet.status == "ready", packet.error
    assert packet.page_count >= 2 and len(packet.sha256) == 64
    assert (live_app.extensions["storage"].get(packet.storage_key))[:5] == b"%PDF-"


def test_a_packets_worker_renders_and_leaves_the_other_queues_alone(live_app, submitted_loop):
    packet_id = request(*submitted_loop)
    jobs.enqueue("workers.jobs.reap_abandoned_packets", queue_name="default")
    waiting = jobs.queue("default").get_job_ids()  # the refit the loop's scores asked for, too
    worker = start_worker(live_app, "--burst", "packets")
    output, _ = worker.communicate(timeout=120)
    assert worker.returncode == 0, output
    assert packet_row(packet_id).status == "ready"
    assert jobs.queue("default").get_job_ids() == waiting  # left for a worker that serves it


def test_a_worker_refuses_a_queue_that_does_not_exist(live_app):
    worker = start_worker(live_app, "--burst", "pakets")
    output, _ = worker.communicate(timeout=60)
    assert worker.returncode != 0
    assert "unknown queue pakets: the queues are packets, default, events" in output


def test_concurrent_requests_give_one_packet_and_one_job(live_app, submitted_loop):
    barrier = threading.Barrier(4)
    ids = []

    def ask():
        with live_app.app_context():
            barrier.wait()
            ids.append(request(*submitted_loop))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 1
    assert len(jobs.queue("packets").get_jobs()) == 1


def test_a_worker_killed_mid_render_is_retried_after_the_lease(live_app, submitted_loop):
    lease = 2
    packet_id = request(*submitted_loop)
    # Both workers reap every second, as one deployment's workers share their settings:
    # a run claimed by the first worker's scheduler holds back the others for one period.
    reap_every_second = {"PACKET_REAP_INTERVAL_SECONDS": "1"}
    worker = start_worker(live_app, env=reap_every_second)
    try:
        assert wait_for(lambda: packet_row(packet_id).status == "rendering"), "never started"
        kill_hard(worker.pid)  # the worker and its work horse: no clean-up at all
    finally:
        kill_hard(worker.pid)  # again, in case the wait failed: never leave it running
        worker.communicate(timeout=10)
    killed_at = time.monotonic()
    assert packet_row(packet_id).status == "rendering", "the render finished before the kill"

    # Restarted at once, before the lease ran out: its check at start finds nothing, and
    # nobody reads the packet. Its periodic reaper must find the packet on its own.
    rescue = start_worker(live_app, env=reap_every_second)
    try:
        # Its start-up (imports, WeasyPrint warm-up) takes from seconds to tens of seconds
        # on a loaded machine; once it listens, the reaper's 1-second period applies (the
        # default period is 30 s), and the lease must have run out.
        connection = jobs.queue("packets").connection
        listening = lambda: any(w.pid == rescue.pid for w in Worker.all(connection=connection))  # noqa: E731
        assert wait_for(listening, timeout=90), "the new worker never started listening"
        listening_at = max(time.monotonic(), killed_at + lease)
        assert wait_for(lambda: packet_row(packet_id).status != "rendering", timeout=60)
        assert time.monotonic() - listening_at < 1 + 10
        assert wait_for(lambda: packet_row(packet_id).status == "ready", timeout=90)
    finally:
        os.killpg(rescue.pid, signal.SIGTERM)
        output, _ = rescue.communicate(timeout=30)
    packet = packet_row(packet_id)
    assert (packet.status, packet.attempts) == ("ready", 2), output


def test_a_transient_database_failure_is_retried_with_back_off(live_app, submitted_loop, tmp_path):
    packet_id = request(*submitted_loop)
    database = live_app.config["SETTINGS"].database_url.removeprefix("sqlite:///")
    blocker = sqlite3.connect(database, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # the worker's first write times out: "database is locked"
    worker = start_worker(live_app, env={"SQLITE_BUSY_TIMEOUT_MS": "300"})
    try:
        job = Job.fetch(f"packet-{packet_id}-1", connection=jobs.queue("packets").connection)
        assert wait_for(lambda: job.get_status(refresh=True) == "scheduled", timeout=60), (
            job.get_status()
        )
        blocker.execute("ROLLBACK")
        assert wait_for(lambda: packet_row(packet_id).status == "ready", timeout=60)
        job.refresh()
        assert job.retries_left == 2, "one retry was used"
    finally:
        blocker.close()
        os.killpg(worker.pid, signal.SIGTERM)
        worker.communicate(timeout=30)


def test_redis_down_at_request_time_loses_nothing(live_app, submitted_loop, redis_url, caplog):
    jobs.configure("redis://127.0.0.1:1/0")  # nothing listens there
    packet_id = request(*submitted_loop)
    assert packet_row(packet_id).status == "queued"
    assert "could not enqueue workers.jobs.render_packet" in caplog.text

    jobs.configure(redis_url)  # Redis is back; nobody asks for the packet again
    worker = start_worker(live_app, env={"PACKET_REAP_INTERVAL_SECONDS": "1"})
    try:
        assert wait_for(lambda: packet_row(packet_id).status == "ready", timeout=90)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    assert packet_row(packet_id).attempts == 1, output


def demo_loop(live_app):
    """`hiring demo` and the demo onsite, every scorecard submitted (committed); jobs went
    to Redis and no worker has run. Returns (application id, hiring manager id)."""
    from service.demo import seed_demo, seed_packet_demo

    seed_demo(db.session)
    application = seed_packet_demo(db.session)
    ids = application.id, application.requisition.hiring_manager_id
    db.session.close()
    return ids


def packets_of(application_id):
    with db.new_session() as session:
        return packets.packets_of(session, application_id)


def run_burst(live_app):
    worker = start_worker(live_app, "--burst")
    output, _ = worker.communicate(timeout=180)
    assert worker.returncode == 0, output


def test_the_last_scorecard_of_a_loop_has_its_packet_rendered_before_anyone_asks(live_app):
    application_id, manager_id = demo_loop(live_app)
    assert packets_of(application_id) == []  # queued work only: nothing made in the request
    run_burst(live_app)
    (ready,) = packets_of(application_id)
    assert (ready.status, ready.requested_by_id, ready.anonymized) == ("ready", None, False)

    # The hiring manager's request finds it: the same packet, no second render.
    assert request(application_id, manager_id) == ready.id
    assert packet_row(ready.id).attempts == 1
    assert jobs.queue("packets").get_jobs() == []


def test_an_amendment_after_the_loop_completed_renders_the_new_packet_ahead(live_app):
    from service.persistence.interviews import Interview
    from service.persistence.users import User
    from service.usecases import scorecards

    application_id, manager_id = demo_loop(live_app)
    run_burst(live_app)
    (first,) = packets_of(application_id)
    with db.new_session() as session:
        kim = session.query(User).filter_by(email="kim@example.com").one()
        interview = session.query(Interview).filter_by(interviewer_id=kim.id).one()
        current = scorecards.get_scorecard(session, kim, interview.id).current
        scorecards.amend_scorecard(
            session,
            kim,
            interview.id,
            {
                "recommendation": "no",
                "summary": current.summary,
                "ratings": [
                    {"competency": r.competency, "score": r.score, "evidence": r.evidence}
                    for r in current.ratings
                ],
                "reason": "Slept on it: the design gap is real but not a strong no.",
            },
        )
    run_burst(live_app)
    made = packets_of(application_id)
    assert [(p.version, p.status) for p in made] == [(1, "ready"), (2, "ready")]
    assert request(application_id, manager_id) == made[1].id != first.id
    assert {p.input_digest for p in made} == {first.input_digest, made[1].input_digest}
