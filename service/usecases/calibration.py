"""Interviewer calibration: refit from every submitted rating, store it, read it.

The fit runs in a background job after submissions (and on demand); requests
only read the latest stored run.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from service import jobs
from service.config import DEFAULT_CALIBRATION_MODEL
from service.domain.access import ADMIN, RECRUITER, Viewer
from service.domain.calibration_scale import CalibrationModel, RatingScale
from service.domain.errors import NotFoundError, PermissionDeniedError
from service.domain.scorecards import ScorecardState
from service.persistence.audit import record_event
from service.persistence.calibration import (
    CalibrationRun,
    InterviewerCalibration,
    latest_run,
)
from service.persistence.packets import applications_awaiting_decision
from service.persistence.report_snapshots import invalidate_snapshots
from service.persistence.scorecards import Scorecard, ScorecardRating, ScorecardRevision
from service.persistence.users import User

if TYPE_CHECKING:
    # The fit (scipy, ~45 MB) is imported by the functions that run it, in a worker:
    # an API process only enqueues refits and reads stored runs.
    from service.domain.calibration import CalibrationFit, RatingTable, WarmStart

log = logging.getLogger(__name__)

REFRESH_JOB = jobs.REFRESH_CALIBRATION_JOB
REFRESH_JOB_ID = jobs.REFRESH_CALIBRATION_JOB_ID
# Refit the variance components once the data has grown by a quarter since the last full fit.
FULL_FIT_GROWTH = 0.8
MIN_RATINGS_TO_FIT = 20


def load_ratings(session: Session) -> RatingTable | None:
    """Every scored competency of every submitted scorecard's current revision, as columns."""
    from service.domain.calibration import RatingTable

    rows = session.execute(
        select(
            Scorecard.application_id,
            Scorecard.author_id,
            ScorecardRating.competency,
            ScorecardRating.score,
        )
        .join(
            ScorecardRevision,
            and_(
                ScorecardRevision.scorecard_id == Scorecard.id,
                ScorecardRevision.number == Scorecard.revision,
            ),
        )
        .join(ScorecardRating, ScorecardRating.revision_id == ScorecardRevision.id)
        .where(Scorecard.state == ScorecardState.SUBMITTED, ScorecardRating.score.is_not(None))
    ).all()
    if not rows:
        return None
    unit, interviewer, competency, score = zip(*rows, strict=True)
    return RatingTable(
        unit=np.array(unit).astype(str),
        interviewer=np.array(interviewer).astype(str),
        competency=np.array(competency, dtype=str),
        score=np.array(score, dtype=float),
    )


def refit_calibration(
    session: Session,
    *,
    full: bool = False,
    model: CalibrationModel = DEFAULT_CALIBRATION_MODEL,
) -> CalibrationRun | None:
    """Fit (or refresh, keeping the last variance components) and store the result.

    `model` is the CALIBRATION_MODEL setting; a run by another model, or one
    whose variance components the data could not determine, is never refreshed
    from. Skips the work when the data has not changed since the last run.
    Returns the new run, or None when there was nothing to do (or the data
    cannot be fitted yet, which is logged).
    """
    from service.domain.calibration import CalibrationDataError

    ratings = load_ratings(session)
    previous = latest_run(session)
    if ratings is None or not _enough_to_fit(ratings):
        return None
    started = time.perf_counter()
    try:
        result = _fit_or_refresh(session, ratings, previous, full, model)
    except CalibrationDataError as error:
        log.warning("calibration not fitted: %s", error.detail)
        return None
    if result is None:
        return None
    run = CalibrationRun(
        fitted_with=result.fitted_with,
        model=result.model,
        data_digest=result.data_digest,
        n_ratings=result.n_ratings,
        n_units=result.n_units,
        n_components=result.n_components,
        sigma2_unit=result.components.sigma2_unit,
        sigma2_interviewer=result.components.sigma2_interviewer,
        sigma2_residual=result.components.sigma2_residual,
        sigma2_unit_reason=result.components.unit_reason,
        sigma2_interviewer_reason=result.components.interviewer_reason,
        scale=result.scale.to_dict(),
        reml_criterion=result.reml_criterion,
        icc1=_finite(result.icc1),
        icck=_finite(result.icck),
        krippendorff_alpha=_finite(result.krippendorff_alpha),
        seconds=time.perf_counter() - started,
    )
    session.add(run)
    session.flush()
    names = dict(
        session.execute(
            select(User.id, User.name).where(User.id.in_([int(k) for k in result.effects]))
        ).all()
    )
    session.add_all(
        InterviewerCalibration(
            run_id=run.id,
            interviewer_id=int(label),
            state=effect.state.value,
            leniency=effect.leniency,
            se=effect.se,
            se_absolute=effect.se_absolute,
            shift=effect.shift,
            n_ratings=effect.n_ratings,
            n_copanelists=effect.n_copanelists,
            connected=effect.connected,
            copanel_deviation=_finite(effect.copanel_deviation),
            disagrees=effect.disagrees,
            insufficient_data=effect.insufficient_data,
            # The fit labels interviewers by id; the explanation names them.
            explanation=effect.explanation.replace(label, names[int(label)], 1),
        )
        for label, effect in result.effects.items()
    )
    record_event(
        session,
        None,
        "calibration.fitted",
        "calibration_run",
        run.id,
        after={
            "fitted_with": run.fitted_with,
            "model": run.model,
            "n_ratings": run.n_ratings,
            "data_digest": run.data_digest,
        },
    )
    # New leniencies change the calibrated scores of packets already made: make them
    # again ahead for the applications still waiting for their decision.
    for application_id in applications_awaiting_decision(session):
        jobs.prepare_packets_after_commit(session, application_id)
    # The calibration page's snapshot shows the previous run's leniencies.
    invalidate_snapshots(session)
    session.commit()
    log.info("calibration %s: %d ratings in %.2f s", run.fitted_with, run.n_ratings, run.seconds)
    return run


def _fit_or_refresh(
    session: Session,
    ratings: RatingTable,
    previous: CalibrationRun | None,
    full: bool,
    model: CalibrationModel,
) -> CalibrationFit | None:
    """A full fit when asked or due, else a refresh; None when a refresh changes nothing."""
    from service.domain.calibration import VarianceComponents, fit, refresh

    if (
        full
        or previous is None
        or previous.model != model
        or previous.sigma2_unit is None
        or previous.sigma2_interviewer is None
        or _needs_full_fit(session, len(ratings.score), model)
    ):
        return fit(ratings, model=model)
    result = refresh(
        ratings,
        VarianceComponents(
            previous.sigma2_unit, previous.sigma2_interviewer, previous.sigma2_residual
        ),
        model=model,
        start=_warm_start(session, previous),
    )
    return None if result.data_digest == previous.data_digest else result


def _warm_start(session: Session, run: CalibrationRun) -> WarmStart | None:
    """The stored run's scale and shifts, where the refresh's iterations start."""
    from service.domain.calibration import WarmStart

    if run.scale is None:
        return None
    shifts = session.execute(
        select(InterviewerCalibration.interviewer_id, InterviewerCalibration.shift).where(
            InterviewerCalibration.run_id == run.id, InterviewerCalibration.shift.is_not(None)
        )
    ).all()
    return WarmStart(
        RatingScale.from_dict(run.scale), {str(i): s for i, s in shifts if s is not None}
    )


def _enough_to_fit(ratings: RatingTable) -> bool:
    """Variance components need some history: a few dozen ratings by two or more people."""
    return len(ratings.score) >= MIN_RATINGS_TO_FIT and len(set(ratings.interviewer)) >= 2


def _needs_full_fit(session: Session, n_ratings: int, model: CalibrationModel) -> bool:
    """Variance components from a fit on much less data are not worth keeping."""
    last_full = session.scalar(
        select(CalibrationRun.n_ratings)
        .where(CalibrationRun.fitted_with == "reml", CalibrationRun.model == model)
        .order_by(CalibrationRun.id.desc())
        .limit(1)
    )
    return last_full is None or last_full < FULL_FIT_GROWTH * n_ratings


def request_refresh(session: Session, actor: Viewer) -> None:
    """Enqueue a full refit (admin). Runs in the worker, or inline without Redis."""
    if actor.role != ADMIN:
        raise PermissionDeniedError("Only admins may request a calibration refit.")
    record_event(session, actor.id, "calibration.refresh_requested", "calibration_run", 0)
    jobs.enqueue_after_commit(session, REFRESH_JOB, True, job_id=REFRESH_JOB_ID + "-full")
    session.commit()


def schedule_refresh(session: Session) -> None:
    """After an amendment: refresh the leniencies once it is committed (a submission's
    refresh follows its outbox event, `usecases.notifications`)."""
    jobs.refresh_calibration_after_commit(session)


def interviewer_calibration(
    session: Session, actor: Viewer, interviewer_id: int
) -> tuple[InterviewerCalibration | None, CalibrationRun | None]:
    """The latest stored effect for one interviewer (admin, recruiter, or themself)."""
    if actor.role not in (ADMIN, RECRUITER) and actor.id != interviewer_id:
        raise PermissionDeniedError(
            "Calibration is shown to admins, recruiters and the interviewer themself."
        )
    if session.get(User, interviewer_id) is None:
        raise NotFoundError(f"User {interviewer_id} does not exist.")
    run = latest_run(session)
    if run is None:
        return None, None
    effect = session.scalar(
        select(InterviewerCalibration).where(
            InterviewerCalibration.run_id == run.id,
            InterviewerCalibration.interviewer_id == interviewer_id,
        )
    )
    return effect, run


def _finite(value: float) -> float | None:
    return value if np.isfinite(value) else None
