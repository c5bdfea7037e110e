"""The interviewers report's numpy aggregation against a plain Python one, on generated data.

The report aggregates every current rating in one pass with numpy
(`persistence/interviewer_reports.py`); here the same figures are counted rating by
rating from the ORM objects, on a database the bench's generator fills.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from statistics import median

from sqlalchemy import select
from sqlalchemy.orm import Session

from bench import generate
from service.domain.scorecards import ScorecardState
from service.extensions import make_engine
from service.persistence import interviewer_reports as queries
from service.persistence.applications import Application
from service.persistence.requisitions import Requisition
from service.persistence.scorecards import Scorecard
from service.persistence.templates import TemplateVersion


def current_ratings(session: Session):
    """(scorecard, rating, template key) for every rating of every current revision."""
    keys = {v.id: v.key for v in session.scalars(select(TemplateVersion))}
    versions = dict(
        session.execute(
            select(Application.id, Requisition.template_version_id).join(
                Requisition, Requisition.id == Application.requisition_id
            )
        ).all()
    )
    submitted = select(Scorecard).where(Scorecard.state == ScorecardState.SUBMITTED)
    for card in session.scalars(submitted):
        revision = next(r for r in card.revisions if r.number == card.revision)
        for rating in revision.ratings:
            yield card, rating, keys[versions[card.application_id]]


def plain_sums(session: Session):
    ratings = defaultdict(lambda: [0, []])  # author: [assigned, evidence lengths of scored]
    scores_by_revision = defaultdict(list)
    panels = defaultdict(list)  # (key, competency, application): scores
    authors = {}
    for card, rating, key in current_ratings(session):
        ratings[card.author_id][0] += 1
        if rating.score is not None:
            ratings[card.author_id][1].append(len(rating.evidence))
            scores_by_revision[rating.revision_id].append(rating.score)
            panels[(key, rating.competency, card.application_id)].append(rating.score)
        authors[rating.revision_id] = card.author_id
    summaries = {
        author: (assigned, len(chars), float(median(chars)) if chars else None)
        for author, (assigned, chars) in ratings.items()
    }
    halos = defaultdict(int)
    for revision, scores in scores_by_revision.items():
        if len(scores) >= queries.HALO_MIN_COMPETENCIES and len(set(scores)) == 1:
            halos[authors[revision]] += 1
    cells = defaultdict(lambda: [0, 0, 0, 0])
    for (key, competency, _), scores in panels.items():
        cell = cells[(key, competency, len(scores))]
        cell[0] += 1
        cell[1] += sum(scores)
        cell[2] += sum(s * s for s in scores)
        cell[3] += sum(scores) ** 2
    reliability = [(*key, *sums) for key, sums in sorted(cells.items())]
    return summaries, dict(halos), reliability


def test_numpy_sums_match_a_rating_by_rating_count(tmp_path):
    url = f"sqlite:///{tmp_path / 'generated.db'}"
    generate.generate(
        url,
        400,
        seed=5,
        now=datetime(2026, 6, 1, tzinfo=UTC),
        fit_calibration=False,
        progress=False,
    )
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            summaries, halos, reliability = plain_sums(session)
            current = queries.current_ratings(session)
            assert len(current.score) > 300 and halos and reliability  # enough to compare
            assert queries.rating_summaries(current) == summaries
            assert queries.halo_counts(current) == halos
            assert queries.reliability_sums(session, current) == reliability
    finally:
        engine.dispose()
