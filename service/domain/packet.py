"""The packet's view model: everything the hiring-committee packet (and the assessment
page) shows, built from the application's plain inputs. Pure and deterministic.

Blind review happens here too, so no front end can forget it: an anonymized view
carries an anonymous code instead of the candidate, and names, contact details and
gendered pronouns are redacted from everything people wrote about them.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from service.domain.anonymize import IdentifyingTerms, identifying_terms, redact
from service.domain.assessment import assess, to_dict
from service.domain.packet_inputs import PacketInputs, ScorecardHistoryIn
from service.domain.packet_sections import (
    disagreements,
    duration_label,
    interviewer_calibration,
    revision_changes,
)
from service.domain.templates import InterviewTemplate


class PacketStatus(StrEnum):
    QUEUED = "queued"
    RENDERING = "rendering"
    READY = "ready"
    FAILED = "failed"


class DecisionOutcome(StrEnum):
    HIRE = "hire"
    NO_HIRE = "no_hire"


# The plain values, in order: database CHECKs and validators use them.
PACKET_STATUSES: tuple[str, ...] = tuple(s.value for s in PacketStatus)
DECISION_OUTCOMES: tuple[str, ...] = tuple(s.value for s in DecisionOutcome)


def anonymous_code(application_id: int, key: bytes) -> str:
    """A stable pseudonym for blind review: the same application, the same code. Keyed
    (HMAC), so nobody without the key can compute the code of an application id and
    link an anonymized packet back to the candidate."""
    digest = hmac.new(key, f"application:{application_id}".encode(), hashlib.sha256).hexdigest()
    return f"Candidate {digest[:3].upper()}-{digest[3:6].upper()}"


def build_packet(inputs: PacketInputs, anonymized: bool) -> dict[str, Any]:
    """Everything the document shows, in the order it shows it, JSON-ready."""
    if anonymized:
        inputs = _redacted(inputs)
    template = inputs.template
    assessment = to_dict(
        assess(
            template,
            inputs.scorecards,
            inputs.interviews,
            inputs.deviations,
            inputs.leniencies,
            now=inputs.now,
        )
    )
    scorecards = _scorecard_pages(inputs)
    panel = list({(c["interviewer_id"], c["interviewer_name"]): None for c in scorecards})
    calibration = {
        **calibration_status(inputs),
        **interviewer_calibration(panel, inputs.calibration, inputs.leniencies),
    }
    states = {i["interviewer_id"]: i["state"] for i in calibration["interviewers"]}
    timeline = [
        {
            "kind": c.kind,
            "from_stage": c.from_stage,
            "to_stage": c.to_stage,
            "at": c.at.isoformat(),
            "actor": c.actor_name,
            "reason": c.reason,
        }
        for c in inputs.timeline
    ]
    decision = None if inputs.decision is None else dict(inputs.decision)
    if anonymized and decision is not None:
        # Versions are shared with the named packets of the application, so a version
        # would link the two; the anonymized packet carries only its anonymous code.
        decision.pop("packet_version", None)
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
        _interview(
            template, card, notes.get(card["scorecard_id"], ""), states[card["interviewer_id"]]
        )
        for card in scorecards
    ]
    titles = {i["scorecard_id"]: i["title"] for i in interviews}
    return {
        "anonymized": anonymized,
        "role": {
            "title": inputs.role.title,
            "team": inputs.role.team,
            "hiring_manager": inputs.role.hiring_manager,
        },
        "candidate": _candidate(inputs, anonymized),
        "application": _application(inputs, anonymized),
        "template": {"key": template.key, "title": template.title, "version": template.version},
        "data_as_of": _latest(scorecards, timeline, decision),
        "recommendation_scale": list(template.recommendation_scale),
        "competencies": competencies,
        "calibration": calibration,
        "assessment": assessment,
        "recommendations": _recommendations_by_level(template, interviews),
        "disagreements": disagreements(assessment, titles),
        "matrix": _matrix(assessment, interviews),
        "interviews": interviews,
        "stages": _stages(template, timeline),
        "timeline": timeline,
        "decision": decision,
    }


def calibration_status(inputs: PacketInputs) -> dict[str, Any]:
    """Which calibration run the scores use, and whether a refit that includes this
    application's latest feedback is still to come.

    Pending when the run is older than the newest submitted revision (its refit is
    queued after that submission and has not landed), or when there is no run yet
    although scores exist. Asking again once it lands gives a new packet.
    """
    run = inputs.calibration
    revised = [r.created_at for h in inputs.histories.values() for r in h.revisions]
    scored = any(r.score is not None for card in inputs.scorecards for r in card.ratings)
    if run is None:
        return {"run_id": None, "fitted_at": None, "pending": scored}
    return {
        "run_id": run.run_id,
        "fitted_at": run.fitted_at.isoformat(),
        "pending": bool(revised) and run.fitted_at < max(revised),
    }


def _redacted(inputs: PacketInputs) -> PacketInputs:
    """The inputs with what people wrote about the candidate redacted."""
    candidate = inputs.candidate
    terms = identifying_terms(candidate.name, candidate.email, candidate.phone, candidate.links)
    return replace(
        inputs,
        scorecards=tuple(
            replace(
                card,
                summary=redact(card.summary, terms),
                ratings=tuple(replace(r, evidence=redact(r.evidence, terms)) for r in card.ratings),
            )
            for card in inputs.scorecards
        ),
        deviations=tuple(replace(d, reason=redact(d.reason, terms)) for d in inputs.deviations),
        histories={
            key: replace(
                history,
                revisions=tuple(
                    replace(
                        r,
                        reason=redact(r.reason, terms),
                        summary=redact(r.summary, terms),
                        ratings=tuple(
                            replace(x, evidence=redact(x.evidence, terms)) for x in r.ratings
                        ),
                    )
                    for r in history.revisions
                ),
            )
            for key, history in inputs.histories.items()
        },
        timeline=tuple(replace(c, reason=redact(c.reason, terms)) for c in inputs.timeline),
        decision=None
        if inputs.decision is None
        else {
            **inputs.decision,
            "rationale": redact(inputs.decision.get("rationale") or "", terms),
            "supersedes": _redacted_supersedes(inputs.decision.get("supersedes"), terms),
        },
    )


def _redacted_supersedes(
    supersedes: Mapping[str, Any] | None, terms: IdentifyingTerms
) -> dict[str, Any] | None:
    if supersedes is None:
        return None
    return {**supersedes, "reason": redact(supersedes.get("reason") or "", terms)}


def packet_file_name(application_id: int, version: int, content: dict[str, Any]) -> str:
    """The name a packet's PDF is downloaded under. An anonymized packet's names only its
    anonymous code: no application id, and no version (shared with the named packets)."""
    if content.get("anonymized"):
        code = content["candidate"]["display"].lower().replace(" ", "-")
        return f"hiring-packet-{code}.pdf"
    return f"hiring-packet-application-{application_id}-v{version}.pdf"


def _application(inputs: PacketInputs, anonymized: bool) -> dict[str, Any]:
    facts = {"stage": inputs.application.stage, "status": inputs.application.status}
    return facts if anonymized else {"id": inputs.application.id, **facts}


def _candidate(inputs: PacketInputs, anonymized: bool) -> dict[str, Any]:
    if anonymized:
        return {"display": inputs.application.anonymous_code}
    candidate = inputs.candidate
    return {
        "display": candidate.name,
        "email": candidate.email,
        "phone": candidate.phone,
        "links": list(candidate.links),
        "source": candidate.source,
    }


def _scorecard_pages(inputs: PacketInputs) -> list[dict[str, Any]]:
    """Each submitted scorecard with its interview's facts and its revision history,
    in interview order."""
    facts = {i.interview_id: i for i in inputs.interviews}
    pages = []
    for card in sorted(
        inputs.scorecards, key=lambda c: (facts[c.interview_id].starts_at, c.scorecard_id)
    ):
        pages.append(
            {
                "scorecard_id": card.scorecard_id,
                "interview_id": card.interview_id,
                "interview_key": card.interview_key,
                "interviewer_id": card.interviewer_id,
                "interviewer_name": card.interviewer_name,
                "starts_at": facts[card.interview_id].starts_at.isoformat(),
                **_history(inputs.template, inputs.histories[card.scorecard_id]),
                "late": card.late,
                "submitted_at": card.submitted_at.isoformat(),
                "recommendation": card.recommendation,
                "summary": card.summary,
                "independent": not card.after_seeing_others,
                "ratings": [
                    {"competency": r.competency, "score": r.score, "evidence": r.evidence}
                    for r in card.ratings
                ],
            }
        )
    return pages


def _history(template: InterviewTemplate, history: ScorecardHistoryIn) -> dict[str, Any]:
    seen = history.first_saw_others_at
    previous = (None, *history.revisions[:-1])
    return {
        "duration_minutes": history.duration_minutes,
        "actual_minutes": history.actual_minutes,
        "first_saw_others_at": seen.isoformat() if seen else None,
        "revisions": [
            {
                "number": r.number,
                "created_at": r.created_at.isoformat(),
                "reason": r.reason,
                "recommendation": r.recommendation,
                "after_seeing_others": r.after_seeing_others,
                "recommendation_from": before.recommendation if before else None,
                # None for the first revision, or when the earlier ratings are not known.
                "changes": None if before is None else revision_changes(template, before, r),
            }
            for before, r in zip(previous, history.revisions, strict=True)
        ],
    }


def _interview(
    template: InterviewTemplate, card: dict[str, Any], note: str, calibration_state: str
) -> dict[str, Any]:
    planned = template.interview(card["interview_key"])
    ratings = []
    for rating in card["ratings"]:
        competency = template.competency(rating["competency"])
        assert competency is not None, rating[
            "competency"
        ]  # ratings are checked against the template
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
    assert planned is not None, card["interview_key"]  # only planned interviews are scheduled
    return {
        **card,
        "title": planned.title,
        "time_box": planned.duration_minutes,
        "ratings": ratings,
        "calibration_note": note,
        "calibration_state": calibration_state,  # "applied", or why not (`calibration`)
    }


def _matrix(assessment: dict[str, Any], interviews: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Competency rows × interview columns; each cell raw, calibrated and whether it dissents."""
    columns = [
        {
            "scorecard_id": i["scorecard_id"],
            "title": i["title"],
            "interviewer": i["interviewer_name"],
            "interview_key": i["interview_key"],
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
                "bar": competency["bar"],
                "clears_bar": competency["clears_bar"],
            }
        )
    return {"columns": columns, "rows": rows, "mean": "calibrated"}


def _recommendations_by_level(
    template: InterviewTemplate, interviews: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each level of the scale with who gave it (interview order), for the distribution."""
    return [
        {
            "level": level,
            "interviewers": [
                {
                    "name": i["interviewer_name"],
                    "interview_title": i["title"],
                    "scorecard_id": i["scorecard_id"],
                }
                for i in interviews
                if i["recommendation"] == level
            ],
        }
        for level in template.recommendation_scale
    ]


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
        seconds = (
            None
            if left is None
            else (
                datetime.fromisoformat(left) - datetime.fromisoformat(entry["at"])
            ).total_seconds()
        )
        days = None if seconds is None else round(seconds / 86400, 1)
        stages.append(
            {
                "stage": stage.name if stage else entry["to_stage"],
                "entered": entry["at"],
                "left": left,
                "days": days,
                "duration": duration_label(seconds),
                "target_days": stage.sla_days if stage else None,
                "over_target": days is not None and stage is not None and days > stage.sla_days,
            }
        )
    return stages


def _latest(
    scorecards: Sequence[Mapping[str, Any]],
    timeline: Sequence[Mapping[str, Any]],
    decision: Mapping[str, Any] | None,
) -> str:
    """The newest timestamp in the inputs: the document's date, so it is reproducible."""
    stamps: list[str] = [t["at"] for t in timeline]
    for card in scorecards:
        stamps += [r["created_at"] for r in card["revisions"]]
    if decision:
        stamps.append(decision["created_at"])
    return max(stamps) if stamps else ""
