"""`/metrics`: request latency by route (the URL rule, no ids) and status; packets by state."""

import re

from service.persistence.outbox import add_event
from service.persistence.packets import Packet
from tests.api.conftest import auth
from tests.factories import ApplicationFactory


def sample(page: str, name: str, **labels: str) -> float | None:
    """The value of one sample in a Prometheus text page, or None."""
    for line in page.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_a_request_is_counted_under_its_route_not_its_path(client, session, recruiter):
    application = ApplicationFactory()
    client.get(f"/api/v1/applications/{application.id}", headers=auth(recruiter))
    page = client.get("/metrics").get_data(as_text=True)
    route = "/api/v1/applications/<int:application_id>"
    assert sample(page, "hiring_http_request_duration_seconds_count", route=route, status="200")
    assert f"/api/v1/applications/{application.id}" not in page


def test_a_path_no_route_matches_is_counted_as_unmatched(client):
    client.get("/no/such/path/42")
    page = client.get("/metrics").get_data(as_text=True)
    assert sample(page, "hiring_http_request_duration_seconds_count", route="<unmatched>")
    assert "/no/such/path" not in page


def test_packets_are_counted_by_state_at_scrape_time(client, session, recruiter):
    application = ApplicationFactory()
    for version, status in enumerate(["queued", "ready", "ready"], start=1):
        session.add(
            Packet(
                application_id=application.id,
                version=version,
                anonymized=False,
                status=status,
                input_digest=f"{version:064d}",
                content={},
                requested_by_id=recruiter.id,
            )
        )
    session.flush()
    page = client.get("/metrics").get_data(as_text=True)
    assert sample(page, "hiring_packets", status="ready") == 2
    assert sample(page, "hiring_packets", status="queued") == 1
    assert sample(page, "hiring_packets", status="failed") == 0


def backlog(client) -> float:
    page = client.get("/metrics").get_data(as_text=True)
    found = re.search(r"^hiring_outbox_backlog (\S+)$", page, re.MULTILINE)
    assert found, "no hiring_outbox_backlog sample"
    return float(found.group(1))


def test_the_outbox_backlog_is_counted_at_scrape_time(client, session):
    before = backlog(client)
    for number in range(3):
        add_event(session, "test.event", {"n": number})
    session.flush()
    assert backlog(client) == before + 3
