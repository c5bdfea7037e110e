import marshmallow as ma

from service.domain.scorecards import SCORECARD_STATES
from service.domain.templates import RECOMMENDATIONS, SCORE_LEVELS
from service.http.schemas import NonBlankString, StrictSchema, UserRefSchema, list_of, one_of


class RatingSchema(StrictSchema):
    competency = NonBlankString(required=True, validate=ma.validate.Length(max=100))
    score = ma.fields.Integer(
        required=True,
        allow_none=True,
        strict=True,
        validate=ma.validate.Range(
            min=SCORE_LEVELS[0],
            max=SCORE_LEVELS[-1],
            error="must be from {min} to {max}, or null for not assessed",
        ),
    )
    evidence = ma.fields.String(load_default="", validate=ma.validate.Length(max=20_000))


class ScorecardWriteSchema(StrictSchema):
    ratings = ma.fields.List(
        ma.fields.Nested(RatingSchema), load_default=list, validate=ma.validate.Length(max=20)
    )
    recommendation = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.OneOf(RECOMMENDATIONS)
    )
    summary = ma.fields.String(load_default="", validate=ma.validate.Length(max=20_000))


class AmendmentSchema(ScorecardWriteSchema):
    reason = NonBlankString(required=True, validate=ma.validate.Length(max=2000))


class RatingOutSchema(ma.Schema):
    competency = ma.fields.String()
    score = ma.fields.Integer(allow_none=True)
    evidence = ma.fields.String()


class WarningSchema(ma.Schema):
    phrase = ma.fields.String()
    category = ma.fields.String()
    suggestion = ma.fields.String()
    field = ma.fields.String()
    start = ma.fields.Integer()
    end = ma.fields.Integer()


class RevisionSchema(ma.Schema):
    number = ma.fields.Integer()
    created_at = ma.fields.DateTime()
    reason = ma.fields.String()
    recommendation = one_of(RECOMMENDATIONS)
    summary = ma.fields.String()
    ratings = ma.fields.List(ma.fields.Nested(RatingOutSchema))
    warnings = ma.fields.List(ma.fields.Nested(WarningSchema))
    after_seeing_others = ma.fields.Boolean(
        metadata={"description": "Written after its author had read other panelists' scorecards."}
    )


class ScorecardSchema(ma.Schema):
    """The current content (the draft, or the latest revision) plus every revision."""

    id = ma.fields.Integer()
    interview_id = ma.fields.Integer()
    interview_key = ma.fields.String(attribute="interview.interview_key")
    application_id = ma.fields.Integer()
    author = ma.fields.Nested(UserRefSchema)
    state = one_of(SCORECARD_STATES)
    submitted_at = ma.fields.DateTime(allow_none=True)
    late = ma.fields.Boolean()
    revision = ma.fields.Integer()
    ratings = ma.fields.Method(
        "_ratings",
        metadata={"type": "array", "items": {"$ref": "#/components/schemas/RatingOut"}},
    )
    recommendation = ma.fields.Method(
        "_recommendation",
        metadata={"type": ["string", "null"], "enum": [*RECOMMENDATIONS, None]},
    )
    summary = ma.fields.Method("_summary", metadata={"type": "string"})
    warnings = ma.fields.Method(
        "_warnings",
        metadata={"type": "array", "items": {"$ref": "#/components/schemas/Warning"}},
    )
    revisions = ma.fields.List(ma.fields.Nested(RevisionSchema))

    @staticmethod
    def _content(scorecard):
        """The draft, or the current revision's content fields read from it (dumping the
        whole revision for each of the four fields was about half of the dump's time)."""
        if scorecard.state == "draft":
            return scorecard.draft or {}
        current = scorecard.current
        if current is None:
            return {}
        return {
            "ratings": current.ratings,
            "recommendation": current.recommendation,
            "summary": current.summary,
            "warnings": _WARNINGS.dump(current.warnings),
        }

    def _ratings(self, scorecard):
        return _RATINGS.dump(self._content(scorecard).get("ratings", []))

    def _recommendation(self, scorecard):
        return self._content(scorecard).get("recommendation")

    def _summary(self, scorecard):
        return self._content(scorecard).get("summary", "")

    def _warnings(self, scorecard):
        return self._content(scorecard).get("warnings", [])


# One instance of each, built once: a schema's construction copies its declared fields.
_RATINGS = RatingOutSchema(many=True)
_WARNINGS = WarningSchema(many=True)

ScorecardListSchema = list_of(ScorecardSchema)
