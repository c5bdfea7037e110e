"""The assessment of one application: every score in context (docs/scoring.md, "The assessment").

Pure: plain frozen data in, plain frozen data out, no database, no clock. The
API, the packet and the reports all call `assess` and serialise with `to_dict`.

Decisions, so that readers of the output know what the numbers mean:
- Calibrated score = what a typical interviewer would have given
  (`calibration_scale.typical_score`), on the rubric's scale, with the level
  and label it reads as; shown with 2 decimals next to the raw score, never
  instead of it. Only an interviewer whose calibration state is "applied"
  (the main pool) is adjusted; one not comparable with the main pool, with
  insufficient data, or not fitted yet keeps the raw score, and the line says
  which (`calibration_state`).
- Per competency, `spread_sd` is the sample standard deviation (n − 1) of the
  calibrated scores and `standard_error` is spread_sd / √n; both are None with
  one rating. Means use every submitted score, so an interviewer who rated a
  competency in two interviews counts twice in the mean, once in `n_raters`.
- Dissent compares *calibrated* scores: a generous interviewer's 4 next to
  a panel of 3s is no disagreement if their 4s usually mean 3. The raw
  difference is reported alongside. "The other panelists" are the other
  interviewers, so an interviewer never dissents from themself.
- The bar and the dissent threshold are checked on the values as displayed
  (2 decimals), so a mean shown as 3.00 never reads as "below a bar of 3".
- Everything is sorted by stable keys: template order for competencies,
  template interview order then scorecard id for scores, FLAG_CODES order for
  flags. The same input gives byte-identical JSON.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from service.domain.assessment_flags import (
    Flag,
    FlagRecords,
    build_flags,
    interview_name,
)
from service.domain.assessment_inputs import (
    DeviationIn,
    InterviewIn,
    LeniencyIn,
    RatingIn,
    ScorecardIn,
)
from service.domain.calibration_scale import (
    STATE_NOTES,
    CalibrationState,
    nearest_level,
    typical_score,
)
from service.domain.templates import Competency, InterviewTemplate

__all__ = [
    "Assessment",
    "CompetencyResult",
    "Dissent",
    "Flag",
    "FlagRecords",
    "QuotedScore",
    "RecommendationSummary",
    "ScoreLine",
    "assess",
    "to_dict",
]

HIRE = ("yes", "strong_yes")
DECIMALS = 2
NO_CALIBRATION = STATE_NOTES[CalibrationState.NOT_FITTED]


# ---- Output -----------------------------------------------------------------


@dataclass(frozen=True)
class ScoreLine:
    """One interviewer's score on one competency, raw and calibrated, with its evidence."""

    scorecard_id: int
    interview_id: int
    interview_key: str
    interviewer_id: int
    interviewer_name: str
    raw: int | None
    calibrated: float | None  # what a typical interviewer would have given, on the scale
    calibrated_level: int | None  # the rubric level it reads as
    calibrated_label: str | None  # that level's label ("Good")
    leniency: float  # applied, in points (0 unless calibration_state is "applied")
    leniency_se: float | None
    calibration_state: (
        str  # `CalibrationState`: applied, not_comparable, insufficient_data, not_fitted
    )
    calibration_note: str
    evidence: str
    dissent: bool


@dataclass(frozen=True)
class CompetencyResult:
    key: str
    name: str
    bar: int | None
    scores: tuple[ScoreLine, ...]  # including "not assessed" lines (raw None)
    n_ratings: int  # scores given (not None)
    n_raters: int  # distinct interviewers who gave them
    not_assessed: int  # scores of None
    raw_mean: float | None
    calibrated_mean: float | None
    calibrated_level: int | None  # the rubric level the calibrated mean reads as
    calibrated_label: str | None
    spread_sd: float | None  # sample SD (n − 1) of the calibrated scores
    standard_error: float | None  # spread_sd / √n_ratings
    clears_bar: bool | None  # None without a bar or without ratings
    one_rating_only: bool


@dataclass(frozen=True)
class QuotedScore:
    scorecard_id: int
    interviewer_name: str
    interview_key: str
    raw: int
    calibrated: float
    evidence: str


@dataclass(frozen=True)
class Dissent:
    competency: str
    competency_name: str
    score: QuotedScore  # the dissenting score and its evidence
    others: tuple[QuotedScore, ...]  # the other panelists' scores and evidence
    difference: float  # calibrated − mean of the others' calibrated scores
    raw_difference: float  # the same on raw scores, for reference
    message: str


@dataclass(frozen=True)
class RecommendationSummary:
    panel_size: int  # submitted scorecards
    counts: dict[str, int]  # every level of the scale, zeros included
    shares: dict[str, float]  # count / panel_size, 4 decimals
    recommend_hire: int  # yes + strong_yes
    summary: str


@dataclass(frozen=True)
class Assessment:
    template_key: str
    dissent_threshold: float
    competencies: tuple[CompetencyResult, ...]
    dissents: tuple[Dissent, ...]
    flags: tuple[Flag, ...]
    recommendations: RecommendationSummary


# ---- Assessment -------------------------------------------------------------


def assess(
    template: InterviewTemplate,
    scorecards: Iterable[ScorecardIn],
    interviews: Iterable[InterviewIn],
    deviations: Iterable[DeviationIn],
    leniencies: Mapping[int, LeniencyIn],
    *,
    now: datetime,
) -> Assessment:
    """Combine an application's submitted scorecards into one assessment."""
    order = {item.key: index for index, item in enumerate(template.interviews)}
    cards = sorted(
        _latest_revisions(scorecards),
        key=lambda c: (order.get(c.interview_key, len(order)), c.scorecard_id),
    )
    lines: dict[str, list[ScoreLine]] = {c.key: [] for c in template.competencies}
    by_key = {c.key: c for c in template.competencies}
    for card in cards:
        for rating in sorted(card.ratings, key=lambda r: r.competency):
            if rating.competency in lines:
                lines[rating.competency].append(
                    _line(card, rating, by_key[rating.competency], leniencies)
                )

    threshold = template.scoring.dissent_threshold
    results: list[CompetencyResult] = []
    dissents: list[Dissent] = []
    for competency in template.competencies:
        marked, found = _dissents(template, competency, lines[competency.key], threshold)
        results.append(_competency_result(template, competency, marked))
        dissents.extend(found)

    rated_by = {r.key: _rater_names(r.scores) for r in results}
    flags = build_flags(
        template,
        cards,
        sorted(interviews, key=lambda i: (i.starts_at, i.interview_id)),
        sorted(
            deviations,
            key=lambda d: (
                d.at,
                d.kind,
                d.interview_key,
                d.interview_id or 0,
                d.actor_name or "",
                d.reason,
            ),
        ),
        rated_by,
        now=now,
    )
    return Assessment(
        template_key=template.key,
        dissent_threshold=threshold,
        competencies=tuple(results),
        dissents=tuple(dissents),
        flags=flags,
        recommendations=_recommendations(template, cards, dissents),
    )


def to_dict(assessment: Assessment) -> dict[str, Any]:
    """JSON-ready data: lists instead of tuples, ISO 8601 strings instead of datetimes."""
    plain: dict[str, Any] = _plain(asdict(assessment))
    return plain


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _latest_revisions(scorecards: Iterable[ScorecardIn]) -> list[ScorecardIn]:
    """One scorecard per id: its highest revision, should a caller pass several."""
    latest: dict[int, ScorecardIn] = {}
    for card in scorecards:
        kept = latest.get(card.scorecard_id)
        if kept is None or card.revision > kept.revision:
            latest[card.scorecard_id] = card
    return list(latest.values())


def _line(
    card: ScorecardIn,
    rating: RatingIn,
    competency: Competency,
    leniencies: Mapping[int, LeniencyIn],
) -> ScoreLine:
    known = leniencies.get(card.interviewer_id)
    state = CalibrationState(known.state) if known else CalibrationState.NOT_FITTED
    applied = known is not None and state == CalibrationState.APPLIED and known.leniency is not None
    calibrated = None
    if rating.score is not None:
        calibrated = _round(
            _calibrated(rating.score, competency, known) if applied else rating.score
        )
    level = None if calibrated is None else nearest_level(calibrated, _levels(competency))
    if known is None:
        note = NO_CALIBRATION
    elif state == CalibrationState.NOT_COMPARABLE:
        note = STATE_NOTES[state]
    else:
        note = known.explanation
    return ScoreLine(
        scorecard_id=card.scorecard_id,
        interview_id=card.interview_id,
        interview_key=card.interview_key,
        interviewer_id=card.interviewer_id,
        interviewer_name=card.interviewer_name,
        raw=rating.score,
        calibrated=calibrated,
        calibrated_level=level,
        calibrated_label=None if level is None else _label(competency, level),
        leniency=_round(known.leniency) if applied and known and known.leniency else 0.0,
        leniency_se=_round(known.se) if applied and known and known.se is not None else None,
        calibration_state=state.value,
        calibration_note=note,
        evidence=rating.evidence,
        dissent=False,
    )


def _calibrated(raw: int, competency: Competency, known: LeniencyIn | None) -> float:
    """What a typical interviewer would have given, never outside the rubric's levels."""
    assert known is not None and known.leniency is not None
    if known.scale is not None:
        shift = known.leniency if known.shift is None else known.shift
        return typical_score(raw, shift, competency.key, known.scale)
    levels = _levels(competency)
    return min(max(raw - known.leniency, levels[0]), levels[-1])


def _levels(competency: Competency) -> list[int]:
    return sorted(r.level for r in competency.rubric)


def _label(competency: Competency, level: int) -> str:
    return next(r.label for r in competency.rubric if r.level == level)


def _competency_result(
    template: InterviewTemplate, competency: Competency, lines: Sequence[ScoreLine]
) -> CompetencyResult:
    scored = [line for line in lines if line.raw is not None]
    calibrated = [_given(line.calibrated) for line in scored]
    n = len(scored)
    mean = _round(_mean(calibrated)) if n else None
    level = None if mean is None else nearest_level(mean, _levels(competency))
    sd = _sample_sd(calibrated) if n > 1 else None
    bar = template.scoring.bars.get(competency.key)
    return CompetencyResult(
        key=competency.key,
        name=competency.name,
        bar=bar,
        scores=tuple(lines),
        n_ratings=n,
        n_raters=len(_rater_names(lines)),
        not_assessed=len(lines) - n,
        raw_mean=_round(_mean([_given(line.raw) for line in scored])) if n else None,
        calibrated_mean=mean,
        calibrated_level=level,
        calibrated_label=None if level is None else _label(competency, level),
        spread_sd=None if sd is None else _round(sd),
        standard_error=None if sd is None else _round(sd / math.sqrt(n)),
        clears_bar=None if bar is None or mean is None else mean >= bar,
        one_rating_only=n == 1,
    )


def _dissents(
    template: InterviewTemplate,
    competency: Competency,
    lines: Sequence[ScoreLine],
    threshold: float,
) -> tuple[list[ScoreLine], list[Dissent]]:
    """Mark each score that is ≥ threshold from the mean of the other interviewers' scores."""
    scored = [line for line in lines if line.raw is not None]
    marked: list[ScoreLine] = []
    found: list[Dissent] = []
    for line in lines:
        others = [o for o in scored if o.interviewer_id != line.interviewer_id]
        if line.raw is None or not others:
            marked.append(line)
            continue
        difference = _round(_given(line.calibrated) - _mean([_given(o.calibrated) for o in others]))
        if abs(difference) < threshold:
            marked.append(line)
            continue
        marked.append(replace(line, dissent=True))
        found.append(
            Dissent(
                competency=competency.key,
                competency_name=competency.name,
                score=_quote(line),
                others=tuple(_quote(o) for o in others),
                difference=difference,
                raw_difference=_round(line.raw - _mean([_given(o.raw) for o in others])),
                message=_dissent_message(template, competency, line, difference, len(others)),
            )
        )
    return marked, found


def _dissent_message(
    template: InterviewTemplate,
    competency: Competency,
    line: ScoreLine,
    difference: float,
    n_others: int,
) -> str:
    direction = "above" if difference > 0 else "below"
    others = "the other interviewer" if n_others == 1 else f"the other {n_others} interviewers"
    return (
        f"{line.interviewer_name}'s {competency.name} score in the "
        f"{interview_name(template, line.interview_key)} interview is "
        f"{abs(difference):.2f} points {direction} the mean of {others} (calibrated). "
        "Read both sides' evidence before deciding."
    )


def _quote(line: ScoreLine) -> QuotedScore:
    return QuotedScore(
        line.scorecard_id,
        line.interviewer_name,
        line.interview_key,
        _given(line.raw),
        _given(line.calibrated),
        line.evidence,
    )


def _rater_names(lines: Sequence[ScoreLine]) -> tuple[str, ...]:
    """Names of the distinct interviewers who gave a score, ordered by interviewer id."""
    names = {line.interviewer_id: line.interviewer_name for line in lines if line.raw is not None}
    return tuple(names[i] for i in sorted(names))


# ---- Recommendations --------------------------------------------------------

NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def _recommendations(
    template: InterviewTemplate, cards: Sequence[ScorecardIn], dissents: Sequence[Dissent]
) -> RecommendationSummary:
    panel = len(cards)
    counts = {
        level: sum(c.recommendation == level for c in cards)
        for level in template.recommendation_scale
    }
    hire = sum(c.recommendation in HIRE for c in cards)
    return RecommendationSummary(
        panel_size=panel,
        counts=counts,
        shares={
            level: round(count / panel, 4) if panel else 0.0 for level, count in counts.items()
        },
        recommend_hire=hire,
        summary=_summary_line(template, cards, hire, {d.score.scorecard_id for d in dissents}),
    )


def _summary_line(
    template: InterviewTemplate, cards: Sequence[ScorecardIn], hire: int, dissenting_cards: set[int]
) -> str:
    """E.g. "4 of 5 recommend hiring; one strong no on System design — see dissent."

    Strong views against the majority are named by interview, because they are
    what a hiring manager should read first; an even split names both sides.
    """
    panel = len(cards)
    if panel == 0:
        return "No scorecards submitted yet."
    verb = "recommends" if hire == 1 else "recommend"
    line = f"{hire} of {panel} {verb} hiring"
    minority = []
    if hire * 2 >= panel:
        minority.append(("strong no", [c for c in cards if c.recommendation == "strong_no"]))
    if hire * 2 <= panel:
        minority.append(("strong yes", [c for c in cards if c.recommendation == "strong_yes"]))
    for label, strong in minority:
        if strong:
            count = (
                NUMBER_WORDS[len(strong)] if len(strong) < len(NUMBER_WORDS) else str(len(strong))
            )
            plural = "s" if len(strong) > 1 else ""
            where = join_names([interview_name(template, c.interview_key) for c in strong])
            line += f"; {count} {label}{plural} on {where}"
    if dissenting_cards:
        line += " \u2014 see dissent"
    return line + "."


def join_names(names: Sequence[str]) -> str:
    """ "A", "A and B", "A, B and C", each name once."""
    unique = list(dict.fromkeys(names))
    return unique[0] if len(unique) == 1 else ", ".join(unique[:-1]) + " and " + unique[-1]


# ---- Arithmetic -------------------------------------------------------------

_T = TypeVar("_T")


def _given(value: _T | None) -> _T:
    """The raw or calibrated value of a line that was scored: `_line` sets both or neither."""
    assert value is not None
    return value


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def _sample_sd(values: Sequence[float]) -> float:
    mean = _mean(values)
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1))


def _round(value: float) -> float:
    """2 decimals, without a '-0.0' to show."""
    return round(value, DECIMALS) + 0.0
