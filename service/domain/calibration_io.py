"""Plain data in and out of calibration: a CSV reader and a JSON-ready report.

For the `hiring calibration fit --csv FILE` command and the reports; no I/O
beyond reading the one file named.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np

from service.domain.calibration import CalibrationDataError, CalibrationFit, RatingTable


def fit_report(fit: CalibrationFit) -> dict[str, Any]:
    """JSON-ready summary: model, components, criterion, reliability per competency,
    groups, every interviewer."""
    groups: dict[int, dict[str, Any]] = {}
    for effect in fit.effects.values():
        group = groups.setdefault(
            effect.component, {"component": effect.component, "interviewers": 0, "ratings": 0}
        )
        group["interviewers"] += 1
        group["ratings"] += effect.n_ratings
    c = fit.components
    return {
        "model": fit.model,
        "fitted_with": fit.fitted_with,
        "unit_level": fit.unit_level,
        "data_digest": fit.data_digest,
        "n_ratings": fit.n_ratings,
        "n_units": fit.n_units,
        "n_interviewers": len(fit.effects),
        # Of the main pool, on the model's scale; null where the data cannot determine it.
        "variance_components": {
            "scale": "points" if fit.model == "linear" else "logits",
            "unit": _json_float(c.sigma2_unit),
            "unit_reason": c.unit_reason,
            "interviewer": _json_float(c.sigma2_interviewer),
            "interviewer_reason": c.interviewer_reason,
            "residual": c.sigma2_residual,
        },
        "reml_criterion": fit.reml_criterion,
        "intercept": _json_float(fit.intercept),
        "fixed_effects": dict(fit.fixed_effects),
        "rating_scale": fit.scale.to_dict(),
        # Per competency, candidate = target, as the interviewers report: pooling
        # competencies would count their differences as agreement.
        "reliability": [
            {
                "competency": name,
                "ratings": r.n_ratings,
                "candidates": r.n_candidates,
                "icc1": _json_float(r.icc1),
                "icck": _json_float(r.icck),
                "k": _json_float(r.k),
                "krippendorff_alpha": _json_float(r.krippendorff_alpha),
            }
            for name, r in sorted(fit.reliability_by_competency.items())
        ],
        "connected_components": [groups[c] for c in sorted(groups)],
        "interviewers": [
            {
                "interviewer": e.interviewer,
                "state": e.state.value,
                "leniency": _json_float(e.leniency),
                "se": _json_float(e.se),
                "se_absolute": _json_float(e.se_absolute),
                "shift": _json_float(e.shift),
                "n_ratings": e.n_ratings,
                "n_copanelists": e.n_copanelists,
                "connected": e.connected,
                "component": e.component,
                "copanel_deviation": _json_float(e.copanel_deviation),
                "disagrees": e.disagrees,
                "insufficient_data": e.insufficient_data,
                "explanation": e.explanation,
            }
            for e in sorted(fit.effects.values(), key=lambda e: e.interviewer)
        ],
    }


def read_ratings_csv(path: str | Path) -> RatingTable:
    """Read `unit` (or `candidate`), `interviewer`, `competency`, `score` columns.

    Raises CalibrationDataError naming the line and column of the first problem.
    """
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = [name.strip() for name in reader.fieldnames or []]
        reader.fieldnames = header
        unit_column = "unit" if "unit" in header else "candidate"
        missing = [
            c for c in (unit_column, "interviewer", "competency", "score") if c not in header
        ]
        if missing:
            raise CalibrationDataError(
                f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(header) or 'none'}",
                errors={c: "missing column" for c in missing},
            )
        columns: dict[str, list[Any]] = {
            "unit": [],
            "interviewer": [],
            "competency": [],
            "score": [],
        }
        for row in reader:
            line = reader.line_num
            for source, target in (
                (unit_column, "unit"),
                ("interviewer", "interviewer"),
                ("competency", "competency"),
            ):
                value = (row.get(source) or "").strip()
                if not value:
                    raise CalibrationDataError(
                        f"{path}, line {line}, column '{source}': empty value",
                        errors={source: f"empty on line {line}"},
                    )
                columns[target].append(value)
            columns["score"].append(_parse_score(row.get("score"), path, line))
    if not columns["score"]:
        raise CalibrationDataError(f"{path}: no ratings")
    return RatingTable(
        unit=np.array(columns["unit"], dtype=str),
        interviewer=np.array(columns["interviewer"], dtype=str),
        competency=np.array(columns["competency"], dtype=str),
        score=np.array(columns["score"], dtype=float),
    )


def _parse_score(text: str | None, path: str | Path, line: int) -> float:
    try:
        value = float((text or "").strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise CalibrationDataError(
            f"{path}, line {line}, column 'score': {text!r} is not a finite number",
            errors={"score": f"not a finite number on line {line}"},
        )
    return value


def _json_float(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)
