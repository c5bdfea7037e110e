"""The packet's content: plain, JSON-ready data built from plain inputs.

The content is stored with the packet row and rendered exactly; its digest
identifies the packet's inputs, so the same inputs give the same digest (and
the same PDF, byte for byte: the document's dates derive from the data).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from service.domain.templates import InterviewTemplate

# Bump when the document's layout or content rules change, so old digests no longer match.
RENDERER_VERSION = "1"


def anonymous_code(application_id: int) -> str:
    """A stable pseudonym for blind review: the same application, the same code."""
    digest = hashlib.sha256(f"hiring-pipeline:application:{application_id}".encode()).hexdigest()
    return f"Candidate {digest[:3].upper()}-{digest[3:6].upper()}"


def content_digest(content: dict[str, Any]) -> str:
    canonical = json.dumps(
        {"renderer": RENDERER_VERSION, "content": content},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def build_content(
    *,
    template: InterviewTemplate,
    role: dict[str, Any],
    candidate: dict[str, Any],
    application: dict[str, Any],
    assessment: dict[str, Any],
    scorecards: Sequence[dict[str, Any]],
    timeline: Sequence[dict[str, Any]],
    decision: dict[str, Any] | None,
    anonymized: bool,
) -> dict[str, Any]:
    """Everything the document shows, in the order it shows it. Pure and deterministic."""
    competencies = [
        {"key": c.key, "name": c.name, "bar": template.scoring.bars.get(c.key)}
        for c in template.competencies
    ]
    notes = {
        line["scorecard_id"]: line["calibration_note"]
        for competency in assessment["competencies"]
        for line in competency["scores"]
    }
    interviews = [
        _interview(template, card, notes.get(card["scorecard_id"], "")) for card in scorecards
    ]
    return {
        "anonymized": anonymized,
        "role": role,
        "candidate": candidate,
        "application": application,
        "template": {"key": template.key, "title": template.title, "version": template.version},
        "data_as_of": _latest(scorecards, timeline, decision),
        "recommendation_scale": list(template.recommendation_scale),
        "competencies": competencies,
        "assessment": assessment,
        "matrix": _matrix(assessment, interviews),
        "interviews": interviews,
        "stages": _stages(template, timeline),
        "timeline": list(timeline),
        "decision": decision,
    }


def _interview(template: InterviewTemplate, card: dict[str, Any], note: str) -> dict[str, Any]:
    planned = template.interview(card["interview_key"])
    ratings = []
    for rating in card["ratings"]:
        competency = template.competency(rating["competency"])
        ratings.append(
            {
                **rating,
                "name": competency.name,
                "anchor": competency.anchor(rating["score"]) if rating["score"] else None,
                "label": next(
                    (r.label for r in competency.rubric if r.level == rating["score"]), None
                ),
            }
        )
    return {
        **card,
        "title": planned.title,
        "time_box": planned.duration_minutes,
        "ratings": ratings,
        "calibration_note": note,
    }


def _matrix(assessment: dict[str, Any], interviews: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Competency rows × interview columns; each cell raw, calibrated and whether it dissents."""
    columns = [
        {
            "scorecard_id": i["scorecard_id"],
            "title": i["title"],
            "interviewer": i["interviewer_name"],
        }
        for i in interviews
    ]
    rows = []
    for competency in assessment["competencies"]:
        by_card = {s["scorecard_id"]: s for s in competency["scores"]}
        cells = []
        for column in columns:
            line = by_card.get(column["scorecard_id"])
            cells.append(
                None
                if line is None
                else {
                    "raw": line["raw"],
                    "calibrated": line["calibrated"],
                    "dissent": line["dissent"],
                }
            )
        rows.append(
            {
                "key": competency["key"],
                "name": competency["name"],
                "cells": cells,
                "calibrated_mean": competency["calibrated_mean"],
            }
        )
    return {"columns": columns, "rows": rows}


def _stages(
    template: InterviewTemplate, timeline: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Time spent in each stage entered, against the stage's target."""
    entries = [t for t in timeline if t["kind"] in ("applied", "moved", "reopened")]
    ends = [t["at"] for t in timeline if t["kind"] != "applied"]
    stages = []
    for index, entry in enumerate(entries):
        later = [at for at in ends if at > entry["at"]]
        left = (
            entries[index + 1]["at"]
            if index + 1 < len(entries)
            else (min(later) if later else None)
        )
        stage = template.stage(entry["to_stage"])
        days = (
            None
            if left is None
            else round(
                (datetime.fromisoformat(left) - datetime.fromisoformat(entry["at"])).total_seconds()
                / 86400,
                1,
            )
        )
        stages.append(
            {
                "stage": stage.name if stage else entry["to_stage"],
                "entered": entry["at"],
                "left": left,
                "days": days,
                "target_days": stage.sla_days if stage else None,
                "over_target": days is not None and stage is not None and days > stage.sla_days,
            }
        )
    return stages


def _latest(scorecards, timeline, decision) -> str:
    """The newest timestamp in the inputs: the document's date, so it is reproducible."""
    stamps = [t["at"] for t in timeline]
    for card in scorecards:
        stamps += [r["created_at"] for r in card["revisions"]]
    if decision:
        stamps.append(decision["created_at"])
    return max(stamps) if stamps else ""
