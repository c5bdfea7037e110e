"""The organisation-wide report pages served from snapshots (usecases/report_snapshots.py):
stored on the first view and served after it, refreshed when stale, emptied by an
erasure and by a calibration run, recomputed by "Refresh now", admins only however
fresh the snapshot; and the calibration page's extremes chart, pages and search.

Jobs run in-process here (no Redis): a stale view's refresh runs right after its
request commits. tests/integration/test_report_snapshot_worker.py enqueues it on
real Redis for a real worker."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from service.persistence.base import utcnow
from service.persistence.report_snapshots import ReportSnapshot, read_snapshot
from service.usecases.interviewer_reports import SNAPSHOT_KEY as INTERVIEWERS
from service.usecases.scorecards import submit_scorecard
from tests.api.conftest import auth
from tests.api.reports_helpers import apply, cohort, reject
from tests.api.test_calibration import history, submit
from tests.factories import (
    ApplicationFactory,
    CalibrationRunFactory,
    InterviewFactory,
    RequisitionFactory,
    UserFactory,
)
from tests.web.conftest import csrf_token, sign_in, signed_in_page_session, with_password
from tests.web.test_admin_reports import EVIDENCE, _effect, text

ADVERSE_IMPACT = "adverse_impact-10-5"  # the test settings' minimum cell sizes


@pytest.fixture
def admin(session):
    return with_password(session, role="admin")


@pytest.fixture
def recruiter(session):
    return UserFactory(role="recruiter")


@pytest.fixture
def groups(session, recruiter):
    """30 white and 20 Black applicants at the first stage, half of each advanced."""
    requisition = RequisitionFactory()
    for race, reached in (("white", 30), ("black_or_african_american", 20)):
        cohort(session, recruiter, requisition, reached, reached // 2, race_ethnicity=race)
    return requisition


def reached(html: str, group: str) -> int:
    """The 'reached' count of `group` at the first step by race or ethnicity."""
    section = html.split('id="dimension-race_ethnicity"')[1].split("</section>", maxsplit=1)[0]
    step = section.split('data-step="backend_engineer:applied"')[1].split("</table>")[0]
    row = step.split(f'<th scope="row">{group}</th>')[1].split("</tr>")[0]
    return int(re.findall(r'<td class="num">(\d+)</td>', row)[0])


def age_back(session, key: str, minutes: int) -> None:
    """Make the stored snapshot `minutes` older than it is."""
    stored = read_snapshot(session, key)
    session.execute(
        update(ReportSnapshot)
        .where(ReportSnapshot.key == key)
        .values(computed_at=stored.computed_at - timedelta(minutes=minutes))
    )
    session.flush()


def test_the_first_view_stores_the_report_and_later_views_are_served_from_it(
    web_client, session, admin, recruiter, groups
):
    sign_in(web_client, admin)
    first = text(web_client.get("/admin/adverse-impact"))
    stored = read_snapshot(session, ADVERSE_IMPACT)
    assert stored.report is not None
    assert f'Figures as of <time datetime="{stored.computed_at.isoformat()}">' in first
    assert "less than a minute ago" in first and "Refresh now" in first
    assert reached(first, "white") == 30
    for _ in range(5):  # five more white applicants rejected at the first stage
        reject(session, recruiter, apply(session, recruiter, groups, race_ethnicity="white"))

    again = text(web_client.get("/admin/adverse-impact"))
    assert reached(again, "white") == 30  # the snapshot, not a new count
    assert read_snapshot(session, ADVERSE_IMPACT).computed_at == stored.computed_at
    # The API's report stays live.
    live = web_client.get("/api/v1/reports/adverse-impact", headers=auth(admin)).json
    step = next(
        s
        for d in live["dimensions"]
        if d["dimension"] == "race_ethnicity"
        for s in d["steps"]
        if s["stage"] == "applied"
    )
    assert next(g for g in step["groups"] if g["group"] == "white")["reached"] == 35


def test_one_requisitions_page_is_counted_live_without_a_snapshot(
    web_client, session, admin, groups
):
    sign_in(web_client, admin)
    html = text(web_client.get("/admin/adverse-impact", query_string={"requisition_id": groups.id}))
    assert "Figures as of" not in html
    assert read_snapshot(session, ADVERSE_IMPACT) is None


def test_a_stale_snapshot_is_served_while_its_refresh_runs(
    web_client, session, admin, recruiter, groups
):
    sign_in(web_client, admin)
    text(web_client.get("/admin/adverse-impact"))
    for _ in range(5):
        reject(session, recruiter, apply(session, recruiter, groups, race_ethnicity="white"))
    age_back(session, ADVERSE_IMPACT, 30)  # past the default max age of 5 minutes
    stale = read_snapshot(session, ADVERSE_IMPACT)

    html = text(web_client.get("/admin/adverse-impact"))
    assert reached(html, "white") == 30  # served stale
    assert "(30 minutes ago)" in html and "Newer figures are being counted" in html
    assert f'datetime="{stale.computed_at.isoformat()}"' in html
    # In-process, the refresh the view enqueued ran after its commit.
    refreshed = read_snapshot(session, ADVERSE_IMPACT)
    assert refreshed.computed_at > stale.computed_at and refreshed.refresh_requested_at is None
    html = text(web_client.get("/admin/adverse-impact"))
    assert reached(html, "white") == 35 and "Newer figures" not in html


def test_refresh_now_counts_the_figures_again(web_client, session, admin, recruiter, groups):
    sign_in(web_client, admin)
    page = web_client.get("/admin/adverse-impact")
    for _ in range(5):
        reject(session, recruiter, apply(session, recruiter, groups, race_ethnicity="white"))

    response = web_client.post(
        "/admin/adverse-impact/refresh", data={"csrf_token": csrf_token(page)}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/admin/adverse-impact")
    assert reached(text(web_client.get("/admin/adverse-impact")), "white") == 35


def test_refresh_now_needs_the_forms_csrf_token(web_client, session, admin, groups):
    sign_in(web_client, admin)
    web_client.get("/admin/adverse-impact")
    assert web_client.post("/admin/adverse-impact/refresh").status_code == 400


def test_an_erasure_empties_the_snapshots(web_client, client, session, admin, recruiter, groups):
    sign_in(web_client, admin)
    text(web_client.get("/admin/adverse-impact"))
    text(web_client.get("/admin/calibration"))
    leaving = reject(session, recruiter, apply(session, recruiter, groups, race_ethnicity="white"))

    response = client.post(
        f"/api/v1/candidates/{leaving.candidate_id}/erasure",
        json={"reason": "the candidate asked"},
        headers=auth(admin),
    )
    assert response.status_code == 200, response.json
    for key in (ADVERSE_IMPACT, INTERVIEWERS):
        assert read_snapshot(session, key).report is None, key
    # The next view counts again (the erased applicant's answers stay only as a count).
    assert reached(text(web_client.get("/admin/adverse-impact")), "white") == 31
    assert read_snapshot(session, ADVERSE_IMPACT).report is not None


def test_a_calibration_run_empties_the_snapshot(web_client, client, session, admin):
    generous = UserFactory(role="interviewer", name="Sam Generous")
    history(client, generous, [UserFactory(role="interviewer")], 6)  # refits in-process
    sign_in(web_client, admin)
    before = text(web_client.get("/admin/calibration"))
    ratings = int(re.search(r"over (\d+) ratings", before).group(1))

    application = ApplicationFactory()
    starts_at = utcnow() - timedelta(hours=2)
    submit(
        client,
        InterviewFactory(application=application, interviewer=generous, starts_at=starts_at),
        3,
    )
    assert read_snapshot(session, INTERVIEWERS).report is None  # the refit emptied it
    after = text(web_client.get("/admin/calibration"))
    assert int(re.search(r"over (\d+) ratings", after).group(1)) > ratings


@pytest.mark.parametrize("role", ["recruiter", "interviewer", "hiring_manager"])
def test_a_stored_snapshot_is_never_shown_to_anyone_but_an_admin(
    web_client, session, admin, groups, role
):
    sign_in(web_client, admin)
    text(web_client.get("/admin/adverse-impact"))
    text(web_client.get("/admin/calibration"))
    assert read_snapshot(session, ADVERSE_IMPACT).report is not None

    signed_in_page_session(web_client, with_password(session, role=role))
    token = csrf_token(web_client.get("/notifications"))  # the layout's sign-out form
    for path in (
        "/admin/adverse-impact",
        "/admin/adverse-impact.csv",
        "/admin/calibration",
        "/admin/calibration.csv",
    ):
        response = web_client.get(path)
        assert response.status_code == 404, path
        assert "white" not in response.get_data(as_text=True), path
    for path in ("/admin/adverse-impact/refresh", "/admin/calibration/refresh"):
        assert web_client.post(path, data={"csrf_token": token}).status_code == 404, path


# ---- The calibration page: extremes, pages, search --------------------------------


@pytest.fixture
def pool(session):
    """60 calibrated interviewers with a submitted scorecard each, "Person 00" the most
    lenient to "Person 59" the most severe."""
    people = []
    for number in range(60):
        person = UserFactory(role="interviewer", name=f"Person {number:02d}")
        interview = InterviewFactory(
            interviewer=person,
            interview_key="pair_programming",
            starts_at=utcnow() - timedelta(hours=2),
        )
        ratings = [
            {"competency": c, "score": 3, "evidence": EVIDENCE}
            for c in ("coding", "problem_solving", "collaboration")
        ]
        # Outside a request: no refit is enqueued, so the run below stays the latest.
        submit_scorecard(
            session, person, interview.id, {"ratings": ratings, "recommendation": "yes"}
        )
        people.append(person)
    run = CalibrationRunFactory()
    for number, person in enumerate(people):
        _effect(run, person, "applied", leniency=1.0 - number / 30, se=0.1, n=20)
    return people


def chart_names(html: str) -> set[str]:
    chart = html.split('id="leniency"')[1].split("</svg>", maxsplit=1)[0]
    return set(re.findall(r"(Person \d\d): leniency", chart))


def table_names(html: str, table: str = "leniency-table") -> list[str]:
    body = html.split(f'id="{table}"')[1].split("</table>", maxsplit=1)[0]
    return re.findall(r'<th scope="row">(Person \d\d)</th>', body)


def test_the_chart_shows_the_most_lenient_and_most_severe_and_says_so(
    web_client, session, admin, pool
):
    sign_in(web_client, admin)
    html = text(web_client.get("/admin/calibration"))
    names = chart_names(html)
    assert names == {f"Person {n:02d}" for n in (*range(25), *range(35, 60))}
    assert "The 25 most lenient and the 25 most severe of the 60 interviewers" in html


def test_the_table_is_paged_by_links_and_keeps_the_search(web_client, session, admin, pool):
    sign_in(web_client, admin)
    first = text(web_client.get("/admin/calibration"))
    assert table_names(first) == [f"Person {n:02d}" for n in range(50)]
    assert "Page 1 of 2" in first
    next_url = re.search(r'<a href="([^"]+)" rel="next">Next</a>', first).group(1)
    second = text(web_client.get(next_url.replace("&amp;", "&")))
    assert table_names(second) == [f"Person {n:02d}" for n in range(50, 60)]
    assert 'rel="prev"' in second and 'rel="next"' not in second
    # A page past the end is the last; a page that is not a number the first.
    assert table_names(text(web_client.get("/admin/calibration?page=9"))) == table_names(second)
    assert table_names(text(web_client.get("/admin/calibration?page=x"))) == table_names(first)


def test_the_search_finds_interviewers_by_name(web_client, session, admin, pool):
    sign_in(web_client, admin)
    html = text(web_client.get("/admin/calibration", query_string={"q": "person 4"}))
    assert table_names(html) == [f"Person {n:02d}" for n in range(40, 50)]
    assert "10 whose name contains “person 4”." in html
    none = text(web_client.get("/admin/calibration", query_string={"q": "nobody"}))
    assert "Nobody in the main pool has a name containing “nobody”." in none


def test_the_csv_still_carries_every_interviewer(web_client, session, admin, pool):
    sign_in(web_client, admin)
    rows = web_client.get("/admin/calibration.csv").get_data(as_text=True).splitlines()
    assert sum(1 for r in rows if "Person " in r) == 60
