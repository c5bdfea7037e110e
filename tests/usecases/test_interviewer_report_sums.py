"""The interviewers report's numpy aggregation against a plain Python one, both
organisation-wide reports' plain dumps against marshmallow's, and the adverse-impact
counts however the database groups them, on generated data.

The report aggregates every current revision and rating in one pass with numpy
(`persistence/interviewer_reports.py`; on PostgreSQL the columns come back as arrays,
the ratings grouped by competency); here the same figures are counted scorecard by
scorecard and rating by rating from the ORM objects, on a database the bench's
generator fills, SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from contextlib import nullcontext
from datetime import UTC, datetime
from statistics import median

import marshmallow as ma
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Integer, create_engine, literal, make_url, select, text, update
from sqlalchemy.orm import Session

from service.domain.reports import stage_maps
from service.domain.scorecards import ScorecardState
from service.domain.self_identification import QUESTIONS
from service.extensions import make_engine
from service.http.reports.schemas import AdverseImpactReportSchema, InterviewersReportSchema
from service.http.schemas import plain_dumper
from service.persistence import interviewer_reports as queries
from service.persistence import reports as queries_reports
from service.persistence.applications import Application, timeline_of
from service.persistence.reports import ApplicationFilters
from service.persistence.requisitions import Requisition
from service.persistence.scorecards import Scorecard, ScorecardRating
from service.persistence.self_identification import SelfIdentification
from service.persistence.templates import TemplateVersion
from service.persistence.users import User
from service.usecases import interviewer_reports, reports
from tests.conftest import postgres_url
from tests.generated_data import generated_database


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


def plain_scorecard_summaries(session: Session):
    """Per author: (name, scorecards, late, language warnings, recommendations)."""
    names = dict(session.execute(select(User.id, User.name)).all())
    summaries = {}
    submitted = select(Scorecard).where(Scorecard.state == ScorecardState.SUBMITTED)
    for card in session.scalars(submitted):
        revision = next(r for r in card.revisions if r.number == card.revision)
        row = summaries.setdefault(
            card.author_id,
            [
                names[card.author_id],
                0,
                0,
                0,
                dict.fromkeys(("strong_no", "no", "yes", "strong_yes"), 0),
            ],
        )
        row[1] += 1
        row[2] += card.late
        row[3] += len(revision.warnings or [])
        row[4][revision.recommendation] += 1
    return {author: tuple(row) for author, row in summaries.items()}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def generated_url(request, tmp_path_factory):
    """A database the bench's generator filled with 400 applications."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('generated') / 'generated.db'}"
    else:
        # Named after the test database, so suites run side by side do not collide.
        base = postgres_url()
        name = f"{make_url(base).database}_generated"
        url = make_url(base).set(database=name).render_as_string(hide_password=False)
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
    generated_database(url, 400, seed=5)
    return url


@pytest.fixture
def generated(generated_url):
    engine = make_engine(generated_url)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def test_numpy_sums_match_a_rating_by_rating_count(generated):
    summaries, halos, reliability = plain_sums(generated)
    revisions = queries.current_revisions(generated)
    current = queries.current_ratings(generated, revisions)
    assert len(current.score) > 300 and halos and reliability  # enough to compare
    assert queries.rating_summaries(current) == summaries
    assert queries.halo_counts(current) == halos
    assert queries.reliability_sums(generated, current) == reliability


def test_scorecard_counts_match_a_scorecard_by_scorecard_count(generated):
    expected = plain_scorecard_summaries(generated)
    revisions = queries.current_revisions(generated)
    summaries = queries.scorecard_summaries(generated, revisions)
    assert len(summaries) > 10 and any(s.late for s in summaries)  # enough to compare
    assert {
        s.author_id: (s.name, s.scorecards, s.late, s.language_flags, s.recommendations)
        for s in summaries
    } == expected


def test_the_reports_plain_dumps_are_marshmallows(generated):
    """Both organisation-wide reports dump with `plain_dumper`; marshmallow's own dump
    of the same report gives the same JSON, to the type of every number."""
    admin = generated.scalars(select(User).where(User.role == "admin")).first()
    some = generated.scalars(select(Requisition.id)).first()
    cases = [
        (InterviewersReportSchema(), interviewer_reports.interviewers_report(generated, admin)),
        (
            AdverseImpactReportSchema(),
            reports.adverse_impact_report(generated, admin, ApplicationFilters()),
        ),
        (
            AdverseImpactReportSchema(),
            reports.adverse_impact_report(
                generated,
                admin,
                ApplicationFilters(
                    requisition_id=some, applied_from=datetime(2025, 1, 1, tzinfo=UTC)
                ),
                stage="applied",
            ),
        ),
    ]
    for schema, body in cases:
        plain = schema.dump(body)
        assert json.dumps(plain, sort_keys=True) == json.dumps(
            ma.Schema.dump(schema, body), sort_keys=True
        )
    suppressed = [
        g
        for d in cases[1][1]["dimensions"]
        for s in d["steps"]
        for g in s["groups"]
        if g["suppressed"]
    ]
    assert suppressed and any("selected" not in g for g in suppressed)  # keys left out


def test_a_plain_dumper_refuses_fields_it_does_not_know():
    class WithMethod(ma.Schema):
        name = ma.fields.Method("get_name")

        def get_name(self, obj):
            return obj["name"].title()

    with pytest.raises(TypeError):
        plain_dumper(WithMethod())


def test_adverse_impact_counts_do_not_depend_on_how_the_database_groups(generated, monkeypatch):
    """`outcomes` asks PostgreSQL to group in a hash table; the counts are those of the
    planner's own plan, and the setting is as it was afterwards."""
    versions = queries_reports.template_versions(generated)
    position, _ = stage_maps((v.id, v.template()) for v in versions)

    def counted():
        found = queries_reports.outcomes(generated, position, ApplicationFilters(), by_answers=True)
        return sorted(found.stages, key=repr), sorted(found.overall, key=repr)

    hashed = counted()
    if generated.get_bind().dialect.name == "postgresql":
        assert generated.scalar(text("SHOW enable_sort")) == "on"
    monkeypatch.setattr(queries_reports, "_hashed_groups", lambda session: nullcontext())
    assert hashed == counted()
    assert len(hashed[0]) > 50  # enough to compare


def timeline_outcomes(session: Session, position) -> list[tuple]:
    """`outcomes`' stage counts (by answers) recounted application by application from
    each one's timeline (its applied and moved entries), not from `entered_stages`."""
    versions = {v.id: v for v in session.scalars(select(TemplateVersion))}
    answers_of = {
        a.application_id: tuple(getattr(a, q) for q in QUESTIONS)
        for a in session.scalars(select(SelfIdentification))
    }
    tallies: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for application in session.scalars(select(Application)):
        version_id = application.requisition.template_version_id
        entered = {
            c.to_stage
            for c in timeline_of(session, application.id)
            if c.kind in queries_reports.ENTRY_KINDS
        }
        furthest = max((position.get((version_id, stage), -1) for stage in entered), default=-1)
        answers = answers_of.get(application.id, (None,) * len(QUESTIONS))
        for stage in entered:
            tally = tallies[(versions[version_id].key, stage, answers)]
            tally[0] += 1
            if furthest > position.get((version_id, stage), -1) or application.status == "hired":
                tally[1] += 1
            elif stage == application.stage:
                tally[{"active": 2, "withdrawn": 3, "rejected": 4}[application.status]] += 1
    return sorted(((*key, *tally) for key, tally in tallies.items()), key=repr)


def test_adverse_impact_stage_counts_are_those_of_the_timelines(generated):
    """The one-place rule: what `outcomes` counts from the stages kept on each application
    is what the applications' timelines say."""
    versions = queries_reports.template_versions(generated)
    position, _ = stage_maps((v.id, v.template()) for v in versions)
    found = queries_reports.outcomes(generated, position, ApplicationFilters(), by_answers=True)
    expected = timeline_outcomes(generated, position)
    assert sorted((tuple(row) for row in found.stages), key=repr) == expected
    assert len(expected) > 50  # enough to compare


@given(
    ids=st.lists(st.integers(0, 10**12), unique=True, max_size=40),
    wanted=st.lists(st.integers(0, 10**12), max_size=40),
    dense=st.booleans(),
)
def test_an_ids_position_is_found_however_far_apart_the_ids_are(ids, wanted, dense):
    # Dense ids (a sequence's) go through a table indexed by id; ids far apart, through a
    # sort, so that one large id does not make a table as long as itself.
    if dense:
        ids, wanted = [i % 500 for i in ids], [w % 600 for w in wanted]
        ids = list(dict.fromkeys(ids))
    where = {i: n for n, i in enumerate(ids)}
    found = queries._positions(np.asarray(ids, dtype=np.int64), np.asarray(wanted, dtype=np.int64))
    assert found.tolist() == [where.get(w, -1) for w in wanted]


def test_paired_columns_come_back_as_they_were(generated):
    """Two int4 columns read as one int8 (`_pair`) split back exactly, signs and the
    extremes included, on either database."""
    values = [(0, 0), (1, -1), (-1, 1), (-5, -7), (2**31 - 1, -(2**31)), (-(2**31), 2**31 - 1)]
    paired = [
        generated.scalar(select(queries._pair(literal(high, Integer), literal(low, Integer))))
        for high, low in values
    ]
    high, low = queries._unpaired(np.asarray(paired, dtype=np.int64))
    assert list(zip(high.tolist(), low.tolist(), strict=True)) == values


def same_reads(left, right):
    for one, other in zip(left, right, strict=True):
        for field in dataclasses.fields(one):
            a, b = getattr(one, field.name), getattr(other, field.name)
            assert (a.tolist() if isinstance(a, np.ndarray) else a) == (
                b.tolist() if isinstance(b, np.ndarray) else b
            ), field.name


def test_the_reads_at_once_match_the_reads_one_by_one(generated, monkeypatch):
    """On PostgreSQL a session that has written nothing sends the report's reads each on
    a connection of its own; what they read is what one connection reads one by one."""
    own = []
    original = queries._own_connection_rows
    monkeypatch.setattr(
        queries,
        "_own_connection_rows",
        lambda engine, sql: own.append(sql) or original(engine, sql),
    )
    at_once = queries.read_current(generated)
    postgresql = generated.get_bind().dialect.name == "postgresql"
    assert len(own) == (3 if postgresql else 0)
    monkeypatch.setattr(
        queries,
        "_concurrent_rows",
        lambda session, sqls: [queries._binary_rows(session, sql) for sql in sqls],
    )
    revisions = queries.current_revisions(generated)
    same_reads(at_once, (revisions, queries.current_ratings(generated, revisions)))


def test_after_a_write_the_reads_see_it_on_the_sessions_connection(generated, monkeypatch):
    """Once the session's transaction has written, other connections would not see what
    it wrote: the reads stay on its own connection, and see it."""
    _, ratings = queries.read_current(generated)
    revision = int(ratings.revision_id[ratings.chars >= 0][0])
    generated.execute(
        update(ScorecardRating).where(ScorecardRating.revision_id == revision).values(score=None)
    )
    monkeypatch.setattr(queries, "_own_connection_rows", None)  # not called
    try:
        _, after = queries.read_current(generated)
        assert (after.chars[after.revision_id == revision] == -1).all()
        assert (
            after.chars[after.revision_id != revision]
            == ratings.chars[ratings.revision_id != revision]
        ).all()
    finally:
        generated.rollback()
