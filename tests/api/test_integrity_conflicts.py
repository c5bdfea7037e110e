"""An IntegrityError that no use case turned into a domain error is a 409, logged quietly."""

import logging

from flask import Flask
from sqlalchemy.exc import IntegrityError

from service.http.errors import register_error_handlers

SECRET = "someone@example.org"


def app_raising(error: Exception) -> Flask:
    app = Flask(__name__)
    register_error_handlers(app)

    @app.post("/boom")
    def boom():
        raise error

    return app


def unique_violation() -> IntegrityError:
    driver_error = Exception(
        'duplicate key value violates unique constraint "uq_candidates_email"\n'
        f"DETAIL:  Key (email)=({SECRET}) already exists."
    )
    return IntegrityError(
        "INSERT INTO candidates (email) VALUES (%(email)s)", {"email": SECRET}, driver_error
    )


def test_integrity_error_is_409_problem_asking_to_reload_and_retry():
    response = app_raising(unique_violation()).test_client().post("/boom")
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert response.json["title"] == "Conflict"
    assert "reload and retry" in response.json["detail"]
    assert SECRET not in response.get_data(as_text=True)


def test_integrity_error_is_logged_as_a_warning_without_parameters_or_detail(caplog):
    with caplog.at_level(logging.WARNING, logger="service.http.errors"):
        app_raising(unique_violation()).test_client().post("/boom")
    [record] = [r for r in caplog.records if r.name == "service.http.errors"]
    assert record.levelno == logging.WARNING
    assert "uq_candidates_email" in record.getMessage()
    assert SECRET not in record.getMessage()
    assert record.exc_info is None
