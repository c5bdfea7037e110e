"""The core rules, called as a second front end would: through the use cases, no HTTP.

Each rule is enforced in the use-case layer (or below it), so the web pages and
any other caller get it for free; these tests would fail if a rule moved up into
the JSON views.
"""

from datetime import timedelta

import pytest

from service.domain.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RuleViolationError,
)
from service.persistence.base import utcnow
from service.usecases import applications, assessments, decisions, packets, scorecards
from tests.factories import ApplicationFactory, InterviewFactory, RequisitionFactory, UserFactory

EVIDENCE = "Explained the trade-off between a queue and a direct call, then measured both."


def ratings_for(interview, score=3, evidence=EVIDENCE):
    template = interview.application.requisition.template_version.template()
    return [
        {"competency": c, "score": score, "evidence": evidence}
        for c in template.interview(interview.interview_key).competencies
    ]


def submission(interview, **overrides):
    return {
        "ratings": ratings_for(interview),
        "recommendation": "yes",
        "summary": "Clear reasoning.",
        **overrides,
    }


pytestmark = pytest.mark.usefixtures("in_app")


@pytest.fixture
def recruiter(session):
    return UserFactory(role="recruiter")


@pytest.fixture
def loop(session):
    """An application whose hiring manager sits on the panel beside one interviewer."""
    manager = UserFactory(role="hiring_manager")
    application = ApplicationFactory(requisition=RequisitionFactory(hiring_manager=manager))
    start = utcnow() - timedelta(hours=4)
    other = InterviewFactory(application=application, starts_at=start, status="completed")
    own = InterviewFactory(
        application=application,
        interviewer=manager,
        interview_key=other.interview_key,
        starts_at=start + timedelta(hours=1),
        status="completed",
    )
    return application, other, own, manager


def test_blind_rule_holds_for_every_reader_of_feedback(session, loop):
    application, other, own, manager = loop
    scorecards.submit_scorecard(session, other.interviewer, other.id, submission(other))
    readers = [
        lambda: scorecards.list_scorecards(session, manager, application.id),
        lambda: scorecards.get_scorecard(session, manager, other.id),
        lambda: assessments.application_assessment(session, manager, application.id),
        lambda: decisions.decision_history(session, manager, application.id),
        lambda: packets.request_packet(session, manager, application.id, anonymized=False),
        lambda: packets.list_packets(session, manager, application.id),
    ]
    for read in readers:
        with pytest.raises(PermissionDeniedError) as refused:
            read()
        assert refused.value.extra["pending_interview_ids"] == [own.id]

    scorecards.submit_scorecard(session, manager, own.id, submission(own))
    assert len(scorecards.list_scorecards(session, manager, application.id)) == 2
    amended = scorecards.amend_scorecard(
        session, manager, own.id, {**submission(own, recommendation="no"), "reason": "Rethought"}
    )
    assert [r.after_seeing_others for r in amended.revisions] == [False, True]


def test_a_score_needs_evidence_and_a_draft_does_not(session, loop):
    _, other, _, _ = loop
    thin = submission(other, ratings=ratings_for(other, evidence="Good."))
    draft = scorecards.save_draft(session, other.interviewer, other.id, thin)
    assert draft.state == "draft"
    with pytest.raises(RuleViolationError) as refused:
        scorecards.submit_scorecard(session, other.interviewer, other.id, thin)
    assert "ratings[0].evidence" in refused.value.errors


def test_a_submitted_scorecard_is_never_submitted_twice(session, loop):
    _, other, _, _ = loop
    scorecards.submit_scorecard(session, other.interviewer, other.id, submission(other))
    with pytest.raises(ConflictError):
        scorecards.submit_scorecard(session, other.interviewer, other.id, submission(other))
    with pytest.raises(ConflictError):
        scorecards.save_draft(session, other.interviewer, other.id, submission(other))


def test_stage_moves_follow_the_template_and_the_current_stage(session, loop, recruiter):
    application, *_ = loop
    template = application.requisition.template_version.template()
    first, second = (s.key for s in template.stages[:2])
    last = template.stages[-1].key
    with pytest.raises(RuleViolationError):
        applications.move_application(
            session, recruiter, application.id, from_stage=first, to_stage=last, reason="skip"
        )
    with pytest.raises(ConflictError):
        applications.move_application(
            session, recruiter, application.id, from_stage=second, to_stage=second, reason="stale"
        )
    moved = applications.move_application(
        session, recruiter, application.id, from_stage=first, to_stage=second, reason="CV fits"
    )
    assert moved.stage == second


def test_only_the_requisitions_hiring_manager_decides_after_giving_their_own_feedback(
    session, loop, recruiter
):
    application, other, own, manager = loop
    scorecards.submit_scorecard(session, other.interviewer, other.id, submission(other))
    scorecards.submit_scorecard(session, manager, own.id, submission(own))
    packet = packets.request_packet(session, manager, application.id, anonymized=False)
    with pytest.raises(NotFoundError):  # another requisition's manager does not even see it
        decisions.record_decision(
            session,
            UserFactory(role="hiring_manager"),
            application.id,
            outcome="hire",
            rationale="",
            packet_id=packet.id,
            if_match=None,
            packet_content=packets.packet_content,
        )
    with pytest.raises(RuleViolationError) as refused:
        decisions.record_decision(
            session,
            manager,
            application.id,
            outcome="no_hire",
            rationale="",
            packet_id=packet.id,
            if_match=None,
            packet_content=packets.packet_content,
        )
    assert "rationale" in refused.value.errors  # against a panel that said yes
    record = decisions.record_decision(
        session,
        manager,
        application.id,
        outcome="hire",
        rationale="",
        packet_id=packet.id,
        if_match=None,
        packet_content=packets.packet_content,
    )
    assert record.decision.outcome == "hire"
