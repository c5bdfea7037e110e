"""Demo users and data for a first look at the service on an empty database."""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.domain.passwords import new_password
from service.domain.template_loading import TEMPLATE_DIR, load_template_dir
from service.domain.templates import InterviewTemplate, Question
from service.persistence.applications import Application, timeline_of
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
            "recruiter_id": recruiter.id,
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
            "recruiter_id": recruiter.id,
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
    _date_back(session, application)
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


# How long ago the onsite candidate entered each stage: applied before the screen was held
# (two days ago) and reached the onsite the day before it took place (this morning).
DEMO_STAGE_AGE = {
    "applied": timedelta(days=12, hours=3),
    "recruiter_screen": timedelta(days=9, hours=6),
    "technical_screen": timedelta(days=5, hours=2),
    "onsite": timedelta(days=1, hours=4),
}


def _date_back(session: Session, application: Application) -> None:
    """The use cases stamp every step now; date the demo candidate's stage history back so
    it reads in order (the audit log keeps the real times)."""
    now = utcnow()
    for change in timeline_of(session, application.id):
        change.at = now - DEMO_STAGE_AGE[change.to_stage]
    application.created_at = now - DEMO_STAGE_AGE["applied"]
    application.stage_entered_at = now - DEMO_STAGE_AGE[application.stage]
    session.commit()


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


# The long demo packet (`hiring demo-packet --long`): eight interviews, three of them a
# second opinion, long evidence with an unbroken token, and amendments that change
# scores and evidence. It shows how the packet holds up at its largest.
LONG_TOKEN = (
    "com.example.payments.reconciliation.internal.LedgerReconciliationBatchProcessor"
    "FactoryImplementationWithRetryAndIdempotencyKeySupport"
)
LONG_EVIDENCE = (
    "Walked through the reconciliation job end to end: reads the day's ledger entries in "
    "pages of 500, matches them against the processor's settlement file by the idempotency "
    "key, and writes mismatches to a review table instead of correcting them in place. "
    f"Named the class they would change first, {LONG_TOKEN}, and explained why the retry "
    "belongs there and not in the HTTP client: a retried page must not double-count. When I "
    "asked what happens if the settlement file arrives twice, they added a checksum on the "
    "file and a unique index on (file_id, line), and said the second arrival should be a "
    "no-op that still logs. Estimated the job at 40 minutes for 3 million entries and "
    "proposed splitting it by merchant once it passes an hour; asked how often finance "
    "re-runs a day, which changed their answer about caching the file."
)
LONG_LOOP = [
    # (interview key, interviewer email, score, recommendation, reason when a second one)
    ("technical_screen", "sam@example.com", 3, "yes", ""),
    ("technical_screen", "alex@example.com", 2, "no", "Second opinion: the first screen ran short"),
    ("pair_programming", "alex@example.com", 3, "yes", ""),
    ("system_design", "kim@example.com", 1, "strong_no", ""),
    ("system_design", "lee@example.com", 3, "yes", "Second opinion after a split on design"),
    ("project_deep_dive", "lee@example.com", 4, "strong_yes", ""),
    ("collaboration_and_ownership", "noor@example.com", 3, "yes", ""),
    ("collaboration_and_ownership", "sam@example.com", 2, "no", "Panel asked for a second view"),
]


def seed_long_packet_demo(session: Session) -> Application | None:
    """A second backend candidate with the long loop above, every scorecard submitted and
    two amended. Needs `seed_demo`'s users; returns None without them."""
    users = {u.email: u for u in session.scalars(select(User))}
    recruiter = users.get("recruiter@example.com")
    if recruiter is None:
        return None
    backend = session.scalar(select(Application).order_by(Application.id).limit(1))
    assert backend is not None  # seed_demo's first application is the backend one
    candidate = candidates.create_candidate(
        session,
        recruiter,
        {
            "name": "Alexandria Okonkwo-Lindqvist",
            "email": "alexandria.okonkwo-lindqvist@example.org",
            "source": "referral",
            "links": [f"https://git.example.org/alexandria/{LONG_TOKEN}"],
        },
    )
    application = applications.create_application(
        session, recruiter, candidate.id, backend.requisition_id
    )
    template = application.template
    _advance_to(session, recruiter, application, "technical_screen")
    hour = utcnow().replace(minute=0, second=0, microsecond=0)
    # Inside each stage's dates as `_date_back` sets them: screens four days ago, the
    # onsite yesterday, two hours apart.
    starts = {"technical_screen": hour - timedelta(days=4), "onsite": hour - timedelta(days=1)}
    for key, email, score, recommendation, reason in LONG_LOOP:
        planned = template.interview(key)
        assert planned is not None  # LONG_LOOP names the backend template's interviews
        if planned.stage != application.stage:
            _advance_to(session, recruiter, application, planned.stage)
            _date_back(session, application)  # before the loop completes
        interview = interviews.schedule_interview(
            session,
            recruiter,
            application.id,
            interview_key=key,
            interviewer_id=users[email].id,
            starts_at=starts[planned.stage],
            reason=reason,
        )
        interviews.complete_interview(session, recruiter, interview.id, None, "")
        starts[planned.stage] += timedelta(hours=2)
        scorecards.submit_scorecard(
            session,
            users[email],
            interview.id,
            {
                "recommendation": recommendation,
                "summary": f"{planned.title}: see the evidence per competency.",
                "ratings": [
                    {"competency": c, "score": score, "evidence": LONG_EVIDENCE}
                    for c in planned.competencies
                ],
            },
        )
    _amend_long_loop(session, users, application)
    return application


def _amend_long_loop(session: Session, users: dict[str, User], application: Application) -> None:
    """Kim raises a score after a night's thought; Noor drops evidence she wrote for the
    wrong competency and marks it not assessed."""
    for email, key, change in (
        ("kim@example.com", "system_design", {"system_design": 2}),
        ("noor@example.com", "collaboration_and_ownership", {"ownership": None}),
    ):
        interview = session.scalar(
            select(Interview).where(
                Interview.application_id == application.id,
                Interview.interview_key == key,
                Interview.interviewer_id == users[email].id,
            )
        )
        assert interview is not None  # LONG_LOOP schedules it
        current = scorecards.get_scorecard(session, users[email], interview.id).current
        assert current is not None  # submitted above
        ratings = []
        for rating in current.ratings:
            score = change.get(rating.competency, rating.score)
            evidence = "" if score is None else rating.evidence
            ratings.append({"competency": rating.competency, "score": score, "evidence": evidence})
        scorecards.amend_scorecard(
            session,
            users[email],
            interview.id,
            {
                "recommendation": current.recommendation,
                "summary": current.summary,
                "ratings": ratings,
                "reason": "Re-read my notes the next morning.",
            },
        )


# ---- The admin's reports (`seed_reports_demo`) ------------------------------------

# Applicants of the reports demo per race/ethnicity (they decline the other questions):
# how many, and how many of them pass the recruiter screen (the rest are rejected
# there). Hispanic applicants pass at 0.6 of the white applicants' rate; the Asian and
# multiracial groups are too small to show ("insufficient data" on the page).
REPORTS_COHORTS = (
    ("white", 40, 20),
    ("black_or_african_american", 30, 14),
    ("hispanic_or_latino", 40, 12),
    ("asian", 3, 2),
    ("two_or_more_races", 4, 2),
)
# The technical screens scored for the calibration: the first passed applicants'.
SCORED_SCREENS = 30
# How each interviewer scores against the candidate's level on the technical screen:
# Noor a level higher, Kim a level lower, the others as the rubric reads.
SCREEN_HABITS = {
    "sam@example.com": 0,
    "alex@example.com": 0,
    "kim@example.com": -1,
    "lee@example.com": 0,
    "noor@example.com": 1,
}
SCREEN_PANEL_EVIDENCE = (
    "Wrote the parser with tests for the empty and malformed input before the happy path.",
    "Explained why a heap beats sorting here and checked the edge case of equal priorities.",
)


def seed_reports_demo(session: Session) -> int | None:
    """Data for the admin's template, fairness and calibration pages, once: a revised
    backend template (version 2, so the template diff has something to say), a
    requisition on it whose applicants self-identified and went through the recruiter
    screen, and technical screens scored by two interviewers each, then a calibration
    fit. Returns the new requisition's id (None when it exists already)."""
    from service.usecases.calibration import refit_calibration
    from service.usecases.self_identification import record_self_identification

    users = {u.email: u for u in session.scalars(select(User))}
    admin, recruiter = users["admin@example.com"], users["recruiter@example.com"]
    if (session.scalar(select(func.count()).select_from(Application)) or 0) > 60:
        return None
    revised = _revised_backend_template(session)
    sync_templates(session, [revised])
    requisition = requisitions.create_requisition(
        session,
        admin,
        {
            "title": "Backend Engineer, Payments",
            "team": "Payments",
            "hiring_manager_id": users["hm.backend@example.com"].id,
            "recruiter_id": recruiter.id,
            "template_key": revised.key,
        },
    )
    number = 0
    passed: list[Application] = []
    for race, applicants, advance in REPORTS_COHORTS:
        for index in range(applicants):
            number += 1
            person = candidates.create_candidate(
                session,
                recruiter,
                {
                    "name": f"Applicant {number:02d}",
                    "email": f"applicant{number:02d}@example.org",
                    "source": "careers page",
                },
            )
            application = applications.create_application(
                session, recruiter, person.id, requisition.id
            )
            answers = {
                "sex": "decline_to_answer",
                "race_ethnicity": race,
                "veteran_status": "decline_to_answer",
                "disability_status": "decline_to_answer",
            }
            record_self_identification(session, recruiter, application.id, answers)
            _advance_to(session, recruiter, application, "recruiter_screen")
            if index < advance:
                _advance_to(session, recruiter, application, "technical_screen")
                passed.append(application)
            else:
                applications.change_status(
                    session,
                    recruiter,
                    application.id,
                    "reject",
                    rejection_reason="skills_gap",
                    reason="Demo: screen not passed",
                )
    _scored_screens(session, users, passed[:SCORED_SCREENS])
    refit_calibration(session, full=True)
    return requisition.id


def _revised_backend_template(session: Session) -> InterviewTemplate:
    """The stored backend template with a tighter first target, a reworded anchor and a
    new question: what a real revision looks like."""
    from dataclasses import replace

    from service.usecases.templates import current_template_version

    template = current_template_version(session, "backend_engineer").template()
    applied, *stages = template.stages
    coding = template.competency("coding")
    assert coding is not None  # the shipped backend template rates coding
    rubric = tuple(
        replace(r, anchor=r.anchor + " Runs their own tests before saying it is done.")
        if r.level == 3
        else r
        for r in coding.rubric
    )
    screen, *others = template.interviews
    question = Question(
        "Walk us through a bug you shipped: how it was found, and what you changed after.",
        ("What would have caught it sooner?",),
    )
    return replace(
        template,
        stages=(replace(applied, sla_days=2), *stages),
        competencies=tuple(
            replace(c, rubric=rubric) if c.key == "coding" else c for c in template.competencies
        ),
        interviews=(replace(screen, questions=(*screen.questions, question)), *others),
    )


def _scored_screens(session: Session, users: dict[str, User], passed: list[Application]) -> None:
    """Each passed applicant's technical screen, held by two interviewers in turn."""
    recruiter = users["recruiter@example.com"]
    panel = list(SCREEN_HABITS)
    start = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(days=20)
    for number, application in enumerate(passed):
        screen = application.template.interview("technical_screen")
        assert screen is not None
        for seat in range(2):
            email = panel[(number + seat * (1 + number % 3)) % len(panel)]
            interview = interviews.schedule_interview(
                session,
                recruiter,
                application.id,
                interview_key=screen.key,
                interviewer_id=users[email].id,
                starts_at=start,
                reason="" if seat == 0 else "Demo: a second interviewer for calibration",
            )
            start += timedelta(hours=2)
            interviews.complete_interview(session, recruiter, interview.id, None, "")
            level = 2 + number % 3  # the candidate: 2, 3 or 4
            scores = [
                min(4, max(1, level - drop + SCREEN_HABITS[email]))
                for drop in (0, (number + seat) % 2)
            ]
            scorecards.submit_scorecard(
                session,
                users[email],
                interview.id,
                {
                    "ratings": [
                        {"competency": key, "score": score, "evidence": evidence}
                        for key, score, evidence in zip(
                            screen.competencies, scores, SCREEN_PANEL_EVIDENCE, strict=False
                        )
                    ],
                    "recommendation": "yes" if sum(scores) >= 6 else "no",
                    "summary": "Demo screen.",
                },
            )
