import marshmallow as ma

from service.domain.loops import DEVIATION_KINDS, PLANNED_INTERVIEW_STATES
from service.domain.pipeline import INTERVIEW_STATUSES
from service.domain.scorecards import SCORECARD_STATES
from service.http.schemas import (
    Id,
    NonBlankString,
    PageQueryArgsSchema,
    StrictSchema,
    UtcDateTime,
    one_of,
    page_of,
)

SCORECARD_LIST_STATES = ("missing", *SCORECARD_STATES)


class InterviewCreateSchema(StrictSchema):
    interview_key = NonBlankString(required=True, validate=ma.validate.Length(max=100))
    interviewer_id = Id(required=True)
    starts_at = UtcDateTime(required=True)
    reason = ma.fields.String(
        load_default="",
        validate=ma.validate.Length(max=2000),
        metadata={"description": "Required when the loop already has this interview."},
    )


class InterviewPatchSchema(StrictSchema):
    interviewer_id = Id()
    starts_at = UtcDateTime()
    reason = ma.fields.String(validate=ma.validate.Length(max=2000))

    @ma.validates_schema
    def _something_to_change(self, data, **kwargs):
        if not {"interviewer_id", "starts_at"} & data.keys():
            raise ma.ValidationError(
                "Send starts_at to reschedule or interviewer_id to reassign.", "_body"
            )


class ReasonSchema(StrictSchema):
    reason = NonBlankString(required=True, validate=ma.validate.Length(max=2000))


class OptionalReasonSchema(StrictSchema):
    reason = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))


class CompleteSchema(OptionalReasonSchema):
    actual_minutes = ma.fields.Integer(
        strict=True,
        validate=ma.validate.Range(min=1, max=600),
        metadata={"description": "How long it really took; defaults to the time-box."},
    )


class PersonSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()


class InterviewSchema(ma.Schema):
    id = ma.fields.Integer()
    application_id = ma.fields.Integer()
    interview_key = ma.fields.String()
    interviewer = ma.fields.Nested(PersonSchema)
    starts_at = ma.fields.DateTime()
    ends_at = ma.fields.DateTime()
    duration_minutes = ma.fields.Integer()
    actual_minutes = ma.fields.Integer(allow_none=True)
    status = one_of(INTERVIEW_STATUSES)
    status_reason = ma.fields.String()
    candidate_name = ma.fields.String()
    scorecard_state = one_of(SCORECARD_LIST_STATES)


class InterviewQueryArgsSchema(PageQueryArgsSchema):
    application_id = Id(strict=False)
    interviewer_id = Id(strict=False)
    status = ma.fields.String(validate=ma.validate.OneOf(INTERVIEW_STATUSES))
    scorecard_state = ma.fields.String(validate=ma.validate.OneOf(SCORECARD_LIST_STATES))
    pending = ma.fields.Boolean(
        metadata={
            "description": "true: started, not cancelled or a no-show, and the scorecard is "
            "not submitted (what its interviewer owes); false: the others."
        }
    )


InterviewPageSchema = page_of(InterviewSchema)


class InterviewFactSchema(ma.Schema):
    id = ma.fields.Integer()
    interviewer_id = ma.fields.Integer()
    interviewer_name = ma.fields.String()
    starts_at = ma.fields.DateTime()
    duration_minutes = ma.fields.Integer()
    actual_minutes = ma.fields.Integer(allow_none=True)
    status = one_of(INTERVIEW_STATUSES)
    scorecard = one_of(SCORECARD_LIST_STATES)


class PlannedInterviewSchema(ma.Schema):
    key = ma.fields.String()
    title = ma.fields.String()
    stage = ma.fields.String()
    stage_position = ma.fields.String(metadata={"description": "past, current or upcoming"})
    duration_minutes = ma.fields.Integer()
    state = one_of(PLANNED_INTERVIEW_STATES)
    interviews = ma.fields.List(ma.fields.Nested(InterviewFactSchema))


class DeviationSchema(ma.Schema):
    kind = one_of(DEVIATION_KINDS)
    interview_key = ma.fields.String()
    interview_id = ma.fields.Integer(allow_none=True)
    actor = ma.fields.Nested(PersonSchema, allow_none=True)
    reason = ma.fields.String()
    at = ma.fields.DateTime()


class LoopSchema(ma.Schema):
    application_id = ma.fields.Integer()
    stage = ma.fields.String()
    interviews = ma.fields.List(ma.fields.Nested(PlannedInterviewSchema))
    deviations = ma.fields.List(ma.fields.Nested(DeviationSchema))


class QuestionSchema(ma.Schema):
    text = ma.fields.String()
    follow_ups = ma.fields.List(ma.fields.String())


class RubricLevelSchema(ma.Schema):
    level = ma.fields.Integer()
    label = ma.fields.String()
    anchor = ma.fields.String()


class KitCompetencySchema(ma.Schema):
    key = ma.fields.String()
    name = ma.fields.String()
    description = ma.fields.String()
    rubric = ma.fields.List(ma.fields.Nested(RubricLevelSchema))


class KitSchema(ma.Schema):
    interview_id = ma.fields.Integer()
    application_id = ma.fields.Integer()
    candidate_name = ma.fields.String()
    title = ma.fields.String()
    stage = ma.fields.String()
    starts_at = ma.fields.DateTime()
    duration_minutes = ma.fields.Integer()
    questions = ma.fields.List(ma.fields.Nested(QuestionSchema))
    competencies = ma.fields.List(ma.fields.Nested(KitCompetencySchema))
    evidence_guidance = ma.fields.String()
    min_evidence_chars = ma.fields.Integer()
    late_feedback_hours = ma.fields.Integer()
    recommendation_scale = ma.fields.List(ma.fields.String())
