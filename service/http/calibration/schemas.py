import marshmallow as ma

from service.domain.calibration_scale import CALIBRATION_STATES, MODELS
from service.http.schemas import one_of
from service.persistence.calibration import STORED_STATES


class CalibrationRunSchema(ma.Schema):
    id = ma.fields.Integer()
    fitted_at = ma.fields.DateTime()
    fitted_with = ma.fields.String(metadata={"description": "reml (full fit) or refresh"})
    model = one_of(MODELS, metadata={"description": "The rater model: linear or ordinal."})
    data_digest = ma.fields.String()
    n_ratings = ma.fields.Integer()
    n_components = ma.fields.Integer()
    sigma2_unit = ma.fields.Float(
        allow_none=True,
        metadata={
            "description": "Variance between candidates (points² linear, logits² ordinal); "
            "null when the data cannot determine it (see sigma2_unit_reason)."
        },
    )
    sigma2_unit_reason = ma.fields.String(allow_none=True)
    sigma2_interviewer = ma.fields.Float(
        allow_none=True,
        metadata={
            "description": "Variance between interviewers; null when the data cannot "
            "determine it (see sigma2_interviewer_reason)."
        },
    )
    sigma2_interviewer_reason = ma.fields.String(allow_none=True)
    sigma2_residual = ma.fields.Float()


class InterviewerEffectSchema(ma.Schema):
    state = one_of(
        STORED_STATES,
        metadata={
            "description": "applied: in the main pool, scores are calibrated; not_comparable: "
            "no shared candidate with the main pool, raw scores shown; insufficient_data: "
            "too little data, raw scores shown."
        },
    )
    leniency = ma.fields.Float(
        allow_none=True,
        metadata={
            "description": "Points above co-panelists within the interviewer's own connected "
            "group (applied to scores only when state is applied); null without an estimate."
        },
    )
    se = ma.fields.Float(allow_none=True, metadata={"description": "SE of leniency (relative)."})
    se_absolute = ma.fields.Float(
        allow_none=True,
        metadata={
            "description": "SE against a typical interviewer, with the intercept's uncertainty."
        },
    )
    shift = ma.fields.Float(
        allow_none=True,
        metadata={"description": "The effect on the model's scale (points or logits)."},
    )
    n_ratings = ma.fields.Integer()
    n_copanelists = ma.fields.Integer()
    connected = ma.fields.Boolean()
    copanel_deviation = ma.fields.Float(allow_none=True)
    disagrees = ma.fields.Boolean()
    insufficient_data = ma.fields.Boolean()
    explanation = ma.fields.String()


class InterviewerCalibrationSchema(ma.Schema):
    interviewer_id = ma.fields.Integer()
    calibrated = ma.fields.Boolean(metadata={"description": "False until a fit includes them."})
    state = one_of(
        CALIBRATION_STATES,
        metadata={"description": "The effect's state, or not_fitted before a fit includes them."},
    )
    effect = ma.fields.Nested(InterviewerEffectSchema, allow_none=True)
    run = ma.fields.Nested(CalibrationRunSchema, allow_none=True)


class RefreshAcceptedSchema(ma.Schema):
    status = one_of(("queued",))
