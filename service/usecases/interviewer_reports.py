"""The interviewers report: how each interviewer scores, and how reliable the panels are.

Leniency comes from the latest stored calibration run (never refitted here);
reliability is computed per template and competency with `domain.reliability`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from service.domain.access import require
from service.domain.reliability import icc_oneway, krippendorff_alpha_interval
from service.domain.templates import RECOMMENDATIONS
from service.persistence import interviewer_reports as queries
from service.persistence.users import User
from service.usecases.calibration import latest_run, leniencies


def interviewers_report(session: Session, actor: User) -> dict[str, Any]:
    """Per interviewer: scorecards, leniency ± SE, recommendations, halo, lateness, evidence,
    adherence and language flags; per template and competency: ICC(1), ICC(1,k), alpha.
    Admin only. Raises PermissionDeniedError."""
    require(actor.role, "reports:read")
    ratings = queries.rating_columns(session)
    evidence, adherence = _per_interviewer_rating_stats(ratings)
    effects = leniencies(session)
    run = latest_run(session)
    recommended: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(RECOMMENDATIONS, 0))
    for interviewer_id, recommendation, n in queries.recommendations(session):
        recommended[interviewer_id][recommendation] = n
    interviewers = []
    for row in sorted(queries.scorecard_summaries(session), key=lambda r: (r.name, r.author_id)):
        effect = effects.get(row.author_id)
        n = row.scorecards
        interviewers.append({
            "interviewer_id": row.author_id, "name": row.name, "scorecards": n,
            "leniency": effect.leniency if effect else None,
            "leniency_se": effect.se if effect else None,
            "leniency_ratings": effect.n_ratings if effect else None,
            "recommendations": recommended[row.author_id],
            "halo_rate": round(row.halo / n, 4),
            "late_share": round(row.late / n, 4),
            "median_evidence_chars": evidence.get(row.author_id),
            "adherence": adherence.get(row.author_id),
            "language_flags_per_100": round(100 * row.language_flags / n, 2),
        })
    return {
        "calibration_run": None if run is None else {
            "id": run.id, "fitted_at": run.fitted_at, "n_ratings": run.n_ratings},
        "interviewers": interviewers,
        "reliability": _reliability(ratings),
    }


def _per_interviewer_rating_stats(ratings: dict[str, np.ndarray]) -> tuple[dict, dict]:
    """Median evidence length of scored ratings, and the share of assigned competencies scored."""
    evidence, adherence = {}, {}
    if not len(ratings["interviewer"]):
        return evidence, adherence
    scored = ~np.isnan(ratings["score"])
    ids, codes = np.unique(ratings["interviewer"], return_inverse=True)
    assigned = np.bincount(codes)
    rated = np.bincount(codes, weights=scored)
    for index, interviewer_id in enumerate(ids):
        adherence[int(interviewer_id)] = round(float(rated[index] / assigned[index]), 4)
        chars = ratings["evidence_chars"][(codes == index) & scored]
        if len(chars):
            evidence[int(interviewer_id)] = float(np.median(chars))
    return evidence, adherence


def _reliability(ratings: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    if not len(ratings["score"]):
        return []
    scored = ~np.isnan(ratings["score"])
    key = np.char.add(np.char.add(ratings["template_key"].astype(str), "\x1f"),
                      ratings["competency"].astype(str))[scored]
    application, score = ratings["application"][scored], ratings["score"][scored]
    results = []
    for cell in sorted(set(key.tolist())):
        mask = key == cell
        template_key, competency = cell.split("\x1f")
        icc = icc_oneway(application[mask], score[mask])
        alpha = krippendorff_alpha_interval(application[mask], score[mask])
        results.append({
            "template_key": template_key, "competency": competency,
            "ratings": icc.n_ratings, "candidates": icc.n_targets,
            "icc1": _finite(icc.icc1), "icck": _finite(icc.icck), "k": _finite(icc.k),
            "krippendorff_alpha": _finite(alpha),
        })
    return results


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 4)
