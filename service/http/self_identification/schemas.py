import marshmallow as ma

from service.domain.self_identification import DECLINED, QUESTIONS
from service.http.schemas import StrictSchema


def _answer(question: str, description: str) -> ma.fields.String:
    allowed = QUESTIONS[question]
    return ma.fields.String(
        load_default=DECLINED,
        validate=ma.validate.OneOf(allowed, error="Not an allowed answer. Allowed: {choices}."),
        metadata={"description": f"{description} Omitted means {DECLINED}.", "enum": list(allowed)},
    )


class SelfIdentificationPutSchema(StrictSchema):
    """The candidate's voluntary answers; every question may be declined."""

    sex = _answer("sex", "Sex/gender as the candidate identifies.")
    race_ethnicity = _answer("race_ethnicity", "Race/ethnicity, EEO-1 categories.")
    veteran_status = _answer("veteran_status", "Protected veteran status (VEVRAA).")
    disability_status = _answer("disability_status", "Disability status (form CC-305).")
