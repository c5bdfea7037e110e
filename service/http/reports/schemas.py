import marshmallow as ma

from service.domain.access import ROLES
from service.domain.adverse_impact import VERDICTS
from service.domain.calibration_scale import CALIBRATION_STATES
from service.domain.self_identification import DIMENSIONS
from service.http.schemas import (
    OPTIONAL,
    Id,
    ListEnvelopeSchema,
    NonBlankString,
    PlainDumpSchema,
    StrictSchema,
    UserRefSchema,
    UtcDateTime,
    one_of,
)


class AdverseImpactQueryArgsSchema(StrictSchema):
    requisition_id = Id(strict=False)
    template_key = NonBlankString(validate=ma.validate.Length(max=100))
    applied_from = UtcDateTime()
    applied_to = UtcDateTime()
    stage = NonBlankString(
        validate=ma.validate.Length(max=100),
        metadata={"description": "One stage key, or `whole_process` for applied -> hired."},
    )
    dimension = ma.fields.String(
        validate=ma.validate.OneOf(DIMENSIONS),
        metadata={"description": "One dimension; all of them when omitted."},
    )


class PipelineQueryArgsSchema(StrictSchema):
    requisition_id = Id(required=True, strict=False)


class StuckQueryArgsSchema(StrictSchema):
    requisition_id = Id(strict=False)
    template_key = NonBlankString(validate=ma.validate.Length(max=100))
    limit = ma.fields.Integer(
        load_default=50,
        validate=ma.validate.Range(min=1, max=200),
        metadata={"description": "How many to list (at most 200)."},
    )


class InterviewersQueryArgsSchema(StrictSchema):
    pass


class GroupResultSchema(ma.Schema):
    """A suppressed group carries only its label and verdict: its counts and
    statistics are left out (OPTIONAL: not required in the document)."""

    group = ma.fields.String()
    suppressed = ma.fields.Boolean()
    verdict = one_of(VERDICTS)
    label = ma.fields.String()
    reached = ma.fields.Integer(metadata=OPTIONAL)
    selected = ma.fields.Integer(metadata=OPTIONAL)
    selection_rate = ma.fields.Float(metadata=OPTIONAL)
    impact_ratio = ma.fields.Float(allow_none=True, metadata=OPTIONAL)
    impact_ratio_exact = ma.fields.String(allow_none=True, metadata=OPTIONAL)
    below_four_fifths = ma.fields.Boolean(allow_none=True, metadata=OPTIONAL)
    z_d = ma.fields.Float(allow_none=True, metadata=OPTIONAL)
    fisher_p_two_sided = ma.fields.Float(allow_none=True, metadata=OPTIONAL)
    fisher_mid_p = ma.fields.Float(allow_none=True, metadata=OPTIONAL)
    shortfall = ma.fields.Float(allow_none=True, metadata=OPTIONAL)
    one_person_reverses = ma.fields.Boolean(allow_none=True, metadata=OPTIONAL)


class StepSchema(ma.Schema):
    template_key = ma.fields.String()
    stage = ma.fields.String()
    step = ma.fields.String()
    reference_group = ma.fields.String(allow_none=True)
    total_reached = ma.fields.Integer()
    total_selected = ma.fields.Integer()
    any_adverse_impact = ma.fields.Boolean()
    flags = ma.fields.List(ma.fields.String())
    min_applicants = ma.fields.Integer()
    min_selections = ma.fields.Integer()
    groups = ma.fields.List(ma.fields.Nested(GroupResultSchema))


class DimensionSchema(ma.Schema):
    dimension = ma.fields.String()
    steps = ma.fields.List(ma.fields.Nested(StepSchema))


class AdverseImpactFiltersSchema(ma.Schema):
    requisition_id = ma.fields.Integer(allow_none=True)
    template_key = ma.fields.String(allow_none=True)
    applied_from = ma.fields.DateTime(allow_none=True)
    applied_to = ma.fields.DateTime(allow_none=True)
    stage = ma.fields.String(allow_none=True)
    dimension = ma.fields.String(allow_none=True)


class AdverseImpactReportSchema(PlainDumpSchema):
    filters = ma.fields.Nested(AdverseImpactFiltersSchema)
    min_applicants = ma.fields.Integer()
    min_selections = ma.fields.Integer()
    dimensions = ma.fields.List(ma.fields.Nested(DimensionSchema))


class PipelineStageSchema(ma.Schema):
    stage = ma.fields.String()
    name = ma.fields.String()
    target_days = ma.fields.Integer()
    entered = ma.fields.Integer()
    advanced = ma.fields.Integer()
    rejected = ma.fields.Integer()
    rejected_by_reason = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    withdrawn = ma.fields.Integer()
    still_there = ma.fields.Integer()
    conversion = ma.fields.Float(allow_none=True, metadata={"description": "advanced / entered"})
    share_of_applicants = ma.fields.Float(allow_none=True)
    stays = ma.fields.Integer(metadata={"description": "Finished stays behind the times."})
    median_days = ma.fields.Float(allow_none=True)
    p90_days = ma.fields.Float(allow_none=True)
    share_over_target = ma.fields.Float(allow_none=True)


class PipelineReportSchema(ma.Schema):
    requisition_id = ma.fields.Integer()
    template_key = ma.fields.String()
    stages = ma.fields.List(ma.fields.Nested(PipelineStageSchema))


class StuckApplicationSchema(ma.Schema):
    application_id = ma.fields.Integer()
    requisition_id = ma.fields.Integer()
    requisition_title = ma.fields.String()
    stage = ma.fields.String()
    stage_name = ma.fields.String()
    stage_entered_at = ma.fields.DateTime()
    days_in_stage = ma.fields.Float()
    target_days = ma.fields.Integer()
    days_over_target = ma.fields.Float()
    next_step = ma.fields.String()
    owner_role = one_of(ROLES)
    owners = ma.fields.List(ma.fields.Nested(UserRefSchema))


class StuckReportSchema(ListEnvelopeSchema):
    total = ma.fields.Integer()
    items = ma.fields.List(ma.fields.Nested(StuckApplicationSchema))


class InterviewerRowSchema(ma.Schema):
    interviewer_id = ma.fields.Integer()
    name = ma.fields.String()
    scorecards = ma.fields.Integer()
    calibration_state = one_of(
        CALIBRATION_STATES,
        metadata={
            "description": "applied (main pool), not_comparable (no shared candidate with the "
            "main pool), insufficient_data, or not_fitted; leniency is null unless applied."
        },
    )
    leniency = ma.fields.Float(allow_none=True)
    leniency_se = ma.fields.Float(allow_none=True)
    leniency_se_absolute = ma.fields.Float(allow_none=True)
    leniency_ratings = ma.fields.Integer(allow_none=True)
    recommendations = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    halo_rate = ma.fields.Float()
    late_share = ma.fields.Float()
    median_evidence_chars = ma.fields.Float(allow_none=True)
    adherence = ma.fields.Float(allow_none=True)
    language_flags_per_100 = ma.fields.Float()


class ReliabilitySchema(ma.Schema):
    template_key = ma.fields.String()
    competency = ma.fields.String()
    ratings = ma.fields.Integer()
    candidates = ma.fields.Integer()
    icc1 = ma.fields.Float(allow_none=True)
    icck = ma.fields.Float(allow_none=True)
    k = ma.fields.Float(allow_none=True)
    krippendorff_alpha = ma.fields.Float(allow_none=True)


class CalibrationRunRefSchema(ma.Schema):
    id = ma.fields.Integer()
    fitted_at = ma.fields.DateTime()
    n_ratings = ma.fields.Integer()


class InterviewersReportSchema(PlainDumpSchema):
    calibration_run = ma.fields.Nested(CalibrationRunRefSchema, allow_none=True)
    interviewers = ma.fields.List(ma.fields.Nested(InterviewerRowSchema))
    reliability = ma.fields.List(ma.fields.Nested(ReliabilitySchema))
