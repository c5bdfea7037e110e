"""Submissions lead to a calibration refit on real Redis (through their outbox events);
a real worker process runs it."""

from datetime import timedelta

from sqlalchemy import func, select

from service import jobs
from service.extensions import db
from service.persistence.base import utcnow
from service.persistence.calibration import CalibrationRun
from service.usecases import applications, candidates, interviews, requisitions, scorecards
from service.usecases.users import create_user
from tests.integration.conftest import start_worker

EVIDENCE = "Explained the retry design, named the idempotency key and tested the timeout path."


def build_history(session):
    recruiter, _ = create_user(session, "r@example.com", "Riley", "recruiter")
    manager, _ = create_user(session, "m@example.com", "Morgan", "hiring_manager")
    panel = [
        create_user(session, f"i{n}@example.com", f"Interviewer {n}", "interviewer")[0]
        for n in range(3)
    ]
    requisition = requisitions.create_requisition(
        session,
        recruiter,
        {"title": "Backend", "hiring_manager_id": manager.id, "template_key": "backend_engineer"},
    )
    for number in range(4):
        candidate = candidates.create_candidate(
            session, recruiter, {"name": f"C {number}", "email": f"c{number}@example.org"}
        )
        application = applications.create_application(
            session, recruiter, candidate.id, requisition.id
        )
        for offset, interviewer in enumerate(panel):
            interview = interviews.schedule_interview(
                session,
                recruiter,
                application.id,
                interview_key="technical_screen",
                interviewer_id=interviewer.id,
                reason="calibration history" if offset else "",
                starts_at=utcnow() - timedelta(days=number + 1, hours=offset * 2),
            )
            scorecards.submit_scorecard(
                session,
                interviewer,
                interview.id,
                {
                    "ratings": [
                        {
                            "competency": c,
                            "score": 2 + (offset == 0) + number % 2,
                            "evidence": EVIDENCE,
                        }
                        for c in ("coding", "problem_solving")
                    ],
                    "recommendation": "yes",
                },
            )


def test_submissions_lead_to_one_refit_that_a_real_worker_runs(live_app):
    """12 submissions after 12 interviews' scheduling: 24 transactions that emitted an
    event, and one outbox dispatch waiting for all of them (none starts before the
    worker does) and nothing else; the worker's dispatch hands out the 12
    `scorecard.submitted` events and enqueues one refit (a waiting job id is not enqueued
    again) and one packet preparation per application, which the same burst runs."""
    session = db.session
    build_history(session)
    assert [job.id for job in jobs.queue().get_jobs()] == []
    dispatches = jobs.queue("events").get_jobs()
    assert [job.func_name for job in dispatches] == ["workers.jobs.dispatch_events"]
    assert session.scalar(select(func.count(CalibrationRun.id))) == 0
    session.close()  # end our read transaction: SQLite would make the worker wait for it

    worker = start_worker(live_app, "--burst")
    output, _ = worker.communicate(timeout=120)
    assert worker.returncode == 0, output

    session.expire_all()
    run = session.scalars(select(CalibrationRun)).one()
    assert (run.fitted_with, run.n_ratings) == ("reml", 4 * 3 * 2)
    assert len(run.effects) == 3


def test_a_transaction_that_rolls_back_enqueues_nothing_at_the_next_commit(live_app):
    """The jobs a rolled-back transaction asked for are dropped with it: the session's
    next commit enqueues only what its own transaction asked for."""
    session = db.session
    session.execute(select(func.count(CalibrationRun.id)))  # the transaction begins
    jobs.enqueue_after_commit(session, "workers.jobs.refresh_calibration", job_id="rolled-back")
    session.rollback()
    jobs.enqueue_after_commit(session, "workers.jobs.refresh_calibration", job_id="committed")
    session.commit()
    assert [job.id for job in jobs.queue().get_jobs()] == ["committed"]
