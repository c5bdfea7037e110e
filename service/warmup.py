"""Warming up before the fork: what every API worker would otherwise build for itself on
its first requests, built once in a preloading gunicorn master (`gunicorn.conf.py`), so
that the workers share it instead of each keeping a copy of its own.

- The language check's compiled patterns (some 5 MB a worker).
- The statements of the token check, the list, the get and the assessment, run once
  through their use cases: SQLAlchemy compiles each statement and the ORM its loading
  paths on first use, and keeps them (4.6 of a worker's own 29 MB after the bench's
  reads, BENCHMARKS.md). They run as real users of the database and only read: these
  reads are not audited, and the one thing they may store, an assessment's read
  model, is what that assessment's first reader would store anyway.
- The pages' Jinja templates, compiled.

Every connection it opened is closed before the first worker exists. Without a
database, or with nobody and nothing in it yet, it warms what it can; the workers
build the rest on first use, as they would without it.
"""

from __future__ import annotations

import logging
from contextlib import suppress

from flask import Flask
from sqlalchemy import exists, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from service.domain import language
from service.domain.access import ADMIN, HIRING_MANAGER, INTERVIEWER, RECRUITER
from service.domain.errors import DomainError
from service.extensions import db
from service.persistence.applications import Application
from service.persistence.interviews import Interview
from service.persistence.requisitions import Requisition
from service.persistence.scorecards import Scorecard
from service.persistence.users import User
from service.usecases import applications, assessments, decisions, users

log = logging.getLogger(__name__)


def warm_up(app: Flask) -> None:
    """Build what every worker would build on its first requests (the module's docstring)."""
    language.preload()
    for name in app.jinja_env.list_templates():
        app.jinja_env.get_template(name)
    with app.app_context():
        session = db.session
        try:
            _read_once(session)
        except (SQLAlchemyError, DomainError) as error:
            log.warning("warm-up: the reads were left to the workers (%s)", error)
        finally:
            session.close()
            db.engine(app).dispose()


def _read_once(session: Session) -> None:
    """The token check; a listed page and an application as a user of each role (each
    role has its own statements, and a read refused still compiles its statement); the
    assessment as its hiring manager, computed as well as stored. The assessment is read
    only where its reader is not on the panel: a panelist's first read of the others'
    scorecards is recorded and audited, and no one read them here."""
    with suppress(DomainError):  # the statement ran; nobody holds that token
        users.authenticate(session, "warm-up: no such token")
    assessed = session.execute(
        select(Scorecard.application_id, Application.requisition_id, Requisition.hiring_manager_id)
        .join(Application, Application.id == Scorecard.application_id)
        .join(Requisition, Requisition.id == Application.requisition_id)
        .where(
            Scorecard.state == "submitted",
            ~exists().where(
                Interview.application_id == Application.id,
                Interview.interviewer_id == Requisition.hiring_manager_id,
            ),
        )
        .order_by(Scorecard.id.desc())
        .limit(1)
    ).one_or_none()
    if assessed is None:
        return
    application_id, requisition_id, manager_id = assessed
    for role in (ADMIN, RECRUITER, HIRING_MANAGER, INTERVIEWER):
        reader = session.scalar(
            select(User).where(User.role == role, User.active.is_(True)).order_by(User.id).limit(1)
        )
        if reader is not None:
            _read_as(session, reader, requisition_id, application_id)
    manager = session.get(User, manager_id)
    application = session.get(Application, application_id)
    if manager is not None and application is not None:
        assessments.assessment_json(session, manager, application_id)
        assessments.assess_application(session, application)  # when the above was stored
    session.rollback()


def _read_as(session: Session, reader: User, requisition_id: int, application_id: int) -> None:
    with suppress(DomainError):  # not this reader's to see: the statements ran all the same
        applications.list_applications(session, reader, requisition_id=requisition_id, limit=50)
        one = applications.read_application(session, reader, application_id)
        decisions.application_outcome(
            session, reader, application_id, ids=(one.row.decision_id, one.row.packet_id)
        )
