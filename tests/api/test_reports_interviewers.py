"""Interviewers report over HTTP: per-interviewer habits, stored leniency, panel reliability."""

import csv
import io
from datetime import timedelta

import marshmallow as ma
import numpy as np
import pytest
from flask import jsonify

from service.domain.reliability import icc_oneway, krippendorff_alpha_interval
from service.http.reports.schemas import InterviewersReportSchema
from service.persistence.base import utcnow
from service.usecases.interviewer_reports import interviewers_report
from tests.api.conftest import auth
from tests.factories import (
    ApplicationFactory,
    CalibrationRunFactory,
    InterviewerCalibrationFactory,
    InterviewFactory,
    UserFactory,
)

URL = "/api/v1/reports/interviewers"
EVIDENCE = "Paired on a rate limiter, wrote the failing test first and split the token bucket out."
COMPETENCIES = ("coding", "problem_solving", "collaboration")  # pair_programming's


def an_hour_ago():
    return utcnow() - timedelta(hours=1)


def submit(client, interview, scores, evidence=EVIDENCE, recommendation="yes"):
    body = {
        "ratings": [
            {"competency": c, "score": s, "evidence": evidence if s else ""}
            for c, s in zip(COMPETENCIES, scores, strict=False)
        ],
        "recommendation": recommendation,
        "summary": "",
    }
    response = client.post(
        f"/api/v1/interviews/{interview.id}/scorecard/submit",
        json=body,
        headers=auth(interview.interviewer),
    )
    assert response.status_code == 200, response.json
    return response.json


@pytest.fixture
def panels(client, session):
    """Two interviewers on two candidates: `steady` gives one halo scorecard and one late one;
    `partial` leaves a competency unrated and writes "culture fit"."""
    steady, partial = UserFactory(role="interviewer"), UserFactory(role="interviewer")
    scores = {steady: [(3, 3, 3), (2, 3, 4)], partial: [(2, 2, None), (3, 4, None)]}
    warnings = 0
    for index in range(2):
        application = ApplicationFactory()
        for user in (steady, partial):
            # One interviewer is never in two scheduled interviews at once (the database
            # refuses it on PostgreSQL), so each candidate's slot is its own.
            hours_ago = 30 if (user is steady and index == 1) else 2 + 2 * index
            interview = InterviewFactory(
                application=application,
                interviewer=user,
                interview_key="pair_programming",
                starts_at=utcnow() - timedelta(hours=hours_ago),
            )
            evidence = EVIDENCE + (" Not a culture fit." if user is partial else "")
            card = submit(
                client,
                interview,
                scores[user][index],
                evidence,
                "strong_yes" if user is steady else "no",
            )
            warnings += len(card.get("warnings", [])) if user is partial else 0
    return steady, partial, warnings


def rows(client, admin):
    response = client.get(URL, headers=auth(admin))
    assert response.status_code == 200, response.json
    return response.json


def test_per_interviewer_habits(client, session, admin, panels):
    steady, partial, _ = panels
    by_id = {r["interviewer_id"]: r for r in rows(client, admin)["interviewers"]}
    one, two = by_id[steady.id], by_id[partial.id]
    assert (one["scorecards"], one["halo_rate"], one["late_share"], one["adherence"]) == (
        2,
        0.5,
        0.5,
        1.0,
    )
    assert one["recommendations"] == {"strong_no": 0, "no": 0, "yes": 0, "strong_yes": 2}
    assert one["median_evidence_chars"] == len(EVIDENCE)
    assert (two["halo_rate"], two["late_share"], two["adherence"]) == (0.0, 0.0, 0.6667)
    assert two["recommendations"]["no"] == 2
    assert one["leniency"] is None  # no calibration run yet


def calibrated(session, interviewer, leniency, **estimate):
    """A calibration run (flushed) that gives `interviewer` `leniency` from 6 ratings."""
    run = CalibrationRunFactory(n_ratings=10, n_units=4)
    InterviewerCalibrationFactory(
        run=run,
        interviewer_id=interviewer.id,
        leniency=leniency,
        se=0.2,
        n_ratings=6,
        n_copanelists=1,
        **estimate,
    )
    return run


def test_language_flags_per_hundred_scorecards(client, session, admin, panels):
    steady, partial, warnings = panels
    assert warnings > 0
    by_id = {r["interviewer_id"]: r for r in rows(client, admin)["interviewers"]}
    assert by_id[partial.id]["language_flags_per_100"] == 100 * warnings / 2
    assert by_id[steady.id]["language_flags_per_100"] == 0


def test_leniency_comes_from_the_latest_calibration_run(client, session, admin, panels):
    steady, _, _ = panels
    for leniency in (0.1, 0.4):  # the later run wins
        run = calibrated(session, steady, leniency)
    body = rows(client, admin)
    row = next(r for r in body["interviewers"] if r["interviewer_id"] == steady.id)
    assert (row["leniency"], row["leniency_se"], row["leniency_ratings"]) == (0.4, 0.2, 6)
    assert body["calibration_run"]["id"] == run.id


def test_the_body_is_the_schemas_dump_as_flask_would_send_it(app, client, session, admin, panels):
    """The view sends the report as it comes (orjson, no marshmallow dump): byte for byte
    what `jsonify` of the schema's own dump would send, a calibration run's date included."""
    steady, _, _ = panels
    run = calibrated(session, steady, 0.25, se_absolute=0.3)
    response = client.get(URL, headers=auth(admin))
    assert response.status_code == 200
    report = interviewers_report(session, admin)
    assert report["calibration_run"]["id"] == run.id and report["reliability"]
    with app.test_request_context():
        expected = jsonify(ma.Schema.dump(InterviewersReportSchema(), report)).get_data()
    assert response.get_data() == expected


def test_reliability_per_template_and_competency(client, session, admin, panels):
    _steady, _partial, _ = panels
    reliability = {r["competency"]: r for r in rows(client, admin)["reliability"]}
    assert set(reliability) == set(COMPETENCIES)
    coding = reliability["coding"]
    # coding: candidate 1 got 3 and 2, candidate 2 got 2 and 3.
    units, scores = np.array([1, 1, 2, 2]), np.array([3, 2, 2, 3])
    expected = icc_oneway(units, scores)
    assert (coding["template_key"], coding["ratings"], coding["candidates"]) == (
        "backend_engineer",
        4,
        2,
    )
    assert coding["icc1"] == pytest.approx(expected.icc1, abs=1e-4)
    assert coding["krippendorff_alpha"] == pytest.approx(
        krippendorff_alpha_interval(units, scores), abs=1e-4
    )
    assert reliability["collaboration"]["ratings"] == 2  # only `steady` rated it


def test_median_evidence_interpolates_and_ignores_unscored_ratings(client, session, admin):
    """Two scored ratings of each length: the median is halfway; the empty evidence of an
    unrated competency would pull it down to the shorter length if it counted."""
    user, longer = UserFactory(role="interviewer"), EVIDENCE + " It then passed under load."
    for slot, evidence in enumerate((EVIDENCE, longer)):
        interview = InterviewFactory(
            application=ApplicationFactory(),
            interviewer=user,
            interview_key="pair_programming",
            starts_at=an_hour_ago() - timedelta(hours=2 * slot),
        )
        submit(client, interview, (3, 2, None), evidence)
    row = next(r for r in rows(client, admin)["interviewers"] if r["interviewer_id"] == user.id)
    assert row["median_evidence_chars"] == (len(EVIDENCE) + len(longer)) / 2
    assert row["adherence"] == round(4 / 6, 4)


def test_median_evidence_counts_characters_of_the_current_revision(client, session, admin):
    """The evidence length is the database's (a generated column, migration 0020): an
    amendment's evidence replaces the first revision's, counted in characters, not bytes."""
    user = UserFactory(role="interviewer")
    interview = InterviewFactory(
        application=ApplicationFactory(),
        interviewer=user,
        interview_key="pair_programming",
        starts_at=an_hour_ago(),
    )
    submit(client, interview, (3, 2, 3))
    amended_evidence = "Écrit les tests d'abord — naming ✓, edge cases ✓, under load ✓."
    amended = client.post(
        f"/api/v1/interviews/{interview.id}/scorecard/amendments",
        json={
            "ratings": [
                {"competency": c, "score": 3, "evidence": amended_evidence} for c in COMPETENCIES
            ],
            "recommendation": "yes",
            "summary": "",
            "reason": "Pasted the notes of another candidate",
        },
        headers=auth(user),
    )
    assert amended.status_code == 201, amended.json
    row = next(r for r in rows(client, admin)["interviewers"] if r["interviewer_id"] == user.id)
    assert len(amended_evidence) < len(amended_evidence.encode()) != len(EVIDENCE)
    assert row["median_evidence_chars"] == len(amended_evidence)


def test_reliability_matches_the_long_form_on_unbalanced_panels(client, session, admin):
    """Candidates rated by three, two and one interviewer (the last one is not pairable)."""
    panel_scores = [(4, 2, 3), (1, 2), (3,)]
    units, scores = [], []
    for unit, panel in enumerate(panel_scores):
        application = ApplicationFactory()
        for score in panel:
            interview = InterviewFactory(
                application=application,
                interviewer=UserFactory(role="interviewer"),
                interview_key="pair_programming",
                starts_at=an_hour_ago(),
            )
            submit(client, interview, (score, 2, 3))
            units.append(unit)
            scores.append(score)
    coding = next(r for r in rows(client, admin)["reliability"] if r["competency"] == "coding")
    expected = icc_oneway(np.array(units), np.array(scores))
    assert (coding["ratings"], coding["candidates"]) == (6, 3)
    assert (coding["icc1"], coding["icck"], coding["k"]) == (
        round(expected.icc1, 4),
        round(expected.icck, 4),
        round(expected.k, 4),
    )
    assert coding["krippendorff_alpha"] == round(
        krippendorff_alpha_interval(np.array(units), np.array(scores)), 4
    )


def test_interviewers_as_csv(client, session, admin, panels):
    response = client.get(URL, headers=auth(admin) | {"Accept": "text/csv"})
    assert response.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["section"] for r in table] == ["interviewer"] * 2 + ["reliability"] * 3
    assert {r["recommended_strong_yes"] for r in table[:2]} == {"2", "0"}


@pytest.mark.parametrize("role", ["recruiter", "hiring_manager", "interviewer"])
def test_interviewers_report_is_admin_only(client, session, role):
    assert client.get(URL, headers=auth(UserFactory(role=role))).status_code == 403
