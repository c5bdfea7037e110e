"""The admin's fairness, calibration and template pages through the test client: admins
only, the same figures and CSV rows as the API's reports, suppression kept, every
calibration state shown, and a template diff in words."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import timedelta

import pytest

from service.domain.templates import InterviewTemplate
from service.persistence.base import utcnow
from service.persistence.templates import TemplateVersion
from tests.api.conftest import auth
from tests.api.reports_helpers import cohort
from tests.factories import (
    ApplicationFactory,
    CalibrationRunFactory,
    InterviewerCalibrationFactory,
    InterviewFactory,
    RequisitionFactory,
    UserFactory,
    template_version,
)
from tests.web.conftest import sign_in, with_password

EVIDENCE = "Paired on a rate limiter, wrote the failing test first and split the bucket out."
ROUTES = (
    "/admin/templates",
    "/admin/templates/backend_engineer/changes",
    "/admin/funnel",
    "/admin/funnel.csv?requisition_id={requisition_id}",
    "/admin/adverse-impact",
    "/admin/adverse-impact.csv",
    "/admin/calibration",
    "/admin/calibration.csv",
    "/admin/reliability.csv",
)


@pytest.fixture
def admin(session):
    return with_password(session, role="admin")


def text(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def csv_rows(response) -> list[dict]:
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


@pytest.mark.parametrize("role", ["recruiter", "interviewer", "hiring_manager"])
def test_only_admins_reach_the_report_and_template_pages(web_client, session, role):
    requisition = RequisitionFactory()
    sign_in(web_client, with_password(session, role=role))
    for route in ROUTES:
        response = web_client.get(route.format(requisition_id=requisition.id))
        assert response.status_code == 404, route
        assert "text/html" in response.content_type, route


def test_the_admin_navigation_names_the_pages(web_client, session, admin):
    sign_in(web_client, admin)
    html = text(web_client.get("/admin/users"))
    for label in ("Templates", "Pipeline funnel", "Adverse impact", "Calibration"):
        assert f">{label}</a>" in html


# ---- Adverse impact ---------------------------------------------------------------


@pytest.fixture
def small_groups(session):
    """30 white and 20 Black applicants (half advance), and 6 Asian: too few to show."""
    recruiter = UserFactory(role="recruiter")
    requisition = RequisitionFactory()
    for race, reached in (("white", 30), ("black_or_african_american", 20), ("asian", 6)):
        cohort(session, recruiter, requisition, reached, reached // 2, race_ethnicity=race)
    return requisition


def impact_table(html: str, dimension: str, step: str) -> str:
    section = html.split(f'id="dimension-{dimension}"')[1].split("</section>", maxsplit=1)[0]
    return section.split(f'data-step="{step}"')[1].split("</table>")[0]


def test_adverse_impact_shows_verdicts_hides_small_groups_and_says_what_it_does_not_prove(
    web_client, session, admin, small_groups
):
    sign_in(web_client, admin)
    html = text(
        web_client.get("/admin/adverse-impact", query_string={"requisition_id": small_groups.id})
    )
    assert "What these figures do not prove" in html
    assert "not proof of discrimination" in html
    table = impact_table(html, "race_ethnicity", "backend_engineer:applied")
    rows = dict(re.findall(r'<th scope="row">(.*?)</th>(.*?)</tr>', table, re.S))
    assert "reference group" in rows["white"]
    assert "no adverse impact" in rows["black or african american"]
    assert "insufficient data" in rows["asian"]
    # The suppressed group's selections are never on the page.
    assert rows["asian"].count("—") >= 4


def test_adverse_impact_csv_is_the_apis_csv(web_client, client, session, admin, small_groups):
    sign_in(web_client, admin)
    query = {"requisition_id": small_groups.id}
    page = web_client.get("/admin/adverse-impact.csv", query_string=query)
    api = client.get(
        "/api/v1/reports/adverse-impact",
        query_string=query,
        headers=auth(admin) | {"Accept": "text/csv"},
    )
    assert page.get_data() == api.get_data()
    asian = [r for r in csv_rows(page) if r["group"] == "asian"]
    assert asian and all(r["selected"] == "" and r["verdict"] == "suppressed" for r in asian)
    assert "attachment" in page.headers["Content-Disposition"]


def test_a_requisition_that_is_not_a_number_is_a_422_page_naming_it(web_client, session, admin):
    sign_in(web_client, admin)
    for path in ("/admin/adverse-impact", "/admin/funnel", "/admin/funnel.csv"):
        response = web_client.get(path, query_string={"requisition_id": "seven"})
        assert response.status_code == 422, path
        assert "requisition_id" in response.get_data(as_text=True)
    assert web_client.get("/admin/funnel.csv").status_code == 422
    missing = web_client.get("/admin/funnel", query_string={"requisition_id": 999999})
    assert missing.status_code == 404


# ---- Funnel -----------------------------------------------------------------------


def test_funnel_chart_and_table_give_the_same_numbers_as_the_api(
    web_client, client, session, admin, small_groups
):
    sign_in(web_client, admin)
    query = {"requisition_id": small_groups.id}
    html = text(web_client.get("/admin/funnel", query_string=query))
    assert '<svg xmlns="http://www.w3.org/2000/svg" id="funnel"' in html
    assert "Applied: 56 entered · 28 advanced (50%) · 0 still there." in html
    assert 'role="img"' in html
    table = html.split('id="funnel-table"')[1].split("</table>")[0]
    assert re.search(r"Applied</th>\s*<td class=\"num\">56</td>\s*<td class=\"num\">28</td>", table)
    page = web_client.get("/admin/funnel.csv", query_string=query)
    api = client.get(
        "/api/v1/reports/pipeline", query_string=query, headers=auth(admin) | {"Accept": "text/csv"}
    )
    assert page.get_data() == api.get_data()


def test_funnel_without_a_choice_shows_the_newest_requisition(web_client, session, admin):
    RequisitionFactory()
    newest = RequisitionFactory(title="Newest role")
    sign_in(web_client, admin)
    html = text(web_client.get("/admin/funnel"))
    assert f"Requisition #{newest.id}" in html


# ---- Calibration ------------------------------------------------------------------


def _effect(run, user, state, leniency=None, se=None, n=12):
    InterviewerCalibrationFactory(
        run=run,
        interviewer_id=user.id,
        state=state,
        leniency=leniency,
        se=se,
        n_ratings=n,
        connected=state != "not_comparable",
        insufficient_data=state == "insufficient_data",
    )


@pytest.fixture
def calibrated(client, session):
    """Four interviewers with a submitted scorecard each: one calibrated lenient, one not
    comparable, one with too little data, one not in the fit at all."""
    names = ("Ada Lenient", "Bo Island", "Cy Sparse", "Di New")
    people = [UserFactory(role="interviewer", name=name) for name in names]
    for index, person in enumerate(people):
        interview = InterviewFactory(
            application=ApplicationFactory(),
            interviewer=person,
            interview_key="pair_programming",
            starts_at=utcnow() - timedelta(hours=2 + index),
        )
        ratings = [
            {"competency": c, "score": 3, "evidence": EVIDENCE}
            for c in ("coding", "problem_solving", "collaboration")
        ]
        response = client.post(
            f"/api/v1/interviews/{interview.id}/scorecard/submit",
            json={"ratings": ratings, "recommendation": "yes", "summary": ""},
            headers=auth(person),
        )
        assert response.status_code == 200, response.json
    run = CalibrationRunFactory()
    _effect(run, people[0], "applied", leniency=0.42, se=0.11, n=37)
    _effect(run, people[1], "not_comparable", n=9)
    _effect(run, people[2], "insufficient_data", n=2)
    return people


def test_calibration_charts_the_main_pool_and_names_every_other_state(
    web_client, session, admin, calibrated
):
    sign_in(web_client, admin)
    html = text(web_client.get("/admin/calibration"))
    chart = html.split('id="leniency"')[1].split("</svg>")[0]
    assert "Ada Lenient: leniency +0.42 ± 0.11; 37 ratings." in chart
    assert "Bo Island" not in chart  # not comparable: never drawn on the main pool's scale
    table = html.split('id="leniency-table"')[1].split("</table>")[0]
    assert "+0.42 ± 0.11" in table and ">37<" in table
    others = html.split('id="uncalibrated-table"')[1].split("</table>")[0]
    for name, words in (
        ("Bo Island", "not comparable with the main pool"),
        ("Cy Sparse", "insufficient data"),
        ("Di New", "not fitted yet"),
    ):
        row = others.split(name)[1].split("</tr>")[0]
        assert words in row, name
    assert "Reliability per competency" in html


def test_calibration_and_reliability_csvs_are_the_apis_rows(
    web_client, client, session, admin, calibrated
):
    sign_in(web_client, admin)
    api = csv_rows(
        client.get("/api/v1/reports/interviewers", headers=auth(admin) | {"Accept": "text/csv"})
    )
    interviewers = csv_rows(web_client.get("/admin/calibration.csv"))
    reliability = csv_rows(web_client.get("/admin/reliability.csv"))
    assert interviewers + reliability == api
    assert {r["section"] for r in interviewers} == {"interviewer"}
    states = {r["name"]: r["calibration_state"] for r in interviewers}
    assert states["Di New"] == "not_fitted" and states["Bo Island"] == "not_comparable"
    assert next(r for r in interviewers if r["name"] == "Bo Island")["leniency"] == ""


# ---- Templates --------------------------------------------------------------------


@pytest.fixture
def second_version(session):
    """A newer backend_engineer version: a tighter screen target and a reworded anchor."""
    first = template_version()
    old = first.template()
    applied, *rest = old.stages
    coding = old.competency("coding")
    rubric = tuple(
        replace(r, anchor="Runs and tests the main case unaided.") if r.level == 3 else r
        for r in coding.rubric
    )
    new = replace(
        old,
        stages=(replace(applied, sla_days=2), *rest),
        competencies=tuple(
            replace(c, rubric=rubric) if c.key == "coding" else c for c in old.competencies
        ),
    )
    assert InterviewTemplate.from_dict(new.to_dict()) == new
    row = TemplateVersion(key=new.key, version=new.version, title=new.title, content=new.to_dict())
    session.add(row)
    session.flush()
    return first, row


def test_templates_list_versions_and_the_requisitions_pinned_to_each(
    web_client, session, admin, second_version
):
    first, second = second_version
    old_role = RequisitionFactory(title="Pinned to the first", template_version=first)
    new_role = RequisitionFactory(title="Pinned to the second", template_version=second)
    sign_in(web_client, admin)
    html = text(web_client.get("/admin/templates"))
    section = html.split('id="template-backend_engineer"')[1].split("</section>")[0]
    one = section.split('id="version-backend_engineer-1"')[1].split("</tr>")[0]
    two = section.split('id="version-backend_engineer-2"')[1].split("</tr>")[0]
    assert "Pinned to the first" in one and "Pinned to the second" not in one
    assert "Pinned to the second" in two and "current" in two
    assert f"requisition_id={old_role.id}" in one and f"requisition_id={new_role.id}" in two
    assert second.version[:12] in two
    assert "Show what changed" in section


def test_the_diff_says_what_changed_in_words(web_client, session, admin, second_version):
    first, _ = second_version
    sign_in(web_client, admin)
    html = text(web_client.get("/admin/templates/backend_engineer/changes"))  # the last two
    assert "version 1 → 2" in html
    assert "Applied: target 3 → 2 days." in html
    assert "Coding, level 3 (Good): anchor reworded." in html
    assert "<ins>Runs and tests the main case unaided.</ins>" in html
    assert f"<del>{first.template().competency('coding').anchor(3)}</del>" in html
    back = text(
        web_client.get(
            "/admin/templates/backend_engineer/changes", query_string={"from": 2, "to": 1}
        )
    )
    assert "Applied: target 2 → 3 days." in back
    same = text(
        web_client.get(
            "/admin/templates/backend_engineer/changes", query_string={"from": 2, "to": 2}
        )
    )
    assert "That is the same version." in same


def test_a_version_that_does_not_exist_is_a_422_and_an_unknown_template_a_404(
    web_client, session, admin
):
    sign_in(web_client, admin)
    for query in ({"from": 9}, {"to": "latest"}):
        response = web_client.get("/admin/templates/backend_engineer/changes", query_string=query)
        assert response.status_code == 422
        assert next(iter(query)) in response.get_data(as_text=True)
    assert web_client.get("/admin/templates/no_such_role/changes").status_code == 404
