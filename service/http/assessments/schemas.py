"""The assessment as the API sends it: every score in context (see
`service.domain.assessment` and `assessment_flags` for each member's meaning)."""

from typing import Any

import marshmallow as ma

from service.domain.assessment_flags import FLAG_CODES
from service.domain.calibration_scale import CALIBRATION_STATES
from service.domain.loops import DEVIATION_KINDS
from service.domain.templates import RECOMMENDATIONS
from service.http.schemas import OPTIONAL, one_of


class ScoreLineSchema(ma.Schema):
    """One interviewer's score of one competency; `raw` is null when not assessed."""

    scorecard_id = ma.fields.Integer()
    interview_id = ma.fields.Integer()
    interview_key = ma.fields.String()
    interviewer_id = ma.fields.Integer()
    interviewer_name = ma.fields.String()
    raw = ma.fields.Integer(allow_none=True)
    calibrated = ma.fields.Float(
        allow_none=True,
        metadata={
            "description": "What a typical interviewer would have given, on the rubric's "
            "scale; equals raw unless calibration_state is applied."
        },
    )
    calibrated_level = ma.fields.Integer(
        allow_none=True, metadata={"description": "The rubric level the calibrated score reads as."}
    )
    calibrated_label = ma.fields.String(
        allow_none=True, metadata={"description": "That level's label (Poor … Excellent)."}
    )
    leniency = ma.fields.Float(
        metadata={
            "description": "Points this interviewer scores above co-panelists, as applied "
            "(0 unless calibration_state is applied)."
        }
    )
    leniency_se = ma.fields.Float(allow_none=True, metadata={"description": "Its standard error."})
    calibration_state = one_of(
        CALIBRATION_STATES,
        metadata={
            "description": "applied (main pool: calibrated); not_comparable (no shared "
            "candidate with the main pool), insufficient_data or not_fitted: raw shown."
        },
    )
    calibration_note = ma.fields.String()
    evidence = ma.fields.String()
    dissent = ma.fields.Boolean()


class CompetencyResultSchema(ma.Schema):
    key = ma.fields.String()
    name = ma.fields.String()
    bar = ma.fields.Integer(allow_none=True, metadata={"description": "The score that clears."})
    scores = ma.fields.List(ma.fields.Nested(ScoreLineSchema))
    n_ratings = ma.fields.Integer(metadata={"description": "Scores given (not null)."})
    n_raters = ma.fields.Integer(metadata={"description": "Distinct interviewers who gave them."})
    not_assessed = ma.fields.Integer()
    raw_mean = ma.fields.Float(allow_none=True)
    calibrated_mean = ma.fields.Float(allow_none=True)
    calibrated_level = ma.fields.Integer(
        allow_none=True, metadata={"description": "The rubric level the calibrated mean reads as."}
    )
    calibrated_label = ma.fields.String(allow_none=True)
    spread_sd = ma.fields.Float(
        allow_none=True, metadata={"description": "Sample SD of the calibrated scores."}
    )
    standard_error = ma.fields.Float(allow_none=True)
    clears_bar = ma.fields.Boolean(
        allow_none=True, metadata={"description": "Null without a bar or without ratings."}
    )
    one_rating_only = ma.fields.Boolean()


class QuotedScoreSchema(ma.Schema):
    scorecard_id = ma.fields.Integer()
    interviewer_name = ma.fields.String()
    interview_key = ma.fields.String()
    raw = ma.fields.Integer()
    calibrated = ma.fields.Float()
    evidence = ma.fields.String()


class DissentSchema(ma.Schema):
    """A score far from the other panelists', both sides' evidence quoted."""

    competency = ma.fields.String()
    competency_name = ma.fields.String()
    score = ma.fields.Nested(QuotedScoreSchema)
    others = ma.fields.List(ma.fields.Nested(QuotedScoreSchema))
    difference = ma.fields.Float(
        metadata={"description": "Calibrated score − the mean of the others' calibrated scores."}
    )
    raw_difference = ma.fields.Float()
    message = ma.fields.String()


class FlagRecordsSchema(ma.Schema):
    scorecard_ids = ma.fields.List(ma.fields.Integer())
    interview_ids = ma.fields.List(ma.fields.Integer())
    competencies = ma.fields.List(ma.fields.String())


class FlagDetailSchema(ma.Schema):
    """biased_language: a phrase found; process_deviation: the deviation recorded."""

    phrase = ma.fields.String(metadata=OPTIONAL)
    category = ma.fields.String(metadata=OPTIONAL)
    suggestion = ma.fields.String(metadata=OPTIONAL)
    field = ma.fields.String(metadata=OPTIONAL)
    kind = one_of(DEVIATION_KINDS, metadata=OPTIONAL)
    interview_key = ma.fields.String(metadata=OPTIONAL)
    interview_id = ma.fields.Integer(allow_none=True, metadata=OPTIONAL)
    actor_name = ma.fields.String(allow_none=True, metadata=OPTIONAL)
    reason = ma.fields.String(metadata=OPTIONAL)
    at = ma.fields.String(metadata=OPTIONAL | {"format": "date-time"})


class FlagSchema(ma.Schema):
    code = one_of(FLAG_CODES)
    message = ma.fields.String()
    records = ma.fields.Nested(FlagRecordsSchema)
    details = ma.fields.List(ma.fields.Nested(FlagDetailSchema))


def per_recommendation(field: ma.fields.Field[Any]) -> ma.fields.Dict:
    return ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.OneOf(RECOMMENDATIONS)), values=field
    )


class RecommendationSummarySchema(ma.Schema):
    panel_size = ma.fields.Integer(metadata={"description": "Submitted scorecards."})
    counts = per_recommendation(ma.fields.Integer())
    shares = per_recommendation(ma.fields.Float())
    recommend_hire = ma.fields.Integer(metadata={"description": "yes + strong_yes."})
    summary = ma.fields.String()


class AssessmentSchema(ma.Schema):
    template_key = ma.fields.String()
    dissent_threshold = ma.fields.Float()
    competencies = ma.fields.List(ma.fields.Nested(CompetencyResultSchema))
    dissents = ma.fields.List(ma.fields.Nested(DissentSchema))
    flags = ma.fields.List(ma.fields.Nested(FlagSchema))
    recommendations = ma.fields.Nested(RecommendationSummarySchema)
