"""Demo users and data for a first look at the service on an empty database."""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.domain.passwords import new_password
from service.domain.template_loading import TEMPLATE_DIR, load_template_dir
from service.persistence.applications import Application
from service.persistence.base import utcnow
from service.persistence.interviews import Interview
from service.persistence.scorecards import Scorecard
from service.persistence.users import User
from service.usecases import applications, candidates, interviews, requisitions, scorecards
from service.usecases.templates import sync_templates
from service.usecases.users import create_user, set_password

DEMO_USERS = [
    ("admin@example.com", "Ada Admin", "admin"),
    ("recruiter@example.com", "Riley Recruiter", "recruiter"),
    ("hm.backend@example.com", "Hana Manager", "hiring_manager"),
    ("hm.design@example.com", "Dev Director", "hiring_manager"),
    ("sam@example.com", "Sam Interviewer", "interviewer"),
    ("alex@example.com", "Alex Interviewer", "interviewer"),
    ("kim@example.com", "Kim Interviewer", "interviewer"),
    ("lee@example.com", "Lee Interviewer", "interviewer"),
    ("noor@example.com", "Noor Interviewer", "interviewer"),
]

DEMO_CANDIDATES = [
    ("Jordan Rivera", "jordan.rivera@example.org", "referral"),
    ("Priya Natarajan", "priya.n@example.org", "linkedin"),
    ("Mateo Rossi", "mateo.rossi@example.org", "careers page"),
    ("Aisha Bello", "aisha.bello@example.org", "conference"),
    ("Chen Wei", "chen.wei@example.org", "referral"),
    ("Olga Petrova", "olga.petrova@example.org", "agency"),
]


class DemoCredentials(NamedTuple):
    role: str
    email: str
    token: str
    password: str


def seed_demo(session: Session) -> list[DemoCredentials]:
    """Create demo users and a few requisitions and applications, only if no user exists.

    Returns each user's API token and web password; empty when nothing was created.
    """
    if session.scalar(select(func.count(User.id))):
        return []
    sync_templates(session, load_template_dir(TEMPLATE_DIR))
    created = [create_user(session, email, name, role) for email, name, role in DEMO_USERS]
    credentials = []
    for user, token in created:
        password = new_password()
        set_password(session, None, user.id, password)
        credentials.append(DemoCredentials(user.role, user.email, token, password))
    users = {user.email: user for user, _ in created}
    recruiter = users["recruiter@example.com"]

    backend = requisitions.create_requisition(
        session,
        recruiter,
        {
            "title": "Senior Backend Engineer, Payments",
            "team": "Payments",
            "hiring_manager_id": users["hm.backend@example.com"].id,
            "template_key": "backend_engineer",
            "headcount": 2,
        },
    )
    design = requisitions.create_requisition(
        session,
        recruiter,
        {
            "title": "Product Designer, Growth",
            "team": "Growth",
            "hiring_manager_id": users["hm.design@example.com"].id,
            "template_key": "product_designer",
            "headcount": 1,
        },
    )
    created_applications = []
    for number, (name, email, source) in enumerate(DEMO_CANDIDATES):
        candidate = candidates.create_candidate(
            session, recruiter, {"name": name, "email": email, "source": source}
        )
        requisition = backend if number % 2 == 0 else design
        application = applications.create_application(
            session, recruiter, candidate.id, requisition.id
        )
        created_applications.append(application)
        _advance_to(session, recruiter, application, ("applied", "recruiter_screen")[number % 2])
    _onsite_loop(session, users, created_applications[0])
    return credentials


def _onsite_loop(session: Session, users: dict[str, User], application: Application) -> None:
    """The first backend candidate: a held screen with its scorecard, and an onsite that
    took place this morning, waiting for the panel's scorecards."""
    recruiter, sam = users["recruiter@example.com"], users["sam@example.com"]
    template = application.template
    screen = template.interview("technical_screen")
    assert screen is not None  # the demo's backend template has a technical screen
    _advance_to(session, recruiter, application, screen.stage)
    held = interviews.schedule_interview(
        session,
        recruiter,
        application.id,
        interview_key=screen.key,
        interviewer_id=sam.id,
        starts_at=utcnow() - timedelta(days=2),
    )
    interviews.complete_interview(session, recruiter, held.id, None, "")
    scorecards.submit_scorecard(
        session,
        sam,
        held.id,
        {
            "ratings": [
                {"competency": key, "score": 3, "evidence": SCREEN_EVIDENCE[key]}
                for key in screen.competencies
            ],
            "recommendation": "yes",
            "summary": "Solid screen: correct, tested solution and clear reasoning about trade-offs.",
        },
    )
    onsite = [i for i in template.interviews if i.stage == "onsite"]
    _advance_to(session, recruiter, application, "onsite")
    start = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(hours=5)
    panel = ["alex@example.com", "kim@example.com", "lee@example.com", "noor@example.com"]
    for planned, email in zip(onsite, panel, strict=False):
        interview = interviews.schedule_interview(
            session,
            recruiter,
            application.id,
            interview_key=planned.key,
            interviewer_id=users[email].id,
            starts_at=start,
        )
        interviews.complete_interview(session, recruiter, interview.id, None, "")
        start += timedelta(minutes=planned.duration_minutes)


def _advance_to(session: Session, actor: User, application: Application, stage: str) -> None:
    template = application.template
    while application.stage != stage:
        applications.move_application(
            session,
            actor,
            application.id,
            from_stage=application.stage,
            to_stage=template.allowed_moves(application.stage)[0],
            reason="Demo: passed the previous step",
        )


SCREEN_EVIDENCE = {
    "coding": "Wrote a working rate limiter in 25 minutes, added tests for the window edge "
    "and refactored the clock into a parameter without being asked.",
    "problem_solving": "Clarified the requirements first, compared a token bucket with a sliding "
    "window, and chose the bucket for its constant memory.",
}


# The onsite panel's feedback for the demo packet: mostly positive, with one
# dissent on system design so the packet shows how disagreement is presented.
ONSITE_FEEDBACK = {
    "alex@example.com": (
        "yes",
        "Careful with money paths; tested the failure cases unprompted.",
        {
            "coding": (
                3,
                "Added the cancel endpoint with an idempotency key and wrote a test for a "
                "double cancel before touching the refund call.",
            ),
            "problem_solving": (
                3,
                "Asked what happens when the refund call times out, then chose a "
                "retry with the same key over a compensating job, and said why.",
            ),
            "collaboration": (
                4,
                "Talked through each step, asked me which test style the team uses, "
                "and took my hint about the fixture without defending the first try.",
            ),
        },
    ),
    "kim@example.com": (
        "strong_no",
        "Design did not hold up under load questions.",
        {
            "system_design": (
                1,
                "Proposed a single Postgres table as the queue; when asked about 5k "
                "writes per second, could not name a bottleneck or a way to shard.",
            ),
            "operational_excellence": (
                2,
                "Mentioned logging but no metrics or alerts; could not say "
                "how on-call would notice a stuck consumer.",
            ),
        },
    ),
    "lee@example.com": (
        "yes",
        "Owned a painful migration end to end and learned from it.",
        {
            "system_design": (
                3,
                "Explained the dual-write migration from MySQL to Postgres with a "
                "backfill, a shadow-read comparison and a rollback switch.",
            ),
            "operational_excellence": (
                3,
                "Described the dashboard and the two alerts they added after "
                "an incident, and the runbook the team still uses.",
            ),
            "ownership": (
                4,
                "Volunteered to lead the migration when it stalled, wrote the plan, and "
                "ran the post-mortem for the one outage it caused.",
            ),
        },
    ),
    "noor@example.com": (
        "yes",
        "Gives and takes feedback well; a little quiet in conflict.",
        {
            "collaboration": (
                3,
                "Gave a specific example of reworking an API after a reviewer's "
                "objection, and of asking a quieter teammate for their view.",
            ),
            "ownership": (
                3,
                "Followed up on a flaky test nobody owned until it was fixed, and "
                "documented the cause for the team.",
            ),
        },
    ),
}


def seed_packet_demo(session: Session) -> Application | None:
    """Finish the demo onsite (every panelist submits) so a full packet can be rendered."""
    application = session.scalar(select(Application).order_by(Application.id).limit(1))
    if application is None:
        return None
    for interview in session.scalars(
        select(Interview).where(Interview.application_id == application.id)
    ):
        author = interview.interviewer
        if author.email not in ONSITE_FEEDBACK:
            continue
        if session.scalar(
            select(Scorecard.id).where(
                Scorecard.interview_id == interview.id, Scorecard.state == "submitted"
            )
        ):
            continue
        recommendation, summary, scores = ONSITE_FEEDBACK[author.email]
        scorecards.submit_scorecard(
            session,
            author,
            interview.id,
            {
                "recommendation": recommendation,
                "summary": summary,
                "ratings": [
                    {"competency": key, "score": score, "evidence": evidence}
                    for key, (score, evidence) in scores.items()
                ],
            },
        )
    return application
