"""Building report data through the use cases (the same operations the API runs)."""

from service.domain.self_identification import DECLINED, QUESTIONS
from service.usecases import applications
from service.usecases.self_identification import record_self_identification
from tests.factories import CandidateFactory


def answers(**given):
    return {q: given.get(q, DECLINED) for q in QUESTIONS}


def apply(session, recruiter, requisition, **self_identified):
    application = applications.create_application(
        session, recruiter, CandidateFactory().id, requisition.id
    )
    if self_identified:
        record_self_identification(session, recruiter, application.id, answers(**self_identified))
    return application


def move(session, recruiter, application, *stages):
    for from_stage, to_stage in zip((application.stage, *stages), stages, strict=False):
        applications.move_application(
            session, recruiter, application.id, from_stage=from_stage, to_stage=to_stage, reason=""
        )
    return application


def reject(session, recruiter, application, reason="skills_gap"):
    return applications.change_status(
        session, recruiter, application.id, "reject", rejection_reason=reason, reason=""
    )


def cohort(session, recruiter, requisition, reached, advanced, pending=0, **self_identified):
    """`reached` applicants of one group in the first stage: `advanced` move on, the rest
    are rejected there, and `pending` more are still waiting (not yet decided)."""
    for index in range(reached):
        application = apply(session, recruiter, requisition, **self_identified)
        if index < advanced:
            move(session, recruiter, application, "recruiter_screen")
        else:
            reject(session, recruiter, application)
    for _ in range(pending):
        apply(session, recruiter, requisition, **self_identified)
