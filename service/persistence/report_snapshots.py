"""Stored report snapshots: an organisation-wide report as computed, and when.

A row per report (`key`); `report` is the use case's output as JSON text (aggregates
only, already suppressed), null until computed and again after an invalidation.
`generation` counts invalidations: a refresh reads it before it computes and stores
its result only if it is unchanged, so a report computed from data read before an
erasure committed is never stored after it. `refresh_requested_at` is the claim of
the one refresh a stale snapshot enqueues.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, Text, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from service.persistence.base import Base


class ReportSnapshot(Base):
    __tablename__ = "report_snapshots"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    generation: Mapped[int] = mapped_column(default=0)
    report: Mapped[str | None] = mapped_column(Text)
    computed_at: Mapped[datetime | None]
    refresh_requested_at: Mapped[datetime | None]


@dataclass(frozen=True)
class StoredSnapshot:
    generation: int
    report: str | None
    computed_at: datetime | None
    refresh_requested_at: datetime | None


def read_snapshot(session: Session, key: str) -> StoredSnapshot | None:
    """The stored row of `key`, or None when no row was ever made for it."""
    row = session.execute(
        select(
            ReportSnapshot.generation,
            ReportSnapshot.report,
            ReportSnapshot.computed_at,
            ReportSnapshot.refresh_requested_at,
        ).where(ReportSnapshot.key == key)
    ).one_or_none()
    return None if row is None else StoredSnapshot(*row)


def ensure_snapshot_row(session: Session, key: str) -> int:
    """Make the (empty) row of `key` if there is none, commit, and return its generation.

    Committed before the report is computed, so an invalidation that commits during
    the computation has a row to count on; a row made by a concurrent caller is kept.
    """
    stored = read_snapshot(session, key)
    if stored is not None:
        return stored.generation
    try:
        with session.begin_nested():
            session.add(ReportSnapshot(key=key))
    except IntegrityError:
        pass  # a concurrent caller made it first: theirs is the row
    session.commit()
    generation = session.scalar(select(ReportSnapshot.generation).where(ReportSnapshot.key == key))
    assert generation is not None  # the row exists now, ours or the other caller's
    return generation


def store_snapshot(
    session: Session, key: str, generation: int, report: str, computed_at: datetime
) -> bool:
    """Store `report` unless the snapshot was invalidated since `generation` was read; the
    caller commits. Returns whether it was stored."""
    result = session.execute(
        update(ReportSnapshot)
        .where(ReportSnapshot.key == key, ReportSnapshot.generation == generation)
        .values(report=report, computed_at=computed_at, refresh_requested_at=None)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def claim_refresh(
    session: Session, key: str, generation: int, now: datetime, older_than: datetime
) -> bool:
    """Claim the refresh of a stale snapshot: true for one caller only, until the refresh
    stores a new report or the claim itself is older than `older_than` (a refresh lost
    with Redis is asked for again). The caller commits."""
    result = session.execute(
        update(ReportSnapshot)
        .where(
            ReportSnapshot.key == key,
            ReportSnapshot.generation == generation,
            (ReportSnapshot.refresh_requested_at.is_(None))
            | (ReportSnapshot.refresh_requested_at < older_than),
        )
        .values(refresh_requested_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def invalidate_snapshots(session: Session) -> None:
    """Drop every stored report (the next view computes it again) in the caller's
    transaction, and count the invalidation so that no refresh under way stores a
    report read before it."""
    session.execute(
        update(ReportSnapshot)
        .values(
            generation=ReportSnapshot.generation + 1,
            report=None,
            computed_at=None,
            refresh_requested_at=None,
        )
        .execution_options(synchronize_session=False)
    )
