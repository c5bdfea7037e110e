"""Adverse-impact report over HTTP: four-fifths per step, significance, suppression, CSV, access."""

import csv
import io
import random
from dataclasses import replace
from datetime import UTC, datetime

import marshmallow as ma
import pytest
from flask import jsonify
from scipy.stats import fisher_exact

from service.domain.self_identification import DECLINED
from service.http.reports.schemas import AdverseImpactReportSchema
from service.persistence.reports import ApplicationFilters
from service.usecases import applications, reports
from tests.api.conftest import auth
from tests.api.reports_helpers import apply, cohort, move, reject
from tests.factories import RequisitionFactory, UserFactory
from tests.suppression_attack import count_of, recovered, served_numbers, truth_of

URL = "/api/v1/reports/adverse-impact"
NUMBERS = {
    "reached",
    "selected",
    "selection_rate",
    "impact_ratio",
    "z_d",
    "shortfall",
    "fisher_p_two_sided",
    "fisher_mid_p",
    "impact_ratio_exact",
}


def report(client, user, **query):
    response = client.get(URL, query_string=query, headers=auth(user))
    assert response.status_code == 200, response.json
    return response.json


def first_step(body, dimension="race_ethnicity"):
    [section] = [d for d in body["dimensions"] if d["dimension"] == dimension]
    [step] = [s for s in section["steps"] if s["stage"] == "applied"]
    return step


def groups(step):
    return {g["group"]: g for g in step["groups"]}


@pytest.fixture
def small_groups(session, recruiter):
    requisition = RequisitionFactory()
    for race, reached in (("white", 30), ("black_or_african_american", 20), ("asian", 6)):
        cohort(
            session,
            recruiter,
            requisition,
            reached,
            reached // 2,
            sex="female",
            race_ethnicity=race,
        )
    return requisition


@pytest.fixture
def uniform_guidelines(session, recruiter):
    """The Guidelines' example: selection rates of 60, 45, 48 and 51 % at the first stage."""
    requisition = RequisitionFactory()
    for race, advanced in (
        ("white", 60),
        ("black_or_african_american", 45),
        ("hispanic_or_latino", 48),
        ("asian", 51),
    ):
        cohort(session, recruiter, requisition, 100, advanced, sex="female", race_ethnicity=race)
    # Still waiting in the stage: no decision yet, so not in the denominator.
    cohort(session, recruiter, requisition, 0, 0, pending=3, race_ethnicity="white")
    return requisition


def test_uniform_guidelines_example_flags_only_the_45_percent_group(
    client, session, admin, uniform_guidelines
):
    body = report(client, admin, requisition_id=uniform_guidelines.id, dimension="race_ethnicity")
    step = first_step(body)
    by_group = groups(step)
    assert step["reference_group"] == "white"
    assert step["any_adverse_impact"] is True
    verdicts = {g: r["verdict"] for g, r in by_group.items() if not r["suppressed"]}
    assert verdicts == {
        "white": "reference",
        "black_or_african_american": "adverse_impact",
        "hispanic_or_latino": "no_adverse_impact",
        "asian": "no_adverse_impact",
    }
    assert by_group["white"]["reached"] == 100  # the three still waiting are not counted
    assert by_group["black_or_african_american"]["impact_ratio_exact"] == "3/4"
    # 48 % against 60 % is exactly four-fifths: not adverse impact.
    assert by_group["hispanic_or_latino"]["impact_ratio_exact"] == "4/5"
    assert by_group["hispanic_or_latino"]["below_four_fifths"] is False
    assert by_group["black_or_african_american"]["fisher_p_two_sided"] == pytest.approx(
        fisher_exact([[45, 55], [60, 40]]).pvalue, rel=1e-9
    )


def test_every_category_is_listed_and_empty_ones_carry_no_numbers(
    client, session, admin, small_groups
):
    step = first_step(
        report(client, admin, requisition_id=small_groups.id, dimension="race_ethnicity")
    )
    by_group = groups(step)
    assert len(by_group) == 7  # every EEO-1 category, declined excluded
    empty = by_group["two_or_more_races"]
    assert empty == {
        "group": "two_or_more_races",
        "suppressed": True,
        "verdict": "suppressed",
        "label": "insufficient data",
    }


def test_intersection_and_whole_process_steps_are_reported(client, session, admin, small_groups):
    body = report(client, admin, requisition_id=small_groups.id, dimension="sex_race_ethnicity")
    step = first_step(body, "sex_race_ethnicity")
    assert len(step["groups"]) == 3 * 7
    assert groups(step)["female/white"]["reached"] == 30
    assert groups(step)["female/asian"]["suppressed"] is True
    stages = [s["stage"] for s in body["dimensions"][0]["steps"]]
    assert stages[-1] == "whole_process"


def test_an_application_sent_back_to_a_stage_is_counted_there_once(
    client, session, admin, recruiter
):
    # The backend template lets the debrief send a candidate back to the onsite loop.
    requisition = RequisitionFactory()
    to_debrief = ("recruiter_screen", "technical_screen", "onsite", "debrief")
    for race, last in (("white", "onsite"), ("asian", "offer")):
        for _ in range(10):
            move(
                session,
                recruiter,
                apply(session, recruiter, requisition, race_ethnicity=race),
                *to_debrief,
                last,
            )
    body = report(client, admin, requisition_id=requisition.id, dimension="race_ethnicity")
    [section] = body["dimensions"]
    onsite = groups(next(s for s in section["steps"] if s["stage"] == "onsite"))
    assert (onsite["white"]["reached"], onsite["white"]["selected"]) == (10, 10)
    assert (onsite["asian"]["reached"], onsite["asian"]["selected"]) == (10, 10)


def test_a_filtered_report_counts_like_the_whole_one(client, session, admin, recruiter):
    # The query reads the stage entries one way over all applications and another
    # under a filter; over the same applications both must give the same counts.
    requisition = RequisitionFactory()
    to_debrief = ("recruiter_screen", "technical_screen", "onsite", "debrief")
    paths = [
        (),
        ("recruiter_screen",),
        to_debrief[:2],
        (*to_debrief, "onsite"),
        (*to_debrief, "offer"),
    ]
    for race in ("white", "asian"):
        for n in range(20):
            application = apply(session, recruiter, requisition, race_ethnicity=race)
            move(session, recruiter, application, *paths[n % len(paths)])
            if n % len(paths) == 0:
                reject(session, recruiter, application)
    whole = report(client, admin, dimension="race_ethnicity")
    filtered = report(client, admin, requisition_id=requisition.id, dimension="race_ethnicity")
    assert whole["dimensions"] == filtered["dimensions"]
    applied = groups(first_step(filtered))
    assert (applied["white"]["reached"], applied["white"]["selected"]) == (20, 16)


def test_stage_filter_keeps_one_step(client, session, admin, small_groups):
    body = report(client, admin, requisition_id=small_groups.id, stage="applied")
    assert {s["stage"] for d in body["dimensions"] for s in d["steps"]} == {"applied"}
    assert len(body["dimensions"]) == 5


def test_small_groups_and_their_complement_are_suppressed(client, session, admin, small_groups):
    step = first_step(
        report(client, admin, requisition_id=small_groups.id, dimension="race_ethnicity")
    )
    by_group = groups(step)
    # Asian (6 reached) is too small; Black (20) is suppressed too, or the total would reveal it.
    for hidden in ("asian", "black_or_african_american"):
        assert by_group[hidden]["suppressed"] is True
        assert not NUMBERS & set(by_group[hidden])
    assert by_group["white"]["reached"] == 30
    assert step["total_reached"] == 30
    assert step["flags"] == ["fewer_than_two_groups"]


def test_csv_has_the_same_suppression(client, session, admin, small_groups):
    response = client.get(
        URL,
        query_string={
            "requisition_id": small_groups.id,
            "dimension": "race_ethnicity",
            "stage": "applied",
        },
        headers=auth(admin) | {"Accept": "text/csv"},
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = {r["group"]: r for r in csv.DictReader(io.StringIO(response.text))}
    assert len(rows) == 7
    for hidden in ("asian", "black_or_african_american"):
        assert rows[hidden]["suppressed"] == "True"
        assert all(rows[hidden][column] == "" for column in NUMBERS)
    assert (rows["white"]["reached"], rows["white"]["selected"]) == ("30", "15")


def test_suppression_thresholds_come_from_the_settings(app, client, session, admin, small_groups):
    original = app.config["SETTINGS"]
    app.config["SETTINGS"] = replace(
        original, adverse_impact_min_applicants=5, adverse_impact_min_selections=3
    )
    try:
        step = first_step(
            report(client, admin, requisition_id=small_groups.id, dimension="race_ethnicity")
        )
    finally:
        app.config["SETTINGS"] = original
    assert groups(step)["asian"]["reached"] == 6
    assert step["min_applicants"] == 5


@pytest.mark.parametrize("role", ["recruiter", "hiring_manager", "interviewer"])
def test_only_admins_read_it(client, session, role):
    response = client.get(URL, headers=auth(UserFactory(role=role)))
    assert response.status_code == 403


@pytest.mark.parametrize(
    "query, field",
    [
        ({"dimension": "religion"}, "query.dimension"),
        ({"requisiton_id": 1}, "query.requisiton_id"),
        ({"stage": "nowhere"}, "query.stage"),
    ],
)
def test_bad_query_is_422_naming_the_parameter(client, session, admin, query, field):
    response = client.get(URL, query_string=query, headers=auth(admin))
    assert response.status_code == 422
    assert field in {e["field"] for e in response.json["errors"]}


# --- Attacking the whole response ----------------------------------------------------

STAGES = ("applied", "recruiter_screen", "technical_screen", "onsite", "debrief", "offer")
GO_ON = (0.55, 0.6, 0.55, 0.8, 0.75)  # chance of advancing past each stage but the last


def _pick(rnd, weights):
    return rnd.choices(list(weights), weights=list(weights.values()))[0]


def _realistic_people(rnd, n):
    """(answers, index of the last stage, status there): a funnel with small groups."""
    people = []
    for _ in range(n):
        answers = {
            "sex": _pick(rnd, {"female": 45, "male": 50, "non_binary": 3, DECLINED: 2}),
            "race_ethnicity": _pick(
                rnd,
                {
                    "white": 48,
                    "asian": 20,
                    "black_or_african_american": 12,
                    "hispanic_or_latino": 12,
                    "two_or_more_races": 4,
                    "american_indian_or_alaska_native": 1,
                    DECLINED: 3,
                },
            ),
            "veteran_status": _pick(rnd, {"protected_veteran": 8, "not_a_protected_veteran": 92}),
            "disability_status": _pick(
                rnd, {"has_disability": 10, "no_disability": 88, DECLINED: 2}
            ),
        }
        last = 0
        while last < len(GO_ON) and rnd.random() < GO_ON[last]:
            last += 1
        ending = {"rejected": 80, "withdrawn": 10, "active": 10}
        if last == len(STAGES) - 1:
            ending = {"hired": 70, "rejected": 20, "active": 10}
        people.append((answers, last, _pick(rnd, ending)))
    return people


@pytest.fixture
def realistic(session, recruiter):
    requisition = RequisitionFactory()
    people = _realistic_people(random.Random(20240611), 260)
    actions = {"rejected": "reject", "withdrawn": "withdraw", "hired": "hire"}
    for answers, last, status in people:
        application = apply(session, recruiter, requisition, **answers)
        move(session, recruiter, application, *STAGES[1 : last + 1])
        if status in actions:
            applications.change_status(
                session, recruiter, application.id, actions[status], rejection_reason="skills_gap"
            )
    key = requisition.template_version.key
    steps = tuple((key, s) for s in STAGES)
    whole = (key, "whole_process")
    return requisition, truth_of(people, steps, whole), [(steps, whole)]


def _served_csv(text):
    served = {}
    for row in csv.DictReader(io.StringIO(text)):
        numbers = {q: int(row[q]) for q in ("reached", "selected") if row[q] != ""}
        served.setdefault((row["dimension"], (row["template_key"], row["stage"])), {})[
            row["group"]
        ] = numbers
    return served


def test_no_hidden_count_can_be_recovered_from_the_rest_of_the_response(
    client, session, admin, realistic
):
    requisition, truth, chains = realistic
    body = report(client, admin, requisition_id=requisition.id)
    served = served_numbers(body)
    assert len({d for d, _ in served}) == 5 and len({s for _, s in served}) == 7
    hidden = [
        (d, s, g, q)
        for (d, s), groups in served.items()
        for g, numbers in groups.items()
        for q in ("reached", "selected")
        if q not in numbers and count_of(truth, (s, q), d, g)
    ]
    assert len(hidden) > 50  # small groups are there to protect
    assert recovered(served, truth, chains) == []
    for section in body["dimensions"]:
        for step in section["steps"]:
            analysed = [g for g in step["groups"] if not g["suppressed"]]
            assert step["total_reached"] == sum(g["reached"] for g in analysed)
            assert step["total_selected"] == sum(g["selected"] for g in analysed)


def test_the_csv_carries_exactly_the_suppression_of_the_json(client, session, admin, realistic):
    requisition, _, _ = realistic
    body = report(client, admin, requisition_id=requisition.id)
    response = client.get(
        URL,
        query_string={"requisition_id": requisition.id},
        headers=auth(admin) | {"Accept": "text/csv"},
    )
    assert response.status_code == 200
    assert _served_csv(response.text) == served_numbers(body)


def test_a_filtered_request_shows_only_what_the_whole_report_shows(
    client, session, admin, realistic
):
    requisition, _, _ = realistic
    whole = served_numbers(report(client, admin, requisition_id=requisition.id))
    for stage in ("applied", "onsite", "whole_process"):
        for dimension in ("sex", "sex_race_ethnicity"):
            part = served_numbers(
                report(
                    client, admin, requisition_id=requisition.id, stage=stage, dimension=dimension
                )
            )
            assert part == {
                k: v for k, v in whole.items() if k[0] == dimension and k[1][1] == stage
            }


def test_the_body_is_the_schemas_dump_as_flask_would_send_it(
    app, client, session, admin, realistic
):
    """The view sends the report as it comes (orjson, no marshmallow dump): byte for byte
    what `jsonify` of the schema's own dump would send, a date filter included."""
    requisition, _, _ = realistic
    query = {"requisition_id": requisition.id, "applied_from": "2000-01-02T03:04:05+00:00"}
    response = client.get(URL, query_string=query, headers=auth(admin))
    assert response.status_code == 200
    settings = app.config["SETTINGS"]
    filters = ApplicationFilters(
        requisition_id=requisition.id, applied_from=datetime(2000, 1, 2, 3, 4, 5, tzinfo=UTC)
    )
    expected = reports.adverse_impact_report(
        session,
        admin,
        filters,
        min_applicants=settings.adverse_impact_min_applicants,
        min_selections=settings.adverse_impact_min_selections,
    )
    assert any(step["groups"] for d in expected["dimensions"] for step in d["steps"])
    with app.test_request_context():
        body = jsonify(ma.Schema.dump(AdverseImpactReportSchema(), expected)).get_data()
    assert response.get_data() == body
