"""The baselines for the API bench: bare Flask endpoints doing one indexed SQLAlchemy query.

Served by the same gunicorn settings against the same database as the service:

    DATABASE_URL=... gunicorn --workers 4 --bind 127.0.0.1:8100 bench.baseline_app:app

One looks up an application by id; the other returns a page of 50 of a
requisition's applications (the like-for-like baseline for the list endpoint).
It uses the service's engine settings (`make_engine`) and an ORM session per
request, as the service does, so the difference to the service's figures is
the service's own work: authentication, visibility, loading, serialisation.
"""

from __future__ import annotations

import os

from flask import Flask, abort, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from service.extensions import make_engine
from service.persistence.applications import Application


def create_baseline_app(database_url: str) -> Flask:
    app = Flask(__name__)
    sessions = sessionmaker(bind=make_engine(database_url))

    @app.get("/baseline/applications/<int:application_id>")
    def application(application_id: int):
        """One primary-key lookup, as JSON."""
        with sessions() as session:
            row = session.execute(
                select(
                    Application.id, Application.stage, Application.status, Application.updated_at
                ).where(Application.id == application_id)
            ).one_or_none()
        if row is None:
            abort(404)
        return jsonify(
            id=row.id, stage=row.stage, status=row.status, updated_at=row.updated_at.isoformat()
        )

    @app.get("/baseline/applications")
    def page():
        """A page of up to 50 of a requisition's applications, one indexed query, as JSON."""
        requisition_id = request.args.get("requisition_id", type=int)
        limit = request.args.get("limit", 50, type=int)
        with sessions() as session:
            rows = session.execute(
                select(
                    Application.id, Application.stage, Application.status, Application.updated_at
                )
                .where(Application.requisition_id == requisition_id)
                .order_by(Application.id)
                .limit(limit)
            ).all()
        return jsonify(
            items=[
                {
                    "id": r.id,
                    "stage": r.stage,
                    "status": r.status,
                    "updated_at": r.updated_at.isoformat(),
                }
                for r in rows
            ]
        )

    @app.get("/baseline/health")
    def health():
        return {"ok": True}

    return app


app = create_baseline_app(os.environ["DATABASE_URL"]) if "DATABASE_URL" in os.environ else None
