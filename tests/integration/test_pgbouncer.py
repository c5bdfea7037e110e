"""The service through PgBouncer in transaction mode (Debian's pgbouncer, started here on
a loopback port in front of the test PostgreSQL), with DATABASE_PREPARED_STATEMENTS=off:
the API's main flow and a packet render, each transaction on whichever server
connection the pool hands out."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError

from service import create_app, jobs
from service.config import Settings
from service.domain.template_loading import TEMPLATE_DIR, load_template_dir
from service.extensions import db, make_engine
from service.persistence import migrate
from service.persistence.base import utcnow
from service.persistence.users import User
from service.usecases import interviews
from service.usecases.templates import sync_templates
from service.usecases.users import create_user
from tests.integration.conftest import _fresh_postgres_database

PGBOUNCER = "/usr/sbin/pgbouncer"  # scripts/install-system-deps.sh installs it
EVIDENCE = "Explained the retry design, named the idempotency key and tested the timeout path."


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def bouncer_url():
    """A fresh database, migrated directly (as a deploy does), and the URL of a PgBouncer in
    transaction mode in front of it with a pool of three server connections, handed out in
    turn (`server_round_robin`) so consecutive transactions of one client land on
    different server connections."""
    direct_url, drop = _fresh_postgres_database()
    migrate.upgrade(direct_url)
    direct = make_url(direct_url)
    port = free_port()
    folder = tempfile.mkdtemp(prefix="pgbouncer-")
    os.chmod(folder, 0o755)  # run as the postgres user, it must read its files
    server_password = f" password={direct.password}" if direct.password else ""
    config = {
        "pgbouncer.ini": f"""[databases]
hiring = host={direct.host} port={direct.port or 5432} dbname={direct.database} user={direct.username}{server_password}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder}/users.txt
pool_mode = transaction
default_pool_size = 3
server_round_robin = 1
max_client_conn = 200
""",
        "users.txt": f'"{direct.username}" ""\n',
    }
    for name, content in config.items():
        with open(os.path.join(folder, name), "w") as handle:
            handle.write(content)
        os.chmod(os.path.join(folder, name), 0o644)
    command = [PGBOUNCER, f"{folder}/pgbouncer.ini"]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        command[1:1] = ["-u", "postgres"]
    bouncer = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = direct.set(host="127.0.0.1", port=port, database="hiring")
    try:
        _wait_until_it_answers(bouncer, url.set(drivername="postgresql"))
        yield url.render_as_string(hide_password=False)
    finally:
        bouncer.terminate()
        bouncer.communicate(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
        drop()


def _wait_until_it_answers(bouncer: subprocess.Popen, url) -> None:
    for _ in range(200):
        if bouncer.poll() is not None:
            pytest.fail(f"pgbouncer exited: {bouncer.communicate()[0]}", pytrace=False)
        try:
            psycopg.connect(url.render_as_string(hide_password=False), connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            time.sleep(0.05)
    pytest.fail("pgbouncer did not answer", pytrace=False)


@pytest.fixture
def bouncer_app(bouncer_url, tmp_path):
    settings = replace(
        Settings.from_env(tmp_path, env={"DATABASE_PREPARED_STATEMENTS": "off"}),
        database_url=bouncer_url,
        packet_storage_dir=str(tmp_path / "packets"),
        secret_key="pgbouncer-tests-" + "x" * 32,
    )
    app = create_app({"SETTINGS": settings, "TESTING": True, "INSTANCE_PATH": str(tmp_path)})
    with app.app_context():
        sync_templates(db.session, load_template_dir(TEMPLATE_DIR))
        db.session.close()
    yield app
    db.engine(app).dispose()
    jobs.configure(None)


def test_the_main_flow_and_a_packet_render_through_pgbouncer(bouncer_app):
    with bouncer_app.app_context():
        session = db.session
        recruiter, recruiter_token = create_user(session, "r@example.com", "Riley", "recruiter")
        manager, manager_token = create_user(session, "m@example.com", "Morgan", "hiring_manager")
        panel = [create_user(session, f"i{n}@example.com", f"I {n}", "interviewer") for n in (0, 1)]
        session.close()

    client = bouncer_app.test_client()

    def call(method, path, token, **options):
        with bouncer_app.app_context():  # each request's session ends with its context
            response = client.open(
                path, method=method, headers={"Authorization": f"Bearer {token}"}, **options
            )
        assert response.status_code < 300, (path, response.status_code, response.json)
        return response

    requisition = call(
        "POST",
        "/api/v1/requisitions",
        recruiter_token,
        json={
            "title": "Backend",
            "hiring_manager_id": manager.id,
            "template_key": "backend_engineer",
        },
    ).json
    candidate = call(
        "POST", "/api/v1/candidates", recruiter_token, json={"name": "Ada", "email": "a@x.org"}
    ).json
    application_id = call(
        "POST",
        "/api/v1/applications",
        recruiter_token,
        json={"candidate_id": candidate["id"], "requisition_id": requisition["id"]},
    ).json["id"]

    def read_many() -> None:
        for _ in range(12):  # past psycopg's prepare threshold on each client connection
            call("GET", f"/api/v1/applications/{application_id}", recruiter_token)
            call("GET", "/api/v1/applications?status=active&limit=5", recruiter_token)

    # Four clients at once over three server connections: each transaction may land on a
    # server connection another client prepared its statements on, or none did.
    with ThreadPoolExecutor(4) as readers:
        for reading in [readers.submit(read_many) for _ in range(4)]:
            reading.result()

    for number, (interviewer, token) in enumerate(panel):
        with bouncer_app.app_context():
            interview = interviews.schedule_interview(
                db.session,
                db.session.get(User, recruiter.id),
                application_id,
                interview_key="technical_screen",
                interviewer_id=interviewer.id,
                reason="second opinion" if number else "",
                starts_at=utcnow() - timedelta(hours=3 + number),
            )
        ratings = [
            {"competency": c, "score": 3, "evidence": EVIDENCE}
            for c in ("coding", "problem_solving")
        ]
        call(
            "POST",
            f"/api/v1/interviews/{interview.id}/scorecard/submit",
            token,
            json={"ratings": ratings, "recommendation": "yes", "summary": "Careful and clear."},
        )

    call("GET", f"/api/v1/applications/{application_id}/assessment", manager_token)
    packet = call(
        "POST",
        f"/api/v1/applications/{application_id}/packets",
        manager_token,
        json={"anonymized": False},
    ).json
    assert packet["status"] == "ready", packet  # rendered in-process: no REDIS_URL
    pdf = call("GET", f"/api/v1/packets/{packet['id']}/pdf", manager_token)
    assert pdf.data[:5] == b"%PDF-"
    decision = call(
        "POST",
        f"/api/v1/applications/{application_id}/decision",
        manager_token,
        json={"outcome": "hire", "packet_id": packet["id"], "rationale": "Strong on code."},
    ).json
    assert decision["outcome"] == "hire"


@pytest.mark.parametrize("prepared", [False, True])
def test_server_side_prepared_statements_break_behind_transaction_pooling(bouncer_url, prepared):
    """Why DATABASE_PREPARED_STATEMENTS=off: psycopg prepares a statement on the server
    connection after five runs, and the next transaction runs elsewhere."""
    engine = make_engine(bouncer_url, prepared_statements=prepared)
    clients = [engine.connect() for _ in range(2)]
    try:
        for number in range(20):
            for client in clients:
                assert (
                    client.execute(text("SELECT CAST(:n AS integer) + 1"), {"n": number}).scalar()
                    == number + 1
                )
                client.commit()  # the transaction ends: the server connection goes back
    except DBAPIError as error:
        assert prepared, error
        assert "prepared statement" in str(error.orig)
    else:
        assert not prepared, "prepared statements survived transaction pooling"
    finally:
        for client in clients:
            client.close()
        engine.dispose()
