"""Interviewer report queries over submitted scorecards (their current revision), in SQL."""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from service.persistence.applications import Application
from service.persistence.requisitions import Requisition
from service.persistence.scorecards import Scorecard, ScorecardRating, ScorecardRevision
from service.persistence.templates import TemplateVersion
from service.persistence.users import User

# Halo (SCIENCE.md): one score given to three or more competencies of one scorecard.
HALO_MIN_COMPETENCIES = 3


def _current(stmt):  # noqa: ANN001, ANN202 - a Select
    """Join each submitted scorecard to its current revision."""
    return (stmt.select_from(Scorecard).join(ScorecardRevision, and_(ScorecardRevision.scorecard_id == Scorecard.id,
                                              ScorecardRevision.number == Scorecard.revision))
            .where(Scorecard.state == "submitted"))


def scorecard_summaries(session: Session) -> list[Any]:
    """Per interviewer: scorecards, late ones, halo ones and language warnings."""
    per_card = (select(ScorecardRating.revision_id,
                       func.count(ScorecardRating.score).label("scored"),
                       func.min(ScorecardRating.score).label("low"),
                       func.max(ScorecardRating.score).label("high"))
                .group_by(ScorecardRating.revision_id).subquery())
    halo = and_(per_card.c.scored >= HALO_MIN_COMPETENCIES, per_card.c.low == per_card.c.high)
    stmt = _current(select(
        Scorecard.author_id, User.name, func.count().label("scorecards"),
        func.sum(case((Scorecard.late, 1), else_=0)).label("late"),
        func.sum(case((halo, 1), else_=0)).label("halo"),
        func.sum(func.coalesce(func.json_array_length(ScorecardRevision.warnings), 0))
        .label("language_flags"),
    )).join(User, User.id == Scorecard.author_id)
    stmt = stmt.outerjoin(per_card, per_card.c.revision_id == ScorecardRevision.id)
    return session.execute(stmt.group_by(Scorecard.author_id, User.name)).all()


def recommendations(session: Session) -> list[tuple[int, str, int]]:
    """(interviewer, recommendation, count) over current revisions."""
    stmt = _current(select(Scorecard.author_id, ScorecardRevision.recommendation, func.count()))
    return [tuple(r) for r in session.execute(
        stmt.group_by(Scorecard.author_id, ScorecardRevision.recommendation))]


def rating_columns(session: Session) -> dict[str, np.ndarray]:
    """Every rating of every current revision as numpy columns (one pass, no ORM objects):
    interviewer, template key, competency, application, score (NaN = not assessed),
    evidence length."""
    stmt = (_current(select(
        Scorecard.author_id, TemplateVersion.key, ScorecardRating.competency,
        Scorecard.application_id, ScorecardRating.score,
        func.length(ScorecardRating.evidence),
    )).join(ScorecardRating, ScorecardRating.revision_id == ScorecardRevision.id)
        .join(Application, Application.id == Scorecard.application_id)
        .join(Requisition, Requisition.id == Application.requisition_id)
        .join(TemplateVersion, TemplateVersion.id == Requisition.template_version_id))
    rows = session.execute(stmt).all()
    names = ("interviewer", "template_key", "competency", "application", "score", "evidence_chars")
    if not rows:
        return {n: np.array([]) for n in names}
    columns = list(zip(*rows, strict=True))
    return {
        "interviewer": np.array(columns[0], dtype=np.int64),
        "template_key": np.array(columns[1], dtype=str),
        "competency": np.array(columns[2], dtype=str),
        "application": np.array(columns[3], dtype=np.int64),
        "score": np.array([np.nan if s is None else s for s in columns[4]], dtype=float),
        "evidence_chars": np.array(columns[5], dtype=float),
    }
