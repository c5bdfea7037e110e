"""Parts of the packet's view model that explain rather than list: whose scores the
calibration corrects and why not the others', one entry per disagreement in plain
words, what each amendment changed, and how long each stage took.

Pure functions over plain data, called by `service.domain.packet.build_packet`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from service.domain.assessment import join_names
from service.domain.assessment_inputs import LeniencyIn, RatingIn
from service.domain.packet_inputs import CalibrationRunIn, RevisionIn
from service.domain.templates import InterviewTemplate

# Why an interviewer's scores are not corrected, by calibration state: the summary says
# so once, grouped by reason. A new `calibration_scale.CalibrationState` needs its words
# here and its test in `calibration_state`.
CALIBRATION_NOT_APPLIED = {
    "no_fit": "no calibration has been fitted yet (there is too little rating history "
    "across interviewers)",
    "not_in_fit": "the last calibration fit predates their ratings",
    "insufficient_data": "their ratings share no candidate with the other interviewers, "
    "so there is nothing to compare them with",
    "not_comparable": "their ratings are not comparable with the main pool of interviewers",
}
APPLIED = "applied"


def calibration_state(run: CalibrationRunIn | None, leniency: LeniencyIn | None) -> str:
    """`applied`, or the key of CALIBRATION_NOT_APPLIED saying why not."""
    if run is None:
        return "no_fit"
    if leniency is None or leniency.state == "not_fitted":
        return "not_in_fit"
    return leniency.state  # applied, not_comparable or insufficient_data (calibration_scale)


def interviewer_calibration(
    panel: Sequence[tuple[int, str]],
    run: CalibrationRunIn | None,
    leniencies: Mapping[int, LeniencyIn],
) -> dict[str, Any]:
    """Per interviewer (id, name) in panel order: their state, and the summary's statement
    of whose scores are not corrected and why (None when every score is)."""
    interviewers: list[dict[str, Any]] = []
    for interviewer_id, name in panel:
        known = leniencies.get(interviewer_id)
        state = calibration_state(run, known)
        interviewers.append(
            {
                "interviewer_id": interviewer_id,
                "name": name,
                "state": state,
                "applied": state == APPLIED,
                "leniency": known.leniency if known and state == APPLIED else 0.0,
                "se": known.se if known and state == APPLIED else None,
                "note": known.explanation if known else "",
            }
        )
    groups: dict[str, list[str]] = {}
    for interviewer in interviewers:
        if not interviewer["applied"]:
            groups.setdefault(interviewer["state"], []).append(interviewer["name"])
    not_applied = [
        {"state": state, "reason": CALIBRATION_NOT_APPLIED[state], "names": names}
        for state, names in groups.items()
    ]
    return {
        "applied": any(i["applied"] for i in interviewers),
        "interviewers": interviewers,
        "not_applied": not_applied,
        "statement": _calibration_statement(not_applied, len(interviewers)),
    }


def _calibration_statement(not_applied: Sequence[dict[str, Any]], panel_size: int) -> str | None:
    if not not_applied:
        return None
    everyone = sum(len(group["names"]) for group in not_applied) == panel_size
    if everyone and len(not_applied) == 1:
        return (
            f"Calibration is not applied: {not_applied[0]['reason']}. Every calibrated "
            "score equals the raw score."
        )
    sentences = [
        f"Calibration is not applied to {join_names(group['names'])}: {group['reason']}."
        for group in not_applied
    ]
    tail = "Their calibrated scores equal the raw scores."
    if everyone:
        tail = "Every calibrated score equals the raw score."
    return " ".join([*sentences, tail])


def disagreements(assessment: Mapping[str, Any], titles: Mapping[int, str]) -> list[dict[str, Any]]:
    """One entry per competency the panel split on (the assessment marks each dissenting
    score, so two raters 1 and 3 are two mirrored dissents), worded as what was said."""
    found = []
    for competency in assessment["competencies"]:
        scored = [s for s in competency["scores"] if s["raw"] is not None]
        dissenting = [s for s in scored if s["dissent"]]
        if not dissenting:
            continue
        if len(dissenting) == len(scored):
            # Everyone dissents from everyone (two raters): lead with the lowest score.
            lowest = min(s["calibrated"] for s in scored)
            dissenting = [s for s in scored if s["calibrated"] == lowest]
        leading = {s["scorecard_id"] for s in dissenting}
        others = [s for s in scored if s["scorecard_id"] not in leading]
        found.append(
            {
                "anchor": f"disagreement-{competency['key']}",
                "competency": competency["key"],
                "competency_name": competency["name"],
                "message": _disagreement_message(competency["name"], dissenting, others),
                "scores": [
                    {
                        "scorecard_id": s["scorecard_id"],
                        "interviewer_name": s["interviewer_name"],
                        "interview_title": titles.get(s["scorecard_id"], s["interview_key"]),
                        "raw": s["raw"],
                        "calibrated": s["calibrated"],
                        "evidence": s["evidence"],
                        "dissent": s["scorecard_id"] in leading,
                    }
                    for s in [*dissenting, *others]
                ],
            }
        )
    return found


def _disagreement_message(
    name: str, leading: Sequence[Mapping[str, Any]], others: Sequence[Mapping[str, Any]]
) -> str:
    """E.g. "Kim rated System design 1; the other interviewer (Lee) rated it 3 — read both."."""
    subject = join_names([s["interviewer_name"] for s in leading])
    given = join_names([str(s["raw"]) for s in leading])
    if len(others) == 1:
        who = f"the other interviewer ({others[0]['interviewer_name']})"
    else:
        who = f"the other {len(others)} interviewers ({join_names([o['interviewer_name'] for o in others])})"
    total = len(leading) + len(others)
    read = "read both" if total == 2 else f"read all {total}"
    return (
        f"{subject} rated {name} {given}; {who} rated it "
        f"{join_names([str(o['raw']) for o in others])} \u2014 {read}."
    )


def revision_changes(
    template: InterviewTemplate, before: RevisionIn, after: RevisionIn
) -> list[dict[str, Any]] | None:
    """What an amendment changed against the revision before it, competency by competency
    (score from → to, evidence added, removed or rewritten), or None when the inputs do
    not carry the revisions' ratings."""
    if not before.ratings or not after.ratings:
        return None
    old = {r.competency: r for r in before.ratings}
    new = {r.competency: r for r in after.ratings}
    changes = []
    for competency in template.competencies:
        was, now = old.get(competency.key), new.get(competency.key)
        if was is None and now is None:
            continue
        change = _rating_change(was, now)
        if change is not None:
            changes.append({"competency": competency.key, "name": competency.name, **change})
    return changes


def _rating_change(was: RatingIn | None, now: RatingIn | None) -> dict[str, Any] | None:
    score_from = was.score if was else None
    score_to = now.score if now else None
    text_from = (was.evidence if was else "").strip()
    text_to = (now.evidence if now else "").strip()
    if text_from == text_to:
        evidence = None
    elif not text_from:
        evidence = "added"
    elif not text_to:
        evidence = "removed"
    else:
        evidence = "rewritten"
    if score_from == score_to and evidence is None:
        return None
    return {
        "score_from": score_from,
        "score_to": score_to,
        "evidence": evidence,
        "evidence_before": text_from if evidence in ("removed", "rewritten") else "",
    }


def duration_label(seconds: float | None) -> str | None:
    """A stay's length as a person says it: "40 min", "5 h", "3.2 days"."""
    if seconds is None:
        return None
    if seconds < 60:
        return "under 1 min"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    if seconds < 86400:
        return f"{round(seconds / 3600)} h"
    return f"{seconds / 86400:.1f} days"
