"""Stored calibration fits: when, from which data, and every interviewer's effect.

The assessment reads the latest run; it never refits on a request.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from service.persistence.base import Base, utcnow


class CalibrationRun(Base):
    __tablename__ = "calibration_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    fitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    fitted_with: Mapped[str] = mapped_column(String(20))  # "reml" or "refresh"
    data_digest: Mapped[str] = mapped_column(String(64))
    n_ratings: Mapped[int]
    n_units: Mapped[int]
    n_components: Mapped[int]
    sigma2_unit: Mapped[float]
    sigma2_interviewer: Mapped[float]
    sigma2_residual: Mapped[float]
    reml_criterion: Mapped[float]
    icc1: Mapped[float | None]
    icck: Mapped[float | None]
    krippendorff_alpha: Mapped[float | None]
    seconds: Mapped[float]

    effects: Mapped[list[InterviewerCalibration]] = relationship(back_populates="run")


class InterviewerCalibration(Base):
    __tablename__ = "interviewer_calibrations"
    __table_args__ = (UniqueConstraint("run_id", "interviewer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("calibration_runs.id"), index=True)
    interviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    leniency: Mapped[float]
    se: Mapped[float]
    n_ratings: Mapped[int]
    n_copanelists: Mapped[int]
    connected: Mapped[bool]
    copanel_deviation: Mapped[float | None]
    disagrees: Mapped[bool]
    insufficient_data: Mapped[bool]
    explanation: Mapped[str] = mapped_column(Text)

    run: Mapped[CalibrationRun] = relationship(back_populates="effects")


def latest_run(session: Session) -> CalibrationRun | None:
    return session.scalar(select(CalibrationRun).order_by(CalibrationRun.id.desc()).limit(1))


def leniencies(
    session: Session, interviewer_ids: Iterable[int] | None = None
) -> dict[int, InterviewerCalibration]:
    """Interviewers' effects from the latest run (all, or those named; empty before a fit)."""
    run = latest_run(session)
    if run is None:
        return {}
    stmt = select(InterviewerCalibration).where(InterviewerCalibration.run_id == run.id)
    if interviewer_ids is not None:
        stmt = stmt.where(InterviewerCalibration.interviewer_id.in_(list(interviewer_ids)))
    return {e.interviewer_id: e for e in session.scalars(stmt)}
