import marshmallow as ma

from service.http.schemas import one_of


class CalibrationRunSchema(ma.Schema):
    id = ma.fields.Integer()
    fitted_at = ma.fields.DateTime()
    fitted_with = ma.fields.String(metadata={"description": "reml (full fit) or refresh"})
    data_digest = ma.fields.String()
    n_ratings = ma.fields.Integer()
    n_components = ma.fields.Integer()


class InterviewerEffectSchema(ma.Schema):
    leniency = ma.fields.Float(
        metadata={"description": "Points above co-panelists; adjusted = raw − leniency."}
    )
    se = ma.fields.Float()
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
    effect = ma.fields.Nested(InterviewerEffectSchema, allow_none=True)
    run = ma.fields.Nested(CalibrationRunSchema, allow_none=True)


class RefreshAcceptedSchema(ma.Schema):
    status = one_of(("queued",))
