"""Interviewer report queries over submitted scorecards (their current revision), in SQL.

Every query aggregates in the database and returns one row per interviewer or per
(template, competency, panel size): no rating and no evidence text is loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Float, Row, and_, case, cast, func, select
from sqlalchemy.orm import Session

from service.domain.scorecards import ScorecardState
from service.domain.templates import RECOMMENDATIONS
from service.persistence.applications import Application
from service.persistence.requisitions import Requisition
from service.persistence.scorecards import Scorecard, ScorecardRating, ScorecardRevision
from service.persistence.templates import TemplateVersion
from service.persistence.users import User

# Halo (docs/scoring.md, "Flags"): one score given to three or more competencies of one scorecard.
HALO_MIN_COMPETENCIES = 3


def _current(stmt):
    """Join each submitted scorecard to its current revision."""
    return (
        stmt.select_from(Scorecard)
        .join(
            ScorecardRevision,
            and_(
                ScorecardRevision.scorecard_id == Scorecard.id,
                ScorecardRevision.number == Scorecard.revision,
            ),
        )
        .where(Scorecard.state == ScorecardState.SUBMITTED)
    )


def _current_ratings(stmt):
    """Every rating of every current revision."""
    return _current(stmt).join(ScorecardRating, ScorecardRating.revision_id == ScorecardRevision.id)


def scorecard_summaries(session: Session) -> Sequence[Row[*tuple[Any, ...]]]:
    """Per interviewer: name, scorecards, late ones, halo ones, language warnings and one
    count per recommendation (a column named after each)."""
    halo = (
        select(ScorecardRating.revision_id)
        .group_by(ScorecardRating.revision_id)
        .having(
            and_(
                func.count(ScorecardRating.score) >= HALO_MIN_COMPETENCIES,
                func.min(ScorecardRating.score) == func.max(ScorecardRating.score),
            )
        )
        .subquery()
    )
    per_author = _current(
        select(
            Scorecard.author_id,
            func.count().label("scorecards"),
            func.sum(case((Scorecard.late, 1), else_=0)).label("late"),
            func.count(halo.c.revision_id).label("halo"),
            func.sum(func.coalesce(func.json_array_length(ScorecardRevision.warnings), 0)).label(
                "language_flags"
            ),
            *(
                func.sum(case((ScorecardRevision.recommendation == r, 1), else_=0)).label(r)
                for r in RECOMMENDATIONS
            ),
        )
    ).outerjoin(halo, halo.c.revision_id == ScorecardRevision.id)
    # Group on the integer id alone and name afterwards: grouping by the name too
    # made PostgreSQL sort every scorecard on disk.
    per_author = per_author.group_by(Scorecard.author_id).subquery()
    stmt = select(per_author, User.name).join(User, User.id == per_author.c.author_id)
    return session.execute(stmt).all()


def rating_summaries(session: Session) -> dict[int, tuple[int, int, float | None]]:
    """Per interviewer: (ratings assigned, ratings scored, median evidence length of the
    scored ones in characters, None when none is scored).

    The median comes from a histogram of lengths with running counts, so it runs the same
    on PostgreSQL and SQLite (no percentile_cont) and never sorts the evidence text:
    with S scored ratings and r of them at most x characters long, x is the lower middle
    value first where 2r ≥ S and the upper middle value first where 2r > S.
    """
    chars = case((ScorecardRating.score.is_not(None), func.length(ScorecardRating.evidence)))
    histogram = (
        _current_ratings(select(Scorecard.author_id, chars.label("chars"), func.count().label("n")))
        .group_by(Scorecard.author_id, chars)
        .subquery()
    )
    scored_n = case((histogram.c.chars.is_not(None), histogram.c.n))  # NULL chars: not scored
    running = select(
        histogram.c.author_id,
        histogram.c.chars,
        histogram.c.n,
        func.sum(scored_n)
        .over(partition_by=histogram.c.author_id, order_by=histogram.c.chars)
        .label("running"),
        func.sum(scored_n).over(partition_by=histogram.c.author_id).label("scored"),
    ).subquery()
    lower = func.min(case((2 * running.c.running >= running.c.scored, running.c.chars)))
    upper = func.min(case((2 * running.c.running > running.c.scored, running.c.chars)))
    stmt = select(
        running.c.author_id,
        func.sum(running.c.n),
        func.max(running.c.scored),
        cast(lower + upper, Float) / 2,
    ).group_by(running.c.author_id)
    # PostgreSQL sums bigints into numerics: back to ints.
    return {
        author: (int(assigned), int(scored or 0), median)
        for author, assigned, scored, median in session.execute(stmt)
    }


def reliability_sums(session: Session) -> list[tuple[str, str, int, int, int, int, int]]:
    """Scored ratings of current revisions as sums per template key, competency and panel
    size m (a candidate's number of ratings of that competency): (template key, competency,
    m, candidates, Σ score, Σ score², Σ over candidates of (their Σ score)²)."""
    score = ScorecardRating.score
    per_candidate = (
        _current_ratings(
            select(
                Scorecard.application_id,
                ScorecardRating.competency,
                func.count().label("m"),
                func.sum(score).label("total"),
                func.sum(score * score).label("total_sq"),
            )
        )
        .where(score.is_not(None))
        .group_by(Scorecard.application_id, ScorecardRating.competency)
        .subquery()
    )
    # Sum per template version id first and name the ~40 rows left: naming each of the
    # ~60k candidate rows and grouping them by the key's text made PostgreSQL sort them
    # all on disk (EXPLAIN on the 100k bench).
    per_version = (
        select(
            Requisition.template_version_id,
            per_candidate.c.competency,
            per_candidate.c.m,
            func.count().label("candidates"),
            func.sum(per_candidate.c.total).label("total"),
            func.sum(per_candidate.c.total_sq).label("total_sq"),
            func.sum(per_candidate.c.total * per_candidate.c.total).label("candidate_total_sq"),
        )
        .select_from(per_candidate)
        .join(Application, Application.id == per_candidate.c.application_id)
        .join(Requisition, Requisition.id == Application.requisition_id)
        .group_by(Requisition.template_version_id, per_candidate.c.competency, per_candidate.c.m)
        .subquery()
    )
    stmt = (
        select(
            TemplateVersion.key,
            per_version.c.competency,
            per_version.c.m,
            func.sum(per_version.c.candidates),
            func.sum(per_version.c.total),
            func.sum(per_version.c.total_sq),
            func.sum(per_version.c.candidate_total_sq),
        )
        .join(TemplateVersion, TemplateVersion.id == per_version.c.template_version_id)
        .group_by(TemplateVersion.key, per_version.c.competency, per_version.c.m)
    )
    # PostgreSQL sums bigints into numerics: back to exact ints.
    return [
        (key, competency, int(m), *(int(x) for x in sums))
        for key, competency, m, *sums in session.execute(stmt)
    ]
