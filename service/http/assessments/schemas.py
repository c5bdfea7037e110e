import marshmallow as ma


class AssessmentSchema(ma.Schema):
    """Every score in context: see `service.domain.assessment` for each member's meaning."""

    template_key = ma.fields.String()
    dissent_threshold = ma.fields.Float()
    competencies = ma.fields.List(
        ma.fields.Dict(),
        metadata={
            "description": "Per competency: raw and calibrated scores with evidence, means, spread, "
            "SE, raters, whether it clears the bar, one_rating_only."
        },
    )
    dissents = ma.fields.List(
        ma.fields.Dict(),
        metadata={
            "description": "Scores far from the other panelists', both sides' evidence quoted."
        },
    )
    flags = ma.fields.List(
        ma.fields.Dict(),
        metadata={
            "description": "code, message and the records concerned: halo, coverage_gap, "
            "single_rater, late_feedback, biased_language, process_deviation, "
            "missing_scorecard, not_independent."
        },
    )
    recommendations = ma.fields.Dict(
        metadata={"description": "Counts and shares per recommendation, and a summary line."}
    )
