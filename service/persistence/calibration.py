"""Stored calibration fits: when, from which data, and every interviewer's effect.

The assessment reads the latest run; it never refits on a request.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from service.domain.calibration_scale import CALIBRATION_STATES, MODELS
from service.persistence.base import Base, checked_enum, utcnow

# An interviewer's stored state: NOT_FITTED is the absence of a row, never stored.
STORED_STATES = tuple(s for s in CALIBRATION_STATES if s != "not_fitted")


class CalibrationRun(Base):
    __tablename__ = "calibration_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    fitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    fitted_with: Mapped[str] = mapped_column(String(20))  # "reml" or "refresh"
    # Runs fitted before there was a choice were all linear.
    model: Mapped[str] = mapped_column(checked_enum(MODELS, "calibration_model"), default="linear")
    data_digest: Mapped[str] = mapped_column(String(64))
    n_ratings: Mapped[int]
    n_units: Mapped[int]
    n_components: Mapped[int]
    # On the model's scale (points² or logits²); None: the data cannot determine it (reason).
    sigma2_unit: Mapped[float | None]
    sigma2_interviewer: Mapped[float | None]
    sigma2_residual: Mapped[float]
    sigma2_unit_reason: Mapped[str | None] = mapped_column(Text)
    sigma2_interviewer_reason: Mapped[str | None] = mapped_column(Text)
    # `calibration_scale.RatingScale.to_dict()`: how calibrated scores map onto the rubric.
    scale: Mapped[dict[str, Any] | None]
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
    state: Mapped[str] = mapped_column(
        checked_enum(STORED_STATES, "calibration_state"), default="applied"
    )
    # Points above co-panelists within the interviewer's group; None without an estimate.
    leniency: Mapped[float | None]
    se: Mapped[float | None]
    se_absolute: Mapped[float | None]  # against a typical interviewer (intercept's uncertainty)
    shift: Mapped[float | None]  # the effect on the model's scale, for calibrated scores
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


def panel_calibration(
    session: Session, interviewer_ids: Iterable[int]
) -> tuple[dict[str, Any] | None, dict[int, InterviewerCalibration]]:
    """The latest run's rating scale and the named interviewers' effects from it, in one
    query (an assessment's panel); (None, {}) before a fit or when none of them has one."""
    latest = select(func.max(CalibrationRun.id)).scalar_subquery()
    rows = session.execute(
        select(InterviewerCalibration, CalibrationRun.scale)
        .join(CalibrationRun, CalibrationRun.id == InterviewerCalibration.run_id)
        .where(
            InterviewerCalibration.run_id == latest,
            InterviewerCalibration.interviewer_id.in_(list(interviewer_ids)),
        )
    ).all()
    scale = rows[0].scale if rows else None
    return scale, {effect.interviewer_id: effect for effect, _ in rows}


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
