"""Interviewer report queries over submitted scorecards (their current revision).

Everything comes from one read of the current revisions and one of the ratings,
fetched as narrow integer columns and aggregated with numpy: the per-interviewer
scorecard counts (recommendations, lateness, language warnings) from the revisions,
everything computed from ratings (halo, adherence, evidence length, reliability
sums) from both. Three SQL aggregations each joined scorecards, current revisions
and ratings again, and the per-(application, competency) one spilled to disk; a
fourth, the scorecard counts, joined scorecards and revisions a second time
(EXPLAIN on the 100k bench). No evidence text is loaded, only its length.

Done in SQL instead (the cells, then their groups, and a per-interviewer median) the
same aggregation took ~300 + ~150 ms at 100k even with work_mem raised, against
~100 ms of CPU for the whole report here. What PostgreSQL still spends is mostly in
sending the values (~80 ns each), hence the packed pairs (`_pair`) and the reads sent
at once (`read_current`).
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

import numpy as np
import psycopg
from psycopg import postgres
from psycopg.abc import Buffer
from psycopg.adapt import Loader
from psycopg.pq import Format
from sqlalchemy import (
    BigInteger,
    Integer,
    Row,
    Select,
    and_,
    case,
    func,
    literal,
    select,
    text,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import Session

from service.domain.scorecards import ScorecardState
from service.domain.templates import RECOMMENDATIONS
from service.persistence.applications import Application
from service.persistence.calibration import InterviewerCalibration
from service.persistence.requisitions import Requisition
from service.persistence.scorecards import Scorecard, ScorecardRating, ScorecardRevision
from service.persistence.templates import TemplateVersion
from service.persistence.users import User

# Halo (docs/scoring.md, "Flags"): one score given to three or more competencies of one scorecard.
HALO_MIN_COMPETENCIES = 3


def _current(stmt: Select[*tuple[Any, ...]]) -> Select[*tuple[Any, ...]]:
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


class ScorecardSummary(NamedTuple):
    """One interviewer's submitted scorecards: how many, late ones, language warnings
    and one count per recommendation."""

    author_id: int
    name: str
    scorecards: int
    late: int
    language_flags: int
    recommendations: dict[str, int]


@dataclass(frozen=True)
class CurrentRevisions:
    """The current revision of every submitted scorecard, one array element each:
    its id, author, application, whether the scorecard was late (0/1), its language
    warnings and its recommendation (an index into RECOMMENDATIONS)."""

    revision_id: np.ndarray
    author_id: np.ndarray
    application_id: np.ndarray
    late: np.ndarray
    language_flags: np.ndarray
    recommendation: np.ndarray


def read_current(session: Session) -> tuple[CurrentRevisions, CurrentRatings]:
    """`current_revisions` and `current_ratings`, their reads sent at once: on
    PostgreSQL, when the session's transaction has written nothing, each on a
    connection of its own (`_concurrent_rows`)."""
    revision_columns, rating_columns, applications, requisitions = _read_all(
        session,
        (_revision_columns, False),
        (_rating_columns, True),
        (_application_requisitions, False),
        (_requisition_versions, False),
    )
    revisions = _revisions(revision_columns)
    return revisions, _ratings(rating_columns, revisions, applications, requisitions)


def current_revisions(session: Session) -> CurrentRevisions:
    """One read of the current revisions, as integer columns (pairs of them packed into
    one, `_pair`)."""
    return _revisions(_columns(session, _revision_columns))


def _revisions(columns: list[np.ndarray]) -> CurrentRevisions:
    revision_id, authors, flags = columns
    author_id, application_id = _unpaired(authors)
    language_flags, recommended = _unpaired(flags)
    return CurrentRevisions(
        revision_id=revision_id,
        author_id=author_id,
        application_id=application_id,
        late=recommended & 1,
        language_flags=language_flags,
        recommendation=recommended >> 1,
    )


@functools.cache
def _revision_columns() -> Select[*tuple[Any, ...]]:
    recommendation = case(
        {r: i for i, r in enumerate(RECOMMENDATIONS)},
        value=ScorecardRevision.recommendation,
        else_=-1,
    )
    return _current(
        select(
            ScorecardRevision.id,
            _pair(Scorecard.author_id, Scorecard.application_id),
            _pair(
                func.coalesce(func.json_array_length(ScorecardRevision.warnings), 0),
                # The recommendation's index, twice, plus 1 for a late scorecard.
                recommendation * 2 + case((Scorecard.late, 1), else_=0),
            ),
        )
    )


def _pair(high: Any, low: Any) -> Any:
    """Two 32-bit integer columns as one 64-bit one, `high` in the upper half: PostgreSQL
    sends each value of an array for ~0.1 µs (int4send through the function manager,
    one small allocation each), so halving the values read beats the two shifts (about
    a fifth of each read at 100k applications, measured on the bench). `_unpaired` splits
    them again; any two int4 values, negative ones too, come back as they were."""
    wide = sql_cast(high, BigInteger).op("<<")(literal(32, Integer))  # bigint << int
    return wide.op("|")(sql_cast(low, BigInteger).op("&")(literal(_LOW_HALF, BigInteger)))


_LOW_HALF = 0xFFFFFFFF


def _unpaired(paired: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two columns `_pair` packed: the upper half (an arithmetic shift keeps its
    sign), the lower one read as a signed 32-bit integer."""
    return paired >> 32, paired.astype(np.int32).astype(np.int64)


def scorecard_summaries(session: Session, revisions: CurrentRevisions) -> list[ScorecardSummary]:
    """Per interviewer with a submitted scorecard: name, scorecards, late ones, language
    warnings and one count per recommendation. Halo counts come from the ratings
    (`halo_counts`).

    Counted here from the revisions already read, rather than by a GROUP BY that
    joined scorecards and their current revisions a second time (~35 ms at 100k)."""
    authors, author = np.unique(revisions.author_id, return_inverse=True)
    if not len(authors):
        return []

    def per_author(weights: np.ndarray | None = None) -> list[int]:
        counts = np.bincount(author, weights=weights, minlength=len(authors))
        return [int(n) for n in counts]

    recommended = {
        r: per_author((revisions.recommendation == i).astype(np.int64))
        for i, r in enumerate(RECOMMENDATIONS)
    }
    ids = authors.tolist()
    # Every user's name (staff: a few thousand at most) costs less than naming the
    # ~1000 authors in an IN list: 1.8 against 6.0 ms of CPU here, 17 against 57 ms of
    # wall time (100k bench, a loaded machine).
    names = dict(session.execute(select(User.id, User.name)).all())
    scorecards, late, flags = (
        per_author(),
        per_author(revisions.late),
        per_author(revisions.language_flags),
    )
    return [
        ScorecardSummary(
            author_id=author_id,
            name=names[author_id],
            scorecards=scorecards[i],
            late=late[i],
            language_flags=flags[i],
            recommendations={r: counts[i] for r, counts in recommended.items()},
        )
        for i, author_id in enumerate(ids)
    ]


@dataclass(frozen=True)
class CurrentRatings:
    """Every rating of every current revision of a submitted scorecard, one array
    element per rating. `chars` is the evidence length of a scored rating and -1 for an
    unscored one (whose `score` is 0); `competency` indexes `competencies` (which may
    also name competencies only older revisions rated)."""

    revision_id: np.ndarray
    author_id: np.ndarray
    application_id: np.ndarray
    competency: np.ndarray
    score: np.ndarray
    chars: np.ndarray
    competencies: list[str]
    template_version_id: np.ndarray  # of the rating's application's requisition
    revision: np.ndarray  # the rating's revision's position among the current revisions


def current_ratings(session: Session, revisions: CurrentRevisions) -> CurrentRatings:
    """The ratings of the current revisions as narrow integer columns (competency names
    coded once).

    Plain reads, matched here: every rating (one scan, no join), the current revision
    of every submitted scorecard (`current_revisions`) and every application's template
    version (`_template_versions`). Joining ratings and revisions in SQL took ~25 ms more
    at 100k applications than this (~90 ms for both)."""
    columns, applications, requisitions = _read_all(
        session,
        (_rating_columns, True),
        (_application_requisitions, False),
        (_requisition_versions, False),
    )
    return _ratings(columns, revisions, applications, requisitions)


def _ratings(
    columns: tuple[list[str], np.ndarray, list[np.ndarray]],
    revisions: CurrentRevisions,
    applications: list[np.ndarray],
    requisitions: list[np.ndarray],
) -> CurrentRatings:
    competencies, competency, (of_revision, scored) = columns
    score, chars = _unpaired(scored)
    # Each rating's revision among the current ones, if it is one.
    at = _positions(revisions.revision_id, of_revision)
    current = at >= 0
    at = at[current]
    return CurrentRatings(
        revision_id=of_revision[current],
        author_id=revisions.author_id[at],
        application_id=revisions.application_id[at],
        competency=competency[current],
        score=score[current],
        chars=chars[current],
        competencies=competencies,
        template_version_id=_template_versions(
            applications, requisitions, revisions.application_id[at]
        ),
        revision=at,
    )


@functools.cache
def _rating_columns() -> Select[*tuple[Any, ...]]:
    rating = ScorecardRating
    return select(
        rating.competency,
        rating.revision_id,
        _pair(
            func.coalesce(rating.score, 0),
            func.coalesce(case((rating.score.is_not(None), rating.evidence_chars)), -1),
        ),
    )


def _positions(ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Each wanted id's position in `ids` (distinct, not negative), -1 where it is not
    there, through a table indexed by id rather than a sort and a binary search (~8 ms
    less per lookup at 100k): ids are a sequence's, so the table is about as long as
    the rows they number. Where they are not (a sequence moved far ahead, say), the
    sort and the binary search, whose memory does not grow with the largest id."""
    size = int(max(ids.max(initial=-1), wanted.max(initial=-1))) + 1
    if size > _DENSE_IDS * (len(ids) + len(wanted)) + 1024:
        return _searched_positions(ids, wanted)
    table = np.full(size, -1, dtype=np.int64)
    table[ids] = np.arange(len(ids))
    positions: np.ndarray = table[wanted]
    return positions


_DENSE_IDS = 8  # largest id over the ids looked up, beyond which the table is not made


def _searched_positions(ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    if not len(ids):
        return np.full(len(wanted), -1, dtype=np.int64)
    order = np.argsort(ids)
    at = np.minimum(np.searchsorted(ids[order], wanted), len(ids) - 1)
    found = ids[order][at] == wanted
    return np.where(found, order[at], -1)


def _integers(values: list[int]) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


def _template_versions(
    applications: list[np.ndarray], requisitions: list[np.ndarray], application_ids: np.ndarray
) -> np.ndarray:
    """The template version id of each given application (ids that exist), from every
    application's requisition (`_application_requisitions`) and every requisition's
    version (`_requisition_versions`).

    Read apart and looked up here: joining applications and requisitions into the
    ratings query cost more (~50 ms at 100k) than reading them apart, and the join of
    the two ~17 ms more than reading the applications alone (100k bench)."""
    ids, requisition_ids = _unpaired(applications[0])
    requisition, versions = requisitions
    of_application = requisition_ids[_positions(ids, application_ids)]
    found: np.ndarray = versions[_positions(requisition, of_application)]
    return found


@functools.cache
def _application_requisitions() -> Select[*tuple[Any, ...]]:
    return select(_pair(Application.id, Application.requisition_id))


@functools.cache
def _requisition_versions() -> Select[*tuple[Any, ...]]:
    return select(Requisition.id, Requisition.template_version_id)


_Statement = Callable[[], Select[*tuple[Any, ...]]]


def _columns(session: Session, statement: _Statement) -> list[np.ndarray]:
    """The statement's result, integer columns only, as one array per column.

    On PostgreSQL each column comes back as one array (array_agg) over psycopg's binary
    protocol, decoded straight into numpy (`_IntegerArrayLoader`): ~100k ratings as rows
    cost ~300 ms in SQLAlchemy's row handling, against ~20 ms as arrays. SQLite has no
    arrays: rows, transposed."""
    columns: list[np.ndarray] = _read_all(session, (statement, False))[0]
    return columns


def _coded_columns(
    session: Session, statement: _Statement
) -> tuple[list[str], np.ndarray, list[np.ndarray]]:
    """The statement's first column coded: its distinct values and each row's index
    among them, and its other (integer) columns as one array each, rows in the same
    order.

    On PostgreSQL grouped by that column, one array per other column and group: no
    text crosses the wire per row (~110k competency names as a text array, decoded and
    coded here, were ~40 ms of the interviewers report at 100k)."""
    coded: tuple[list[str], np.ndarray, list[np.ndarray]] = _read_all(session, (statement, True))[0]
    return coded


def _read_all(session: Session, *reads: tuple[_Statement, bool]) -> list[Any]:
    """Each statement's result as `_columns` (False) or `_coded_columns` (True) gives it,
    on PostgreSQL all sent at once (`_concurrent_rows`)."""
    if not _has_arrays(session):
        return [
            _coded_rows(session.execute(statement()).all(), statement)
            if coded
            else _column_rows(session.execute(statement()).all(), statement)
            for statement, coded in reads
        ]
    dialect = session.get_bind().dialect
    results = _concurrent_rows(
        session, [_array_sql(statement, dialect, grouped=coded) for statement, coded in reads]
    )
    return [
        _coded_arrays(rows, statement) if coded else _column_arrays(rows, statement)
        for (statement, coded), rows in zip(reads, results, strict=True)
    ]


def _column_rows(rows: Sequence[Sequence[Any]], statement: _Statement) -> list[np.ndarray]:
    width = len(statement().selected_columns)
    return [_integers(column) for column in _transposed(rows, width)]


def _column_arrays(rows: list[tuple[Any, ...]], statement: _Statement) -> list[np.ndarray]:
    width = len(statement().selected_columns)
    # array_agg over no rows is NULL.
    return [_integers([]) if c is None else c for c in (rows[0] if rows else [None] * width)]


def _coded_rows(
    rows: Sequence[Sequence[Any]], statement: _Statement
) -> tuple[list[str], np.ndarray, list[np.ndarray]]:
    width = len(statement().selected_columns) - 1
    codes: dict[str, int] = {}
    coded = _integers([codes.setdefault(row[0], len(codes)) for row in rows])
    columns = _transposed([row[1:] for row in rows], width)
    return list(codes), coded, [_integers(column) for column in columns]


def _coded_arrays(
    groups: list[tuple[Any, ...]], statement: _Statement
) -> tuple[list[str], np.ndarray, list[np.ndarray]]:
    width = len(statement().selected_columns) - 1
    names = [group[0] for group in groups]
    sizes = [len(group[1]) for group in groups]
    coded = np.repeat(np.arange(len(groups), dtype=np.int64), sizes)
    arrays = [
        np.concatenate([group[1 + i] for group in groups]) if groups else _integers([])
        for i in range(width)
    ]
    return names, coded, arrays


@functools.lru_cache(maxsize=32)
def _array_sql(statement: _Statement, dialect: Dialect, *, grouped: bool) -> str:
    """The SQL of the statement's columns as arrays (grouped: by its first column, one
    array per other column and group), compiled once: compiling the report's statements
    was ~12 ms of CPU per request. The statements are built once too (cached builders),
    their constants written into the SQL."""
    inner = statement().subquery()
    if grouped:
        key, *values = inner.c
        stmt = select(key, *(func.array_agg(column) for column in values)).group_by(key)
    else:
        stmt = select(*(func.array_agg(column) for column in inner.c))
    return str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def _has_arrays(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _transposed(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    return (
        [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]
    )


def _concurrent_rows(session: Session, queries: list[str]) -> list[list[tuple[Any, ...]]]:
    """`_binary_rows` of each query, the first on the session's connection and the others
    each on a connection of its own from the engine's pool (at most two more), at the
    same time: PostgreSQL runs one query per connection on one core, and the report's
    reads are independent (~0.7 of their sequential time on a loaded two-core machine,
    less on an idle one).

    Only when that reads what the session would: its transaction has written nothing
    (`txid_current_if_assigned`; what it wrote is seen by it alone) and each of its
    statements takes a new snapshot (read committed, as every other connection's
    statement does). Otherwise, and for a session bound to a connection rather than an
    engine, one after the other on the session's connection."""
    bind = session.get_bind()
    if len(queries) < 2 or not isinstance(bind, Engine) or not session.scalar(_UNWRITTEN):
        return [_binary_rows(session, sql) for sql in queries]
    with ThreadPoolExecutor(max_workers=min(2, len(queries) - 1)) as pool:
        others = [pool.submit(_own_connection_rows, bind, sql) for sql in queries[1:]]
        first = _binary_rows(session, queries[0])
        return [first, *(other.result() for other in others)]


_UNWRITTEN = text(
    "SELECT txid_current_if_assigned() IS NULL "
    "AND current_setting('transaction_isolation') = 'read committed'"
)


def _own_connection_rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return _driver_rows(cast(psycopg.Connection, connection.connection.driver_connection), sql)


def _binary_rows(session: Session, sql: str) -> list[tuple[Any, ...]]:
    """Every row of a PostgreSQL query on the session's connection (`_driver_rows`)."""
    driver = cast(psycopg.Connection, session.connection().connection.driver_connection)
    return _driver_rows(driver, sql)


def _driver_rows(driver: psycopg.Connection, sql: str) -> list[tuple[Any, ...]]:
    """Every row of a query, read over psycopg's binary protocol, its integer arrays as
    numpy arrays (`_IntegerArrayLoader`)."""
    with driver.cursor(binary=True) as cursor:
        for name in ("int4", "int8"):
            array_oid = postgres.types[name].array_oid
            cursor.adapters.register_loader(array_oid, _IntegerArrayLoader)
        cursor.execute(sql)
        return cursor.fetchall()


class _IntegerArrayLoader(Loader):
    """A one-dimensional PostgreSQL integer array in binary form, as a numpy int64 array.

    psycopg's own loader makes a Python int per element (~160 ns each: ~18 ms of the
    interviewers report per column of ~110k ratings); the binary form is a header and
    then (length, big-endian value) pairs, which numpy reads in place. Registered only
    on `_binary_rows`' cursor; an array holding a NULL is refused."""

    format = Format.BINARY

    def load(self, data: Buffer) -> np.ndarray:
        dimensions, has_null, element_oid = struct.unpack_from(">iiI", data)
        if dimensions == 0:
            return _integers([])
        if dimensions != 1 or has_null:
            raise ValueError("expected a one-dimensional integer array without NULLs")
        width = 8 if element_oid == postgres.types["int8"].oid else 4
        pairs = np.frombuffer(data, dtype=[("size", ">i4"), ("value", f">i{width}")], offset=20)
        return pairs["value"].astype(np.int64)


def halo_counts(ratings: CurrentRatings) -> dict[int, int]:
    """Per interviewer: current revisions with one score given to HALO_MIN_COMPETENCIES
    or more competencies (unscored ones left out).

    Counted per revision position (dense: no sort): a revision's scores are all one
    when none differs from one of them, taken as any of its ratings' (~4 against ~11 ms
    of CPU for np.unique and reduceat over ~100k ratings)."""
    scored = ratings.chars >= 0
    revision, score = ratings.revision[scored], ratings.score[scored]
    if not len(revision):
        return {}
    size = int(revision.max()) + 1
    one_score = np.zeros(size, dtype=np.int64)
    one_score[revision] = score
    author = np.zeros(size, dtype=np.int64)
    author[revision] = ratings.author_id[scored]
    scores = np.bincount(revision, minlength=size)
    differing = np.bincount(revision, weights=score != one_score[revision], minlength=size)
    halo = (scores >= HALO_MIN_COMPETENCIES) & (differing == 0)
    found, counts = np.unique(author[halo], return_counts=True)
    return dict(zip(found.tolist(), counts.tolist(), strict=True))


def rating_summaries(ratings: CurrentRatings) -> dict[int, tuple[int, int, float | None]]:
    """Per interviewer: (ratings assigned, ratings scored, median evidence length of the
    scored ones in characters, None when none is scored)."""
    authors, assigned = np.unique(ratings.author_id, return_counts=True)
    scored = ratings.chars >= 0
    # One sort of (author, length) packed into one integer: faster than lexsort's two keys.
    span = int(ratings.chars.max(initial=0)) + 1
    by_author, chars = np.divmod(
        np.sort(ratings.author_id[scored] * span + ratings.chars[scored]), span
    )
    scored_authors, starts, counts = np.unique(by_author, return_index=True, return_counts=True)
    lower = chars[starts + (counts - 1) // 2]
    upper = chars[starts + counts // 2]
    medians = dict(zip(scored_authors.tolist(), ((lower + upper) / 2).tolist(), strict=True))
    n_scored = dict(zip(scored_authors.tolist(), counts.tolist(), strict=True))
    return {
        author: (n, n_scored.get(author, 0), medians.get(author))
        for author, n in zip(authors.tolist(), assigned.tolist(), strict=True)
    }


def reliability_sums(
    session: Session, ratings: CurrentRatings
) -> list[tuple[str, str, int, int, int, int, int]]:
    """Scored ratings of current revisions as sums per template key, competency and panel
    size m (a candidate's number of ratings of that competency): (template key, competency,
    m, candidates, Σ score, Σ score², Σ over candidates of (their Σ score)²), sorted."""
    scored = ratings.chars >= 0
    if not scored.any():
        return []
    score = ratings.score[scored]
    competency = ratings.competency[scored]
    application = ratings.application_id[scored]
    # One cell per candidate (application) and competency.
    n_competencies = len(ratings.competencies)
    _, first, cell = np.unique(
        application * n_competencies + competency, return_index=True, return_inverse=True
    )
    m = np.bincount(cell)
    total = np.bincount(cell, weights=score).astype(np.int64)
    total_sq = np.bincount(cell, weights=score * score).astype(np.int64)
    # Then one group per template version, competency and m.
    versions, version = np.unique(ratings.template_version_id[scored][first], return_inverse=True)
    sizes = int(m.max()) + 1
    groups, group = np.unique(
        (version * n_competencies + competency[first]) * sizes + m, return_inverse=True
    )
    per_group = [
        np.bincount(group, weights=w).astype(np.int64)
        for w in (np.ones_like(total), total, total_sq, total * total)
    ]
    keys = template_keys(session)
    sums: dict[tuple[str, str, int], list[int]] = {}
    for i, code in enumerate(groups.tolist()):
        cell_code, size = divmod(code, sizes)
        version_index, competency_code = divmod(cell_code, n_competencies)
        key = (keys[int(versions[version_index])], ratings.competencies[competency_code], size)
        row = sums.setdefault(key, [0, 0, 0, 0])
        for j, values in enumerate(per_group):
            row[j] += int(values[i])
    return [
        (key, competency, m, n, t, sq, csq)
        for (key, competency, m), (n, t, sq, csq) in sorted(sums.items())
    ]


def run_effects(session: Session, run_id: int) -> dict[int, Row[*tuple[Any, ...]]]:
    """Per interviewer, the report's columns of their effect in the given calibration run
    (state, leniency, se, se_absolute, n_ratings): plain rows, not the ~1000 ORM objects
    of `persistence.calibration.leniencies`."""
    effect = InterviewerCalibration
    stmt = select(
        effect.interviewer_id,
        effect.state,
        effect.leniency,
        effect.se,
        effect.se_absolute,
        effect.n_ratings,
    ).where(effect.run_id == run_id)
    return {row.interviewer_id: row for row in session.execute(stmt)}


def template_keys(session: Session) -> dict[int, str]:
    """Template key of every template version id."""
    rows = session.execute(select(TemplateVersion.id, TemplateVersion.key))
    return {version: key for version, key in rows}
