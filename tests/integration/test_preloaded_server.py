"""The production server: gunicorn, preloading the app in its master (`gunicorn.conf.py`).

Several workers forked from one master must each answer correctly with their own
database and Redis connections: a connection made in the master and inherited by
two workers would interleave their conversations on one socket. Here a real
gunicorn serves a committed PostgreSQL database and real Redis; each process's
sockets are read from /proc, so a connection shared after the fork would show as
one socket held by two processes.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import make_url
from sqlalchemy.orm import Session

from service.extensions import make_engine
from service.persistence import migrate
from service.usecases.users import create_user
from tests.integration.conftest import REDIS_URL, ROOT, _fresh_postgres_database

WORKERS = 3
REQUESTS = 120


@pytest.fixture
def database():
    url, drop = _fresh_postgres_database()
    try:
        migrate.upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            users = [
                create_user(session, f"u{n}@example.com", f"User {n}", "recruiter")
                for n in range(4)
            ]
            tokens = {user.email: token for user, token in users}
        engine.dispose()
        yield url, tokens
    finally:
        drop()


@pytest.fixture
def server(database, tmp_path):
    url, _ = database
    Redis.from_url(REDIS_URL).flushdb()
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn"),
            *("--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}", "wsgi:app"),
        ],
        cwd=ROOT,
        env={
            **env,
            "DATABASE_URL": url,
            "REDIS_URL": REDIS_URL,
            "SECRET_KEY": "preload-tests-" + "x" * 32,
            "PACKET_STORAGE_DIR": str(tmp_path / "packets"),
            "LOG_LEVEL": "WARNING",
        },
        start_new_session=True,
    )
    try:
        _wait_until_answering(process, port)
        yield process, port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        Redis.from_url(REDIS_URL).flushdb()


def test_a_preloaded_server_answers_from_several_workers_each_on_its_own_connections(
    database, server
):
    url, tokens = database
    process, port = server
    master = process.pid
    # Preloaded: the master imported the app (the PostgreSQL driver's C library is mapped).
    assert "psycopg" in Path(f"/proc/{master}/maps").read_text()

    def ask(n: int) -> tuple[int, str, str]:
        email = sorted(tokens)[n % len(tokens)]
        status, body = _get(port, "/api/v1/me", tokens[email])
        return status, email, json.loads(body)["email"] if status == 200 else body

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(ask, range(REQUESTS)))
    assert [(status, asked) for status, asked, _ in answers] == [
        (200, asked) for _, asked, _ in answers
    ]
    assert all(asked == answered for _, asked, answered in answers)
    metrics_status, metrics = _get(port, "/metrics")
    assert metrics_status == 200
    # Every worker's counts add up on /metrics, whichever worker answered it.
    me_count = sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("hiring_http_request_duration_seconds_count")
        and 'route="/api/v1/me"' in line
        and 'status="200"' in line
    )
    assert me_count == REQUESTS

    workers = [int(pid) for pid in _children(master)]
    assert len(workers) == WORKERS
    postgres_port = make_url(url).port or 5432
    redis_port = Redis.from_url(REDIS_URL).connection_pool.connection_kwargs["port"]
    held = {pid: _sockets_to(pid, {postgres_port, redis_port}) for pid in [master, *workers]}
    assert held[master] == set(), "the master holds no database or Redis connection"
    answering = [pid for pid in workers if held[pid]]
    assert len(answering) >= 2, f"requests were answered by one worker only: {held}"
    every = [inode for pid in workers for inode in held[pid]]
    assert len(every) == len(set(every)), "no connection is shared by two workers"


def _get(port: int, path: str, token: str | None = None) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def _children(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()


def _sockets_to(pid: int, remote_ports: set[int]) -> set[str]:
    """The inodes of `pid`'s TCP sockets connected to one of `remote_ports`."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    connected = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if fields[9] in inodes and remote_port in remote_ports:
                connected.add(fields[9])
    return connected


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_answering(process: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            if _get(port, "/healthz")[0] == 200 and len(_children(process.pid)) == WORKERS:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer within 60 s")
