"""Each report as flat CSV rows: the same numbers as the JSON, suppression included."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from service.domain.templates import RECOMMENDATIONS

ADVERSE_IMPACT_COLUMNS = (
    "dimension",
    "template_key",
    "stage",
    "step",
    "reference_group",
    "flags",
    "group",
    "suppressed",
    "verdict",
    "label",
    "reached",
    "selected",
    "selection_rate",
    "impact_ratio",
    "impact_ratio_exact",
    "below_four_fifths",
    "z_d",
    "fisher_p_two_sided",
    "fisher_mid_p",
    "shortfall",
    "one_person_reverses",
)


def adverse_impact_rows(report: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for dimension in report["dimensions"]:
        for step in dimension["steps"]:
            head = {
                "dimension": dimension["dimension"],
                **{
                    k: step[k]
                    for k in ("template_key", "stage", "step", "reference_group", "flags")
                },
            }
            for group in step["groups"]:
                # A suppressed group's dict has no numbers, so its cells stay empty.
                yield head | group


PIPELINE_COLUMNS = (
    "requisition_id",
    "stage",
    "name",
    "target_days",
    "entered",
    "advanced",
    "rejected",
    "rejected_by_reason",
    "withdrawn",
    "still_there",
    "conversion",
    "share_of_applicants",
    "stays",
    "median_days",
    "p90_days",
    "share_over_target",
)


def pipeline_rows(report: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for stage in report["stages"]:
        reasons = [f"{k}={v}" for k, v in stage["rejected_by_reason"].items()]
        yield {"requisition_id": report["requisition_id"], **stage, "rejected_by_reason": reasons}


STUCK_COLUMNS = (
    "application_id",
    "requisition_id",
    "requisition_title",
    "stage",
    "stage_name",
    "stage_entered_at",
    "days_in_stage",
    "target_days",
    "days_over_target",
    "next_step",
    "owner_role",
    "owners",
)


def stuck_rows(report: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for item in report["items"]:
        yield item | {"owners": [o["name"] for o in item["owners"]]}


INTERVIEWER_COLUMNS = (
    "section",
    "interviewer_id",
    "name",
    "scorecards",
    "calibration_state",
    "leniency",
    "leniency_se",
    "leniency_se_absolute",
    "leniency_ratings",
    *(f"recommended_{r}" for r in RECOMMENDATIONS),
    "halo_rate",
    "late_share",
    "median_evidence_chars",
    "adherence",
    "language_flags_per_100",
    "template_key",
    "competency",
    "ratings",
    "candidates",
    "icc1",
    "icck",
    "k",
    "krippendorff_alpha",
)


def interviewer_rows(report: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Interviewer rows first, then one reliability row per template and competency."""
    for row in report["interviewers"]:
        counts = {f"recommended_{k}": v for k, v in row["recommendations"].items()}
        yield {
            "section": "interviewer",
            **{k: v for k, v in row.items() if k != "recommendations"},
            **counts,
        }
    for row in report["reliability"]:
        yield {"section": "reliability", **row}
