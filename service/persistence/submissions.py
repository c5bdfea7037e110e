"""Writing a submission: the scorecard's upsert, its first revision with its ratings, its
audit event and its outbox event; on PostgreSQL in one statement.

Through the unit of work these rows took the upsert, one flush of four INSERTs and, at
the commit, the stored assessment's invalidation: six round trips and the flush's
bookkeeping (BENCHMARKS.md, "Issue 18: the submission in one statement"). PostgreSQL
runs data-modifying CTEs, so `write_submission` sends them all as one statement, built
once, with the invalidation in it. The audit event's `after` and the outbox event's
`data` name the scorecard's id, which only the upsert knows: the caller gives them with
`Scorecard` columns standing for the written row's values (`Scorecard.id`), and the
statement builds their JSON itself (`json_build_object`, the keys in the caller's order,
a datetime as `datetime.isoformat` writes it, as `base.snapshot` does). The statement
also returns the scorecard's author, which the response names (the relationship is
loaded with the scorecard, `lazy="joined"`; read afterwards it was one more round trip).
The statement is kept under 4 kB (short CTE and parameter names): psycopg keeps its
parsing of a statement's placeholders only up to that length and parsed the longer one
again on every call, 0.25 ms of CPU (tests/usecases/test_scorecard_submission.py says
when a new column pushes it over).

SQLite has no data-modifying CTEs: there the upsert goes first
(`persistence.scorecards.insert_submitted`), the columns are filled in from its row, and
the other rows go through the unit of work, whose notes invalidate the stored assessment
(`persistence.assessment_read_model`).

Either way every row is written in the caller's transaction, so they commit or roll back
together; an interview already submitted gets nothing written at all (the statement's
every INSERT reads the upsert's row, and there is none); and the scorecard, its revision
and its ratings end up persistent in the session, as a flush leaves them.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    JSON,
    LABEL_STYLE_NONE,
    ColumnElement,
    Integer,
    Select,
    Table,
    Text,
    bindparam,
    cast,
    func,
    insert,
    literal_column,
    select,
    true,
)
from sqlalchemy import inspect as inspect_instance
from sqlalchemy.orm import QueryableAttribute, Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from service.persistence.assessment_read_model import invalidation_on_postgresql
from service.persistence.audit import AuditEvent, record_event
from service.persistence.audit import new_event as new_audit_event
from service.persistence.base import Base, UTCDateTime, persistent_from_row
from service.persistence.interviews import Interview
from service.persistence.outbox import OutboxEvent
from service.persistence.scorecards import (
    Scorecard,
    ScorecardRating,
    ScorecardRevision,
    insert_submitted,
    submission_upsert,
)
from service.persistence.users import User

# The audit event's entity: the scorecard written.
_ENTITY_TYPE = "scorecard"


@dataclass(frozen=True)
class Submission:
    """A scorecard to submit: `interview`'s, at revision 1, with `revision` (and its
    `ratings`) as its only revision, the audit event `audit_action` by `actor_id` on it
    with `audit_after`, and the outbox `event`.

    A value of `audit_after` or of `event.data` that is a `Scorecard` column
    (`Scorecard.id`) stands for the written row's value."""

    interview: Interview
    revision: ScorecardRevision
    submitted_at: datetime
    late: bool
    actor_id: int
    audit_action: str
    audit_after: Mapping[str, Any]
    event: OutboxEvent


def write_submission(session: Session, submission: Submission) -> Scorecard | None:
    """Write `submission` (`insert_submitted`'s upsert and the rest) in `session`'s
    transaction. Returns the scorecard, persistent, or None when it was already
    submitted (then nothing is written). `revision.after_seeing_others` is set here,
    from the same statement (`insert_submitted`'s `seen_others`)."""
    if session.get_bind().dialect.name != "postgresql":
        return _through_the_unit_of_work(session, submission)
    interview, revision, event = submission.interview, submission.revision, submission.event
    # Its entity_id is the written row's.
    audit = new_audit_event(submission.actor_id, submission.audit_action, _ENTITY_TYPE, 0)
    ratings = revision.ratings
    params = {
        "interview_id": interview.id,
        "application_id": interview.application_id,
        "author_id": interview.interviewer_id,
        "submitted_at": submission.submitted_at,
        "late": submission.late,
        **_bound_values(revision, "r_", _REVISION_FROM_ROW),
        **_bound_values(audit, "a_", _AUDIT_FROM_ROW),
        **_bound_values(event, "o_", _OUTBOX_FROM_ROW),
        **_json_values(submission.audit_after, "aj"),
        **_json_values(event.data, "oj"),
        # The ratings' columns as arrays, unnested in their order (`_statement`'s `g`).
        "cs": [r.competency for r in ratings],
        "ss": [r.score for r in ratings],
        "es": [r.evidence for r in ratings],
    }
    stmt = _statement(_shape(submission.audit_after), _shape(event.data))
    rows = session.connection().execute(stmt, params).all()
    if not rows:
        return None
    first = rows[0]
    scorecard_values = dict(zip(_SCORECARD_KEYS, first[:_SEEN_AT], strict=True))
    scorecard = persistent_from_row(session, Scorecard, scorecard_values)
    author_values = dict(zip(_USER_KEYS, first[_AUTHOR_AT:_REVISION_AT], strict=True))
    author = persistent_from_row(session, User, author_values)
    revision.id = first[_REVISION_AT]
    revision.scorecard_id = scorecard.id
    revision.after_seeing_others = bool(first[_SEEN_AT])
    rating_ids = [row[_RATING_AT] for row in rows if row[_RATING_AT] is not None]
    assert len(rating_ids) == len(ratings), "the statement wrote every rating once"
    for rating, rating_id in zip(ratings, rating_ids, strict=True):
        rating.id, rating.revision_id = rating_id, revision.id
    for obj in (revision, *ratings):
        make_transient_to_detached(obj)  # its values are the stored row's
    session.add(revision)  # detached to persistent: nothing to write (cascades to ratings)
    set_committed_value(revision, "scorecard", scorecard)
    _loaded(scorecard, interview, author, [revision])
    return scorecard


def _through_the_unit_of_work(session: Session, submission: Submission) -> Scorecard | None:
    """`write_submission` on SQLite: the upsert, then the other rows in one flush."""
    submitted = insert_submitted(
        session, submission.interview, submitted_at=submission.submitted_at, late=submission.late
    )
    if submitted is None:
        return None
    scorecard, seen_others = submitted
    revision, event = submission.revision, submission.event
    revision.after_seeing_others = seen_others
    revision.scorecard = scorecard
    event.data = _filled_in(event.data, scorecard)
    session.add_all([revision, event])
    record_event(
        session,
        submission.actor_id,
        submission.audit_action,
        _ENTITY_TYPE,
        scorecard.id,
        after=_filled_in(submission.audit_after, scorecard),
    )
    session.flush()
    return scorecard


def _loaded(
    scorecard: Scorecard, interview: Interview, author: User, revisions: list[ScorecardRevision]
) -> None:
    """The scorecard's relationships as a query would have loaded them, so that reading
    them (the response) loads nothing."""
    set_committed_value(scorecard, "interview", interview)
    set_committed_value(scorecard, "author", author)
    set_committed_value(scorecard, "revisions", revisions)


def _is_column(value: Any) -> bool:
    return isinstance(value, QueryableAttribute) and value.class_ is Scorecard


def _filled_in(values: Mapping[str, Any], scorecard: Scorecard) -> dict[str, Any]:
    """`values` with each `Scorecard` column replaced by `scorecard`'s value, as JSON data."""
    filled = {}
    for key, value in values.items():
        stored = getattr(scorecard, value.key) if _is_column(value) else value
        filled[key] = stored.isoformat() if isinstance(stored, datetime) else stored
    return filled


def _shape(values: Mapping[str, Any]) -> tuple[tuple[str, str | None], ...]:
    """The keys of `values`, each with the `Scorecard` column it names (None: a value
    given), which `_statement` is built for."""
    return tuple((key, value.key if _is_column(value) else None) for key, value in values.items())


def _json_values(values: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """The given (not column) values of `values` as the statement's parameters."""
    return {
        f"{prefix}{i}": value for i, value in enumerate(values.values()) if not _is_column(value)
    }


def _bound_values(obj: Base, prefix: str, from_row: frozenset[str]) -> dict[str, Any]:
    """The row's column values (but its id and the columns `from_row`, which the
    statement takes from the scorecard's row) as the statement's parameters, a column
    left unset taking its default, as a flush would (and set on `obj`, as after a flush)."""
    state = inspect_instance(obj)
    values = {}
    table: Table = obj.__table__  # type: ignore[assignment]
    for column in _written_columns(table):
        if column.key in from_row:
            continue
        if column.key not in state.dict:
            setattr(obj, column.key, _default(column))
        values[_parameter(prefix, table, column.key)] = getattr(obj, column.key)
    return values


def _default(column: Any) -> Any:
    default = column.default
    if default is None:
        return None
    return default.arg(None) if default.is_callable else default.arg


def _parameter(prefix: str, table: Table, key: str) -> str:
    """The name of the bind parameter for column `key` of `table`: `prefix` and the
    column's position, short (see `_statement` on the statement's length)."""
    return f"{prefix}{_positions(table)[key]}"


@functools.cache
def _positions(table: Table) -> dict[str, int]:
    return {key: i for i, key in enumerate(table.columns.keys())}


def _written_columns(table: Table) -> list[Any]:
    return [c for c in table.columns if c.key != "id" and c.computed is None]


# The columns each row takes from the statement rather than from a parameter.
_REVISION_FROM_ROW = frozenset({"scorecard_id", "after_seeing_others"})
_AUDIT_FROM_ROW = frozenset({"entity_id", "after"})
_OUTBOX_FROM_ROW = frozenset({"data"})
# The result's columns, by position (unlabelled, to keep the statement short, below):
# the scorecard's, `seen_others`, its author's, the revision's id and a rating's.
_SCORECARD_KEYS = [c.key for c in Scorecard.__table__.columns]
_USER_KEYS = [c.key for c in User.__table__.columns]
_SEEN_AT = len(_SCORECARD_KEYS)
_AUTHOR_AT = _SEEN_AT + 1
_REVISION_AT = _AUTHOR_AT + len(_USER_KEYS)
_RATING_AT = _REVISION_AT + 1


def _text(value: str) -> ColumnElement[str]:
    """A string constant written into the statement (keys and formats from this code), so
    that it is not one more parameter to bind on every execution."""
    return literal_column("'" + value.replace("'", "''") + "'", Text)


def _isoformat(value: ColumnElement[Any]) -> ColumnElement[str]:
    """`datetime.isoformat()` of a UTC timestamp, in SQL: microseconds only when there
    are some, the offset `+00:00`."""
    text = func.to_char(
        func.timezone(_text("UTC"), value), _text('YYYY-MM-DD"T"HH24:MI:SS.US+00:00')
    )
    return func.replace(text, _text(".000000+"), _text("+"))


def _json_object(
    shape: tuple[tuple[str, str | None], ...], row: Any, prefix: str
) -> ColumnElement[Any]:
    """`json_build_object` of `shape`'s keys, in order: a column's value from `row` (a
    datetime as its isoformat), a given value from its JSON parameter."""
    arguments: list[Any] = []
    for i, (key, column) in enumerate(shape):
        if column is None:
            value: Any = bindparam(f"{prefix}{i}", type_=JSON)
        elif isinstance(row.c[column].type, UTCDateTime):
            value = _isoformat(row.c[column])
        else:
            value = row.c[column]
        arguments += [_text(key), value]
    return func.json_build_object(*arguments, type_=JSON)


def _inserted_from(table: Table, prefix: str, from_row: dict[str, Any], source: Any) -> Any:
    """INSERT INTO `table` SELECT its parameters (`prefix`ed), and `from_row`'s
    expressions for the columns it names, FROM `source` (one row, or none)."""
    columns = [c.key for c in _written_columns(table)]
    values = [
        from_row[key]
        if key in from_row
        else bindparam(_parameter(prefix, table, key), type_=table.c[key].type)
        for key in columns
    ]
    return insert(table).from_select(columns, select(*values).select_from(source))


@functools.lru_cache(maxsize=8)
def _statement(
    after_shape: tuple[tuple[str, str | None], ...], data_shape: tuple[tuple[str, str | None], ...]
) -> Select[Any]:
    """WITH scorecard (the upsert, its row and `seen_others`), revision, ratings (from
    the arrays, in their order), audit, outbox, invalidated: SELECT the scorecard's row,
    its author's, `seen_others` and the revision's id beside each rating's, in the
    ratings' order. Built once for each shape of the audit's `after` and the event's
    `data` (one, in practice): building it is most of what it would cost per request."""
    # The CTEs' names are short: the statement is read by the driver, which keeps its
    # parsing of statements up to 4 kB (psycopg) and parses a longer one on every call.
    scorecard = submission_upsert("postgresql").cte("sc")
    revisions: Table = ScorecardRevision.__table__  # type: ignore[assignment]
    ratings_table: Table = ScorecardRating.__table__  # type: ignore[assignment]
    audits: Table = AuditEvent.__table__  # type: ignore[assignment]
    outboxes: Table = OutboxEvent.__table__  # type: ignore[assignment]
    author = User.__table__.alias("u")
    revision = (
        _inserted_from(
            revisions,
            "r_",
            {"scorecard_id": scorecard.c.id, "after_seeing_others": scorecard.c.seen_others},
            scorecard,
        )
        .returning(revisions.c.id)
        .cte("rv")
    )
    given = (
        func.unnest(
            cast(bindparam("cs"), ARRAY(Text)),
            cast(bindparam("ss"), ARRAY(Integer)),
            cast(bindparam("es"), ARRAY(Text)),
        )
        .table_valued("competency", "score", "evidence", with_ordinality="position")
        .render_derived(name="g")
    )
    ratings = (
        insert(ratings_table)
        .from_select(
            ["revision_id", "competency", "score", "evidence"],
            select(revision.c.id, given.c.competency, given.c.score, given.c.evidence)
            .select_from(revision)
            .join(given, true())
            .order_by(given.c.position),  # ids are given in this order
        )
        .returning(ratings_table.c.id)
        .cte("rt")
    )
    audit = _inserted_from(
        audits,
        "a_",
        {"entity_id": scorecard.c.id, "after": _json_object(after_shape, scorecard, "aj")},
        scorecard,
    )
    outbox = _inserted_from(
        outboxes, "o_", {"data": _json_object(data_shape, scorecard, "oj")}, scorecard
    )
    invalidated = invalidation_on_postgresql(scorecard.c.application_id)
    return (
        select(
            # The upsert's RETURNING: the table's columns, then `seen_others`, each named
            # rather than `sc.*`, so that SQLAlchemy matches the result's columns to the
            # statement's by position and keeps that matching with the compiled statement
            # (for `sc.*` it matched them by name on every execution: 4 % of the CPU of
            # a submission).
            *[scorecard.c[key] for key in _SCORECARD_KEYS],
            scorecard.c.seen_others,
            *[author.c[key] for key in _USER_KEYS],
            revision.c.id,
            ratings.c.id,
        )
        .set_label_style(LABEL_STYLE_NONE)
        .select_from(scorecard)
        .join(author, author.c.id == scorecard.c.author_id)
        .join(revision, true())
        .outerjoin(ratings, true())
        .order_by(ratings.c.id)
        .add_cte(audit.cte("au"), outbox.cte("ob"), invalidated.cte("inv"))
    )
