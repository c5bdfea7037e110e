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
    """JSON-ready summary: components, criterion, reliability, groups, every interviewer."""
    groups: dict[int, dict[str, Any]] = {}
    for effect in fit.effects.values():
        group = groups.setdefault(
            effect.component, {"component": effect.component, "interviewers": 0, "ratings": 0}
        )
        group["interviewers"] += 1
        group["ratings"] += effect.n_ratings
    return {
        "fitted_with": fit.fitted_with,
        "unit_level": fit.unit_level,
        "data_digest": fit.data_digest,
        "n_ratings": fit.n_ratings,
        "n_units": fit.n_units,
        "n_interviewers": len(fit.effects),
        "variance_components": {
            "unit": fit.components.sigma2_unit,
            "interviewer": fit.components.sigma2_interviewer,
            "residual": fit.components.sigma2_residual,
        },
        "reml_criterion": fit.reml_criterion,
        "intercept": fit.intercept,
        "fixed_effects": dict(fit.fixed_effects),
        "reliability": {
            "icc1": _json_float(fit.icc1),
            "icck": _json_float(fit.icck),
            "k": _json_float(fit.icc_k),
            "krippendorff_alpha_interval": _json_float(fit.krippendorff_alpha),
        },
        "connected_components": [groups[c] for c in sorted(groups)],
        "interviewers": [
            {
                "interviewer": e.interviewer,
                "leniency": e.leniency,
                "se": e.se,
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


def _json_float(x: float) -> float | None:
    return None if not math.isfinite(x) else float(x)
