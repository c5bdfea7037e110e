"""Red flags on one application's assessment: things a hiring manager should look at.

Each flag is a question to ask, never a verdict and never a candidate score
(docs/scoring.md, "Flags"): it names what happened in plain words and the records it
concerns. Part of `service.domain.assessment`; pure data in, pure data out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from service.domain.assessment_inputs import DeviationIn, InterviewIn, ScorecardIn
from service.domain.templates import InterviewTemplate

# The order flags are listed in: what the panel did not cover first, then how
# the scores were given, then the process around them.
FLAG_CODES = (
    "coverage_gap",
    "single_rater",
    "halo",
    "not_independent",
    "late_feedback",
    "missing_scorecard",
    "biased_language",
    "process_deviation",
)
HALO_MIN_COMPETENCIES = 3
NOT_EXPECTED_TO_HAPPEN = ("cancelled", "no_show")


@dataclass(frozen=True)
class FlagRecords:
    """The ids a flag concerns, each sorted."""

    scorecard_ids: tuple[int, ...] = ()
    interview_ids: tuple[int, ...] = ()
    competencies: tuple[str, ...] = ()


@dataclass(frozen=True)
class Flag:
    code: str
    message: str
    records: FlagRecords
    details: tuple[
        dict[str, Any], ...
    ] = ()  # biased_language: the phrases; process_deviation: the record


def build_flags(
    template: InterviewTemplate,
    scorecards: Sequence[ScorecardIn],
    interviews: Sequence[InterviewIn],
    deviations: Sequence[DeviationIn],
    rated_by: dict[str, tuple[str, ...]],
    *,
    now: datetime,
) -> tuple[Flag, ...]:
    """Every flag, in FLAG_CODES order, then template order, then by the records it concerns.

    `rated_by` maps each template competency to the names of the interviewers
    who scored it (scores of None do not count), one entry per interviewer.
    """
    flags = [
        *_competency_flags(template, rated_by),
        *(flag for card in scorecards for flag in _scorecard_flags(template, card)),
        *_missing_scorecards(template, interviews, now),
        *(_deviation_flag(template, deviation) for deviation in deviations),
    ]
    rank = {c.key: index for index, c in enumerate(template.competencies)}

    def order(flag: Flag) -> tuple[Any, ...]:
        records = flag.records
        return (
            FLAG_CODES.index(flag.code),
            [rank.get(c, len(rank)) for c in records.competencies],
            records.competencies,
            records.scorecard_ids,
            records.interview_ids,
            flag.message,
        )

    return tuple(sorted(flags, key=order))


def _competency_flags(
    template: InterviewTemplate, rated_by: dict[str, tuple[str, ...]]
) -> Iterator[Flag]:
    for competency in template.competencies:
        raters = rated_by.get(competency.key, ())
        records = FlagRecords(competencies=(competency.key,))
        if not raters:
            yield Flag(
                "coverage_gap",
                f"No submitted scorecard scored {competency.name}, "
                "so there is no evidence on it yet.",
                records,
            )
        elif len(raters) == 1:
            yield Flag(
                "single_rater",
                f"Only {raters[0]} scored {competency.name}; "
                "one view of it, with no second opinion to compare.",
                records,
            )


def _scorecard_flags(template: InterviewTemplate, card: ScorecardIn) -> Iterator[Flag]:
    who = f"{card.interviewer_name}'s scorecard for {_title(template, card.interview_key)}"
    records = FlagRecords(scorecard_ids=(card.scorecard_id,), interview_ids=(card.interview_id,))
    scores = [r.score for r in card.ratings if r.score is not None]
    if len(scores) >= HALO_MIN_COMPETENCIES and len(set(scores)) == 1:
        rated = tuple(sorted(r.competency for r in card.ratings if r.score is not None))
        yield Flag(
            "halo",
            f"{who} gives the same score ({scores[0]}) to all {len(scores)} "
            "competencies it rates; check that each score rests on its own evidence.",
            FlagRecords(records.scorecard_ids, records.interview_ids, rated),
        )
    if card.after_seeing_others:
        yield Flag(
            "not_independent",
            f"{who} was written or amended after reading other "
            "interviewers' feedback, so it may not be an independent view.",
            records,
        )
    if card.late:
        yield Flag(
            "late_feedback",
            f"{who} was submitted more than "
            f"{template.scoring.late_feedback_hours} hours after the interview; notes "
            "written late are less reliable (a risk signal, not proof).",
            records,
        )
    if card.warnings:
        details = tuple(
            sorted(
                (
                    {
                        key: str(w.get(key, ""))
                        for key in ("phrase", "category", "suggestion", "field")
                    }
                    for w in card.warnings
                ),
                key=lambda w: (w["field"], w["phrase"], w["category"], w["suggestion"]),
            )
        )
        phrases = "; ".join(f"\u201c{w['phrase']}\u201d ({w['category']})" for w in details)
        yield Flag(
            "biased_language",
            f"{who} contains wording that is not evidence and can "
            f"carry bias: {phrases}. Ask for the behaviour behind it.",
            records,
            details,
        )


def flags_change_at(
    template: InterviewTemplate, interviews: Sequence[InterviewIn], now: datetime
) -> datetime | None:
    """The last instant at which `build_flags` still gives what it gives at `now` for
    the same records: the earliest overdue time to come (`_overdue_at`), None if none.

    Time decides one thing only, whether a scheduled interview's scorecard is missing
    yet; a stored assessment (`persistence.assessment_read_model`) is valid until then.
    """
    times = (_overdue_at(template, interview) for interview in interviews)
    return min((t for t in times if t is not None and t >= now), default=None)


def _overdue_at(template: InterviewTemplate, interview: InterviewIn) -> datetime | None:
    """After this instant the interview's scorecard is missing on time alone; None when
    time does not decide (submitted, not expected to happen, or completed: missing at once)."""
    if interview.scorecard_state == "submitted" or interview.status in NOT_EXPECTED_TO_HAPPEN:
        return None
    if interview.status == "completed":
        return None
    return interview.starts_at + timedelta(hours=template.scoring.late_feedback_hours)


def _missing_scorecards(
    template: InterviewTemplate, interviews: Sequence[InterviewIn], now: datetime
) -> Iterator[Flag]:
    for interview in interviews:
        if interview.scorecard_state == "submitted" or interview.status in NOT_EXPECTED_TO_HAPPEN:
            continue
        overdue_at = _overdue_at(template, interview)
        if overdue_at is not None and now <= overdue_at:
            continue
        draft = " (a draft is saved)" if interview.scorecard_state == "draft" else ""
        yield Flag(
            "missing_scorecard",
            f"{interview.interviewer_name} has not submitted a "
            f"scorecard for {_title(template, interview.interview_key)}{draft}; the "
            "assessment is missing that view.",
            FlagRecords(interview_ids=(interview.interview_id,)),
        )


def _deviation_flag(template: InterviewTemplate, deviation: DeviationIn) -> Flag:
    name = interview_name(template, deviation.interview_key)
    planned = template.interview(deviation.interview_key)
    what = {
        "skipped": f"The {name} interview was skipped",
        "added": f"An extra {name} interview was added",
        "overran": f"The {name} interview ran past its "
        f"{planned.duration_minutes if planned else 'planned'}-minute time-box",
    }.get(deviation.kind, f"The {name} interview: {deviation.kind}")
    by = f" (recorded by {deviation.actor_name})" if deviation.actor_name else ""
    reason = f": {deviation.reason}" if deviation.reason else "; no reason was given"
    ids = () if deviation.interview_id is None else (deviation.interview_id,)
    detail = {
        "kind": deviation.kind,
        "interview_key": deviation.interview_key,
        "interview_id": deviation.interview_id,
        "actor_name": deviation.actor_name,
        "reason": deviation.reason,
        "at": deviation.at.isoformat(),
    }
    return Flag(
        "process_deviation",
        f"{what}{by}{reason}. This departs from the template's "
        "plan, which is the same for every candidate.",
        FlagRecords(interview_ids=ids),
        (detail,),
    )


def _title(template: InterviewTemplate, interview_key: str) -> str:
    return f"the {interview_name(template, interview_key)} interview"


def interview_name(template: InterviewTemplate, interview_key: str) -> str:
    """The interview's title in the template, or its key if the template does not plan it."""
    planned = template.interview(interview_key)
    return planned.title if planned else interview_key
