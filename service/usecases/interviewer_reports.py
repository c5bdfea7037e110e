"""The interviewers report: how each interviewer scores, and how reliable the panels are.

Leniency comes from the latest stored calibration run (never refitted here);
reliability is computed per template and competency with `domain.reliability`.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy.orm import Session

from service.domain.access import Viewer, require
from service.domain.calibration_scale import CalibrationState
from service.domain.reliability import (
    PanelSums,
    icc_oneway_from_sums,
    krippendorff_alpha_interval_from_sums,
)
from service.persistence import interviewer_reports as queries
from service.persistence.calibration import latest_run
from service.usecases import report_snapshots
from service.usecases.report_snapshots import RefreshJob, Snapshot

SNAPSHOT_KEY = "interviewers"
REFRESH_JOB = "workers.jobs.refresh_interviewers_snapshot"


def interviewers_report(session: Session, actor: Viewer) -> dict[str, Any]:
    """Per interviewer: scorecards, calibration state, leniency ± SE, recommendations, halo, lateness, evidence,
    adherence and language flags; per template and competency: ICC(1), ICC(1,k), alpha.
    Admin only. Raises PermissionDeniedError."""
    require(actor.role, "reports:read")
    return _interviewers(session)


def interviewers_snapshot(
    session: Session, actor: Viewer, *, max_age: int, refresh: bool = False
) -> Snapshot:
    """The interviewers report as a snapshot (`usecases.report_snapshots`; a calibration
    run invalidates it), or computed now with `refresh`. Admin only.
    Raises PermissionDeniedError."""
    require(actor.role, "reports:read")
    if refresh:
        return report_snapshots.refresh(session, SNAPSHOT_KEY, _interviewers)
    return report_snapshots.serve(
        session, SNAPSHOT_KEY, _interviewers, max_age=max_age, refresh_job=RefreshJob(REFRESH_JOB)
    )


def refresh_interviewers_snapshot(session: Session) -> Snapshot:
    """Recompute the snapshot (the refresh job a stale view enqueued)."""
    return report_snapshots.refresh(session, SNAPSHOT_KEY, _interviewers)


def _interviewers(session: Session) -> dict[str, Any]:
    revisions, current = queries.read_current(session)
    ratings = queries.rating_summaries(current)
    halos = queries.halo_counts(current)
    run = latest_run(session)
    effects = queries.run_effects(session, run.id) if run else {}
    interviewers = []
    for row in sorted(
        queries.scorecard_summaries(session, revisions), key=lambda r: (r.name, r.author_id)
    ):
        effect = effects.get(row.author_id)
        applied = effect is not None and effect.state == CalibrationState.APPLIED
        n = row.scorecards
        assigned, scored, median_chars = ratings.get(row.author_id, (0, 0, None))
        interviewers.append(
            {
                "interviewer_id": row.author_id,
                "name": row.name,
                "scorecards": n,
                # Only the main pool's leniencies are comparable: the others are null,
                # and calibration_state says why.
                "calibration_state": effect.state if effect else "not_fitted",
                "leniency": effect.leniency if effect and applied else None,
                "leniency_se": effect.se if effect and applied else None,
                "leniency_se_absolute": effect.se_absolute if effect and applied else None,
                "leniency_ratings": effect.n_ratings if effect else None,
                "recommendations": row.recommendations,
                "halo_rate": round(halos.get(row.author_id, 0) / n, 4),
                "late_share": round(row.late / n, 4),
                "median_evidence_chars": median_chars,
                # Share of assigned competencies actually scored (None: no ratings at all).
                "adherence": round(scored / assigned, 4) if assigned else None,
                "language_flags_per_100": round(100 * row.language_flags / n, 2),
            }
        )
    return {
        "calibration_run": None
        if run is None
        else {"id": run.id, "fitted_at": run.fitted_at, "n_ratings": run.n_ratings},
        "interviewers": interviewers,
        "reliability": _reliability(queries.reliability_sums(session, current)),
    }


def _reliability(rows: list[tuple[str, str, int, int, int, int, int]]) -> list[dict[str, Any]]:
    """ICC(1), ICC(1,k) and alpha per template and competency, from per-panel-size sums."""
    cells: dict[tuple[str, str], list[PanelSums]] = {}
    for template_key, competency, *sums in rows:
        cells.setdefault((template_key, competency), []).append(PanelSums(*sums))
    results = []
    for (template_key, competency), panels in sorted(
        cells.items(), key=lambda cell: f"{cell[0][0]}\x1f{cell[0][1]}"
    ):
        icc = icc_oneway_from_sums(panels)
        alpha = krippendorff_alpha_interval_from_sums(panels)
        results.append(
            {
                "template_key": template_key,
                "competency": competency,
                "ratings": icc.n_ratings,
                "candidates": icc.n_targets,
                "icc1": _finite(icc.icc1),
                "icck": _finite(icc.icck),
                "k": _finite(icc.k),
                "krippendorff_alpha": _finite(alpha),
            }
        )
    return results


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 4)
