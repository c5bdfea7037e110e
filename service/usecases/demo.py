"""Demo users and data for a first look at the service on an empty database."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.domain.template_loading import TEMPLATE_DIR, load_template_dir
from service.persistence.users import User
from service.usecases import applications, candidates, requisitions
from service.usecases.templates import sync_templates
from service.usecases.users import create_user

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


def seed_demo(session: Session) -> list[tuple[str, str, str]]:
    """Create demo users and a few requisitions and applications, only if no user exists.

    Returns (role, email, token) per user; empty when nothing was created.
    """
    if session.scalar(select(func.count(User.id))):
        return []
    sync_templates(session, load_template_dir(TEMPLATE_DIR))
    created = [create_user(session, email, name, role) for email, name, role in DEMO_USERS]
    tokens = [(user.role, user.email, token) for user, token in created]
    users = {user.email: user for user, _ in created}
    recruiter = users["recruiter@example.com"]

    backend = requisitions.create_requisition(session, recruiter, {
        "title": "Senior Backend Engineer, Payments", "team": "Payments",
        "hiring_manager_id": users["hm.backend@example.com"].id,
        "template_key": "backend_engineer", "headcount": 2,
    })
    design = requisitions.create_requisition(session, recruiter, {
        "title": "Product Designer, Growth", "team": "Growth",
        "hiring_manager_id": users["hm.design@example.com"].id,
        "template_key": "product_designer", "headcount": 1,
    })
    for number, (name, email, source) in enumerate(DEMO_CANDIDATES):
        candidate = candidates.create_candidate(
            session, recruiter, {"name": name, "email": email, "source": source}
        )
        requisition = backend if number % 2 == 0 else design
        application = applications.create_application(session, recruiter, candidate.id, requisition.id)
        _advance(session, recruiter, application, steps=number % 4)
    return tokens


def _advance(session: Session, actor: User, application, steps: int) -> None:  # noqa: ANN001
    template = application.requisition.template_version.template()
    for _ in range(steps):
        next_stage = template.allowed_moves(application.stage)[0]
        applications.move_application(
            session, actor, application.id, from_stage=application.stage,
            to_stage=next_stage, reason="Demo: passed the previous step",
        )
