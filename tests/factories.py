"""factory_boy factories for test data. Tests bind them to their session."""

from __future__ import annotations

from datetime import timedelta

import factory
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.tokens import new_token
from service.persistence.applications import Application
from service.persistence.base import utcnow
from service.persistence.calibration import CalibrationRun, InterviewerCalibration
from service.persistence.candidates import Candidate
from service.persistence.interviews import Interview
from service.persistence.requisitions import Requisition
from service.persistence.templates import TemplateVersion
from service.persistence.users import ApiToken, User

_session: Session | None = None


def bind(session: Session) -> None:
    global _session
    _session = session


def current_session() -> Session:
    assert _session is not None, "use the `session` fixture before the factories"
    return _session


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = current_session
        sqlalchemy_session_persistence = "flush"


class UserFactory(Base):
    """A user with one API token; the plain token is on `user.token` for the test."""

    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Sequence(lambda n: f"User {n}")
    role = "recruiter"
    active = True

    @factory.post_generation
    def token(user, create, extracted, **kwargs):
        token, token_hash = new_token()
        current_session().add(ApiToken(user=user, token_hash=token_hash))
        current_session().flush()
        user.token = token


def template_version(key: str = "backend_engineer") -> TemplateVersion:
    """A shipped template, stored once per test database by the fixtures."""
    return (
        current_session()
        .scalars(
            select(TemplateVersion)
            .where(TemplateVersion.key == key)
            .order_by(TemplateVersion.id.desc())
        )
        .first()
    )


class RequisitionFactory(Base):
    class Meta:
        model = Requisition

    title = factory.Sequence(lambda n: f"Backend Engineer {n}")
    team = "Platform"
    hiring_manager = factory.SubFactory(UserFactory, role="hiring_manager")
    template_version = factory.LazyFunction(template_version)
    status = "open"
    headcount = 1


class CandidateFactory(Base):
    class Meta:
        model = Candidate

    name = factory.Sequence(lambda n: f"Candidate {n}")
    email = factory.Sequence(lambda n: f"candidate{n}@example.org")
    phone = "+44 20 7946 0000"
    source = "referral"
    links = factory.LazyFunction(list)
    resume_text = ""


class ApplicationFactory(Base):
    class Meta:
        model = Application

    candidate = factory.SubFactory(CandidateFactory)
    requisition = factory.SubFactory(RequisitionFactory)
    stage = factory.LazyAttribute(
        lambda a: a.requisition.template_version.template().first_stage.key
    )
    status = "active"


class InterviewFactory(Base):
    class Meta:
        model = Interview

    application = factory.SubFactory(ApplicationFactory)
    interview_key = "technical_screen"
    interviewer = factory.SubFactory(UserFactory, role="interviewer")
    starts_at = factory.LazyFunction(lambda: utcnow() + timedelta(days=1))
    duration_minutes = 60
    status = "scheduled"


class CalibrationRunFactory(Base):
    """A stored calibration run with plausible variance components."""

    class Meta:
        model = CalibrationRun

    fitted_with = "reml"
    data_digest = "x"
    n_ratings = 40
    n_units = 10
    n_components = 1
    sigma2_unit = 1
    sigma2_interviewer = 0.1
    sigma2_residual = 0.5
    reml_criterion = 1
    seconds = 0.1


class InterviewerCalibrationFactory(Base):
    """One interviewer's estimate in a run (pass `interviewer_id`): connected and applied
    unless told otherwise."""

    class Meta:
        model = InterviewerCalibration

    run = factory.SubFactory(CalibrationRunFactory)
    n_ratings = 12
    n_copanelists = 2
    connected = True
    disagrees = False
    insufficient_data = False
    explanation = ""
