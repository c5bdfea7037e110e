"""Report snapshots: an organisation-wide report served from its last computation.

The adverse-impact report over every requisition and the interviewers report count
every application and rating of the organisation (about 200 ms each at 100k
applications), and the admin's pages show them on every view. A snapshot is such a
report as its use case computed it (aggregates only, small groups already
suppressed, self-identification only as group counts: nothing the use case would
not return), stored with the time its computation began (`persistence.report_snapshots`).

- Fresh (younger than REPORT_SNAPSHOT_MAX_AGE seconds): served as stored.
- Stale: served as stored while one refresh is enqueued (claimed in the row, and
  a deterministic job id, so many page views at once ask once); the page says how
  old its figures are, and its "Refresh now" computes them there and then.
- None (never computed, or invalidated): computed in the request and stored.

The caller (the report use case) checks the actor's permission before it calls
`serve`: a stored report is never returned to someone who may not read it.

Invalidated (`persistence.report_snapshots.invalidate_snapshots`, in the
transaction of the change) by what must never be shown stale: an erasure (the
person's data must be gone from every view the moment it commits) and a new
calibration run (it is what the calibration page shows; an admin who ran one
expects to see it). Stage moves, new applications, scorecards and self-
identification answers do not invalidate: each changes organisation-wide rates
by one person among thousands, these reports are read for patterns over months,
the page states the figures' age, and invalidating on every move would have the
busiest hours recompute the whole report on nearly every view, the cost the
snapshot exists to avoid. They are at most max-age (plus one refresh) behind.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from service import jobs
from service.persistence.base import transaction, utcnow
from service.persistence.report_snapshots import (
    claim_refresh,
    ensure_snapshot_row,
    read_snapshot,
    store_snapshot,
)

Compute = Callable[[Session], dict[str, Any]]

_DATETIME = "$datetime"


@dataclass(frozen=True)
class Snapshot:
    """A report and the time its computation began; `stale`: older than the max age
    (a refresh has been asked for)."""

    report: dict[str, Any]
    computed_at: datetime
    stale: bool = False


@dataclass(frozen=True)
class RefreshJob:
    """The job that recomputes a snapshot in a worker: its dotted name and arguments."""

    function: str
    args: tuple[Any, ...] = ()


def serve(
    session: Session, key: str, compute: Compute, *, max_age: int, refresh_job: RefreshJob
) -> Snapshot:
    """The stored report of `key` (module docstring): as stored when fresh, as stored
    with a refresh enqueued when stale, computed now when there is none.
    The caller has checked the actor's permission."""
    stored = read_snapshot(session, key)
    if stored is None or stored.report is None or stored.computed_at is None:
        return refresh(session, key, compute)
    now = utcnow()
    stale = now - stored.computed_at > timedelta(seconds=max_age)
    if stale:
        _ask_for_refresh(session, key, stored.generation, now, max_age, refresh_job)
    return Snapshot(_decode(stored.report), stored.computed_at, stale)


def refresh(session: Session, key: str, compute: Compute) -> Snapshot:
    """Compute the report of `key` now and store it, unless an invalidation commits while
    it is computed (then it is returned, as of its start, but not stored)."""
    with transaction(session) as writer:
        generation = ensure_snapshot_row(writer, key)
        started = utcnow()
        encoded = _encode(compute(writer))
        store_snapshot(writer, key, generation, encoded, started)
        writer.commit()
    # Decoded from what was stored, so the first view shows what every later one will.
    return Snapshot(_decode(encoded), started)


def _ask_for_refresh(
    session: Session, key: str, generation: int, now: datetime, max_age: int, job: RefreshJob
) -> None:
    """Enqueue the refresh once: the claim in the row lets one page view through (again
    only after another max age, should the job be lost with Redis)."""
    with transaction(session) as writer:
        if claim_refresh(writer, key, generation, now, now - timedelta(seconds=max_age)):
            jobs.enqueue_after_commit(
                writer,
                job.function,
                *job.args,
                job_id=f"report-snapshot-{key}",
                retry=jobs.transient_retry(),
            )
        writer.commit()


def _encode(report: dict[str, Any]) -> str:
    return json.dumps(report, default=_tag_datetime, separators=(",", ":"))


def _tag_datetime(value: Any) -> dict[str, str]:
    if isinstance(value, datetime):
        return {_DATETIME: value.isoformat()}
    raise TypeError(f"a report holds {type(value).__name__}, which a snapshot cannot store")


def _decode(text: str) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(text, object_hook=_untag_datetime)
    return report


def _untag_datetime(value: dict[str, Any]) -> Any:
    if len(value) == 1 and _DATETIME in value:
        return datetime.fromisoformat(value[_DATETIME])
    return value
