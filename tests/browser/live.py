"""The real app with the demo data, served on a loopback port from a thread of this
process: for the browser tests (`live_server`) and `scripts/screenshots.py`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from flask import Flask
from werkzeug.serving import make_server

from service import create_app, jobs
from service.config import Settings
from service.demo import seed_demo
from service.extensions import db
from service.persistence import migrate


@dataclass
class LiveServer:
    app: Flask
    url: str
    passwords: dict[str, str]  # email -> password, as `hiring demo` gives them

    def password(self, email: str) -> str:
        return self.passwords[email]


@contextmanager
def serve_demo(folder: Path, redis_url: str | None) -> Iterator[LiveServer]:
    """A migrated SQLite file in `folder` with the demo data; jobs go to Redis when
    `redis_url` is given (start a worker for them), and run in-process otherwise."""
    database_url = f"sqlite:///{folder / 'live.db'}"
    migrate.upgrade(database_url)
    settings = replace(
        Settings.from_env(folder, env={}),
        database_url=database_url,
        redis_url=redis_url,
        packet_storage_dir=str(folder / "packets"),
        secret_key="live-server-" + "x" * 32,
    )
    app = create_app({"SETTINGS": settings, "INSTANCE_PATH": str(folder)})
    with app.app_context():
        credentials = seed_demo(db.session)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(
            app=app,
            url=f"http://127.0.0.1:{server.server_port}",
            passwords={c.email: c.password for c in credentials},
        )
    finally:
        server.shutdown()
        thread.join()
        db.engine(app).dispose()
        jobs.configure(None)
