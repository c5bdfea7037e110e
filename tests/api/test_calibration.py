"""Calibration through the service: fitted after submissions, stored, read; never on a request."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from service.domain.calibration import VarianceComponents, refresh
from service.persistence.base import utcnow
from service.persistence.calibration import CalibrationRun, InterviewerCalibration
from service.usecases.calibration import load_ratings, refit_calibration
from tests.api.conftest import auth
from tests.factories import ApplicationFactory, InterviewFactory, UserFactory

EVIDENCE = "Explained the retry design, named the idempotency key and tested the timeout path."


def submit(client, interview, score):
    template = interview.application.requisition.template_version.template()
    ratings = [
        {"competency": c, "score": score, "evidence": EVIDENCE}
        for c in template.interview(interview.interview_key).competencies
    ]
    response = client.post(
        f"/api/v1/interviews/{interview.id}/scorecard/submit",
        json={"ratings": ratings, "recommendation": "yes"},
        headers=auth(interview.interviewer),
    )
    assert response.status_code == 200, response.json


def history(client, generous, others, candidates=6):
    """`generous` scores 4 where the others score 2 or 3, on the same candidates."""
    for number in range(candidates):
        application = ApplicationFactory()
        start = utcnow() - timedelta(days=number + 1)
        submit(
            client,
            InterviewFactory(application=application, interviewer=generous, starts_at=start),
            4,
        )
        for offset, other in enumerate(others):
            submit(
                client,
                InterviewFactory(
                    application=application,
                    interviewer=other,
                    starts_at=start + timedelta(hours=offset + 1),
                ),
                2 + (number + offset) % 2,
            )


def runs(session):
    return session.scalar(select(func.count(CalibrationRun.id)))


def test_no_fit_until_there_is_enough_history(client, session):
    submit(client, InterviewFactory(starts_at=utcnow() - timedelta(hours=2)), 3)
    assert runs(session) == 0


def test_submission_triggers_a_refit_in_process_without_redis(client, session):
    history(client, UserFactory(role="interviewer"), [UserFactory(role="interviewer")], 6)
    assert runs(session) >= 1
    count = runs(session)
    application = ApplicationFactory()
    submit(
        client,
        InterviewFactory(application=application, starts_at=utcnow() - timedelta(hours=2)),
        3,
    )
    assert runs(session) == count + 1


def test_generous_interviewer_gets_a_positive_leniency(client, session, recruiter):
    generous = UserFactory(role="interviewer", name="Sam")
    others = [UserFactory(role="interviewer") for _ in range(3)]
    history(client, generous, others)
    response = client.get(
        f"/api/v1/interviewers/{generous.id}/calibration", headers=auth(recruiter)
    )
    body = response.json
    assert body["calibrated"] is True
    assert body["effect"]["leniency"] > 0.3
    assert body["effect"]["explanation"].startswith("Sam scores")
    assert "above co-panelists" in body["effect"]["explanation"]
    assert body["run"]["n_ratings"] == 6 * 4 * 2


def test_refit_is_skipped_when_nothing_changed(session, client):
    history(client, UserFactory(role="interviewer"), [UserFactory(role="interviewer")], 6)
    before = runs(session)
    assert refit_calibration(session) is None
    assert runs(session) == before


def test_interviewer_reads_only_their_own_calibration(client, session, interviewer):
    other = UserFactory(role="interviewer")
    assert (
        client.get(
            f"/api/v1/interviewers/{interviewer.id}/calibration", headers=auth(interviewer)
        ).status_code
        == 200
    )
    response = client.get(f"/api/v1/interviewers/{other.id}/calibration", headers=auth(interviewer))
    assert response.status_code == 403


def test_before_any_fit_an_interviewer_is_reported_uncalibrated(
    client, session, admin, interviewer
):
    body = client.get(
        f"/api/v1/interviewers/{interviewer.id}/calibration", headers=auth(admin)
    ).json
    assert (body["calibrated"], body["effect"], body["run"]) == (False, None, None)


@pytest.mark.parametrize("role", ["recruiter", "interviewer", "hiring_manager"])
def test_only_admins_request_a_refit(client, session, role):
    response = client.post("/api/v1/calibration/refresh", headers=auth(UserFactory(role=role)))
    assert response.status_code == 403


def test_admin_refit_runs_a_full_fit(client, session, admin):
    history(client, UserFactory(role="interviewer"), [UserFactory(role="interviewer")], 6)
    before = runs(session)
    response = client.post("/api/v1/calibration/refresh", headers=auth(admin))
    assert response.status_code == 202
    latest = session.scalars(select(CalibrationRun).order_by(CalibrationRun.id.desc())).first()
    assert runs(session) == before + 1 and latest.fitted_with == "reml"


def test_main_pool_interviewers_are_applied_and_the_endpoint_says_so(client, session, recruiter):
    generous = UserFactory(role="interviewer")
    history(client, generous, [UserFactory(role="interviewer") for _ in range(2)])
    body = client.get(
        f"/api/v1/interviewers/{generous.id}/calibration", headers=auth(recruiter)
    ).json
    assert body["state"] == body["effect"]["state"] == "applied"
    assert body["effect"]["se_absolute"] >= body["effect"]["se"]
    assert body["run"]["model"] in ("linear", "ordinal")


def test_a_group_outside_the_main_pool_is_not_comparable_and_shown_raw(client, session, admin):
    history(
        client, UserFactory(role="interviewer"), [UserFactory(role="interviewer") for _ in "ab"]
    )
    # Two more interviewers who never share a candidate with the first three.
    apart, partner = UserFactory(role="interviewer"), UserFactory(role="interviewer")
    history(client, apart, [partner], candidates=5)
    body = client.get(f"/api/v1/interviewers/{apart.id}/calibration", headers=auth(admin)).json
    assert body["state"] == "not_comparable"
    assert "Not comparable with the main pool" in body["effect"]["explanation"]

    application = latest_application_of(session, apart)
    lines = [
        line
        for competency in client.get(
            f"/api/v1/applications/{application}/assessment", headers=auth(admin)
        ).json["competencies"]
        for line in competency["scores"]
        if line["raw"] is not None
    ]
    assert lines and all(line["calibrated"] == line["raw"] for line in lines)
    assert {line["calibration_state"] for line in lines} == {"not_comparable"}

    report = client.get("/api/v1/reports/interviewers", headers=auth(admin)).json
    row = next(r for r in report["interviewers"] if r["interviewer_id"] == apart.id)
    assert (row["calibration_state"], row["leniency"], row["leniency_se"]) == (
        "not_comparable",
        None,
        None,
    )


def latest_application_of(session, user):
    from service.persistence.interviews import Interview

    return session.scalar(
        select(Interview.application_id)
        .where(Interview.interviewer_id == user.id)
        .order_by(Interview.id.desc())
        .limit(1)
    )


def test_a_refresh_started_from_the_stored_run_matches_a_cold_refresh(client, session):
    """After a submission the ordinal refresh starts from the last run's scale and
    shifts; where it starts never changes where it ends."""
    history(client, UserFactory(role="interviewer"), [UserFactory(role="interviewer")] * 2, 8)
    full = refit_calibration(session, full=True, model="ordinal")
    assert full is not None and full.model == "ordinal"
    application = ApplicationFactory()
    submit(
        client,
        InterviewFactory(application=application, starts_at=utcnow() - timedelta(hours=2)),
        3,
    )
    latest = session.scalars(select(CalibrationRun).order_by(CalibrationRun.id.desc())).first()
    assert latest.fitted_with == "refresh" and latest.model == "ordinal"
    cold = refresh(
        load_ratings(session),
        VarianceComponents(full.sigma2_unit, full.sigma2_interviewer, full.sigma2_residual),
        model="ordinal",
    )
    stored = dict(
        session.execute(
            select(InterviewerCalibration.interviewer_id, InterviewerCalibration.shift).where(
                InterviewerCalibration.run_id == latest.id
            )
        ).all()
    )
    for label, effect in cold.effects.items():
        if effect.shift is None:
            assert stored[int(label)] is None
        else:
            assert stored[int(label)] == pytest.approx(effect.shift, abs=1e-7)


def test_a_refresh_after_new_scorecards_equals_a_refresh_from_scratch(client, session):
    """The refresh after a submission (variances held, Newton started from the stored
    run) ends where a refresh computed from scratch on the same, changed, data does:
    shifts, leniencies, both standard errors, the scale and the reliability. The
    new scorecards are by interviewers of the main pool on a shared candidate, so the
    estimates move: keeping the stored run's would fail here."""
    panel = [UserFactory(role="interviewer") for _ in range(3)]
    history(client, panel[0], panel[1:], 8)
    full = refit_calibration(session, full=True, model="ordinal")
    assert full is not None and full.model == "ordinal"
    before = stored_effects(session, full.id)
    application = ApplicationFactory()
    start = utcnow() - timedelta(hours=3)
    for offset, (interviewer, score) in enumerate(zip(panel, (1, 4, 4), strict=True)):
        submit(
            client,
            InterviewFactory(
                application=application,
                interviewer=interviewer,
                starts_at=start + timedelta(hours=offset),
            ),
            score,
        )
    latest = session.scalars(select(CalibrationRun).order_by(CalibrationRun.id.desc())).first()
    assert latest.fitted_with == "refresh" and latest.model == "ordinal"
    per_scorecard = full.n_ratings // (8 * 3)
    assert latest.n_ratings == full.n_ratings + 3 * per_scorecard
    scratch = refresh(
        load_ratings(session),
        VarianceComponents(full.sigma2_unit, full.sigma2_interviewer, full.sigma2_residual),
        model="ordinal",
    )
    after = stored_effects(session, latest.id)
    assert set(after) == {int(label) for label in scratch.effects}
    for label, effect in scratch.effects.items():
        row = after[int(label)]
        assert row.shift == pytest.approx(effect.shift, abs=1e-7)
        assert row.leniency == pytest.approx(effect.leniency, abs=1e-7)
        assert row.se == pytest.approx(effect.se, rel=1e-6)
        assert row.se_absolute == pytest.approx(effect.se_absolute, rel=1e-6)
    assert latest.scale["thresholds"] == pytest.approx(list(scratch.scale.thresholds), abs=1e-7)
    assert latest.icc1 == pytest.approx(scratch.icc1, abs=1e-12)
    assert latest.krippendorff_alpha == pytest.approx(scratch.krippendorff_alpha, abs=1e-12)
    moved = max(abs(after[i].shift - before[i].shift) for i in before)
    assert moved > 1e-3  # far beyond the tolerance: the data changed the estimates


def stored_effects(session, run_id):
    return {
        row.interviewer_id: row
        for row in session.scalars(
            select(InterviewerCalibration).where(InterviewerCalibration.run_id == run_id)
        )
    }
