"""Response headers: nosniff and no referrer everywhere, no caching of personal data,
conditional GET on ETags, and a request id on every response."""

import pytest

from tests.api.conftest import auth
from tests.factories import ApplicationFactory

REPORT_CSV = "/api/v1/reports/self-identification.csv"


@pytest.fixture
def responses(client, admin):
    """A JSON body, a CSV, a problem, the OpenAPI document and a path outside the API."""
    return {
        "json": client.get("/api/v1/me", headers=auth(admin)),
        "csv": client.get(REPORT_CSV, headers=auth(admin)),
        "problem": client.get("/api/v1/me"),
        "openapi": client.get("/api/v1/openapi.json"),
        "outside": client.get("/nothing-here"),
    }


@pytest.mark.parametrize("kind", ["json", "csv", "problem", "openapi", "outside"])
def test_every_response_forbids_sniffing_and_referrers(responses, kind):
    response = responses[kind]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("kind", ["json", "csv", "problem"])
def test_api_responses_are_never_stored_by_caches(responses, kind):
    assert responses[kind].headers["Cache-Control"] == "no-store"


def test_the_openapi_document_may_be_cached(responses):
    assert "no-store" not in responses["openapi"].headers.get("Cache-Control", "")


def test_application_get_with_its_current_etag_is_304_without_a_body(client, session, recruiter):
    application = ApplicationFactory()
    url = f"/api/v1/applications/{application.id}"
    etag = client.get(url, headers=auth(recruiter)).headers["ETag"]
    response = client.get(url, headers=auth(recruiter) | {"If-None-Match": etag})
    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == etag
    assert response.headers["Cache-Control"] == "no-store"


def test_application_get_with_a_stale_etag_is_200(client, session, recruiter):
    application = ApplicationFactory()
    url = f"/api/v1/applications/{application.id}"
    response = client.get(url, headers=auth(recruiter) | {"If-None-Match": '"0"'})
    assert response.status_code == 200
    assert response.json["id"] == application.id


# The packet PDF's conditional GET is tested with the packets, in test_packets.py.


def test_if_none_match_does_not_skip_authentication(client, session):
    application = ApplicationFactory()
    response = client.get(
        f"/api/v1/applications/{application.id}", headers={"If-None-Match": '"1"'}
    )
    assert response.status_code == 401


def test_a_sane_incoming_request_id_is_echoed(client, admin):
    response = client.get("/api/v1/me", headers=auth(admin) | {"X-Request-ID": "lb-7f3a.42:9"})
    assert response.headers["X-Request-ID"] == "lb-7f3a.42:9"


@pytest.mark.parametrize("incoming", ["has spaces in it", "x" * 129, "<script>", "-leading"])
def test_an_insane_incoming_request_id_is_replaced(client, admin, incoming):
    response = client.get("/api/v1/me", headers=auth(admin) | {"X-Request-ID": incoming})
    assert response.headers["X-Request-ID"] != incoming
    assert len(response.headers["X-Request-ID"]) == 32


def test_each_request_gets_its_own_id(client, admin):
    ids = {client.get("/api/v1/me", headers=auth(admin)).headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3
