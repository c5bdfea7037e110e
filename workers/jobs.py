"""RQ job functions: take ids or flags, run a use case in a session of their own, raise on failure."""

from __future__ import annotations

from service.extensions import db
from service.usecases import calibration


def refresh_calibration(full: bool = False) -> int | None:
    """Refit interviewer calibration from every submitted rating; returns the run id."""
    with db.new_session() as session:
        run = calibration.refit_calibration(session, full=full)
        return run.id if run else None
