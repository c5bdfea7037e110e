"""The blind rule across every route: a panelist who owes a scorecard reads nobody else's.

The sweep calls every route of the app, present and future, with the ids of an
application whose panel includes its own hiring manager (who has not submitted yet),
and proves that nothing another panelist wrote comes back: not as JSON, CSV or text,
not inside a PDF, not on a web page (each call carries the user's API token and a
signed-in page session; the pages' CSRF check is off for the sweep, so their forms
are reached too). The same sweep as a recruiter finds the feedback, so the check is
not vacuous.
"""

import subprocess
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import select

from service.persistence.base import utcnow
from service.persistence.outbox import OutboxEvent
from service.persistence.scorecards import ScorecardView
from service.persistence.webhooks import WebhookDelivery, WebhookEndpoint
from tests.api.conftest import auth
from tests.factories import ApplicationFactory, InterviewFactory, RequisitionFactory, UserFactory
from tests.web.conftest import signed_in_page_session

EVIDENCE = "Zanzibar-evidence-7731 rewrote the retry loop with jittered back-off."
SUMMARY = "Quixotic-summary-4410: careful and quick."
SECRETS = ("Zanzibar-evidence-7731", "Quixotic-summary-4410")
FEEDBACK_READS = [
    ("GET", "/api/v1/applications/{application_id}/scorecards"),
    ("GET", "/api/v1/interviews/{other_interview_id}/scorecard"),
    ("GET", "/api/v1/applications/{application_id}/assessment"),
    ("GET", "/api/v1/applications/{application_id}/decision"),
    ("POST", "/api/v1/applications/{application_id}/packets"),
    ("GET", "/api/v1/applications/{application_id}/packets"),
    ("GET", "/api/v1/packets/{packet_id}"),
    ("GET", "/api/v1/packets/{packet_id}/pdf"),
    ("POST", "/api/v1/packets/{packet_id}/render"),
]


@pytest.fixture
def panel(client, session, recruiter):
    """Application with the hiring manager on its panel, and one other panelist who submitted."""
    manager = UserFactory(role="hiring_manager")
    application = ApplicationFactory(requisition=RequisitionFactory(hiring_manager=manager))
    start = utcnow() - timedelta(hours=5)
    other = InterviewFactory(application=application, starts_at=start, status="completed")
    own = InterviewFactory(
        application=application,
        interviewer=manager,
        starts_at=start + timedelta(hours=1),
        interview_key=other.interview_key,
        status="completed",
    )
    template = application.requisition.template_version.template()
    ratings = [
        {"competency": c, "score": 3, "evidence": EVIDENCE}
        for c in template.interview(other.interview_key).competencies
    ]
    submitted = client.post(
        f"/api/v1/interviews/{other.id}/scorecard/submit",
        json={"ratings": ratings, "recommendation": "yes", "summary": SUMMARY},
        headers=auth(other.interviewer),
    )
    assert submitted.status_code == 200, submitted.json
    packet = client.post(
        f"/api/v1/applications/{application.id}/packets",
        json={"anonymized": False},
        headers=auth(recruiter),
    )
    assert packet.status_code == 202, packet.json
    # An endpoint on a documentation address (192.0.2.0/24): never reachable, refused
    # before any connection, so the sweep's pings and redeliveries send nothing.
    endpoint = WebhookEndpoint(url="https://192.0.2.1/hooks", events=["*"], secret="s" * 20)
    session.add(endpoint)
    session.flush()
    delivery = WebhookDelivery(
        public_id="dlv_sweep",
        endpoint_id=endpoint.id,
        event_id=session.scalars(select(OutboxEvent.id)).first(),
    )
    session.add(delivery)
    session.flush()
    return {
        "manager": manager,
        "ids": {
            "application_id": application.id,
            "requisition_id": application.requisition_id,
            "candidate_id": application.candidate_id,
            "interview_id": own.id,
            "other_interview_id": other.id,
            "packet_id": packet.json["id"],
            "interviewer_id": other.interviewer_id,
            "user_id": other.interviewer_id,
            "token_id": 1,
            "webhook_id": endpoint.id,
            "delivery_id": delivery.id,
            "template_key": application.requisition.template_version.key,
        },
        "own": own,
    }


def every_call(app, ids):
    """(method, path) for every route of the app, each path parameter filled from `ids`;
    an interview id is tried as the panelist's own and as the other panelist's."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "docs.asset", "web.static"):
            continue  # files shipped with the app (the docs page's Swagger UI, the pages' CSS)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            choices = [{}]
            for name in rule.arguments:
                # A route with a new kind of id must be taught here, never skipped.
                assert name in ids, f"{rule.rule}: give the sweep a value for <{name}>"
                values = [ids[name]]
                if name == "interview_id":
                    values.append(ids["other_interview_id"])
                choices = [{**c, name: v} for c in choices for v in values]
            for values in choices:
                path = rule.rule
                for name, value in values.items():
                    path = path.replace(f"<int:{name}>", str(value)).replace(
                        f"<{name}>", str(value)
                    )
                yield method, path


def readable_text(response) -> str:
    if response.mimetype == "application/pdf":
        return subprocess.run(
            ["pdftotext", "-", "-"], input=response.data, capture_output=True, check=True
        ).stdout.decode()
    return response.get_data(as_text=True)


@contextmanager
def forms_without_csrf(app):
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        yield
    finally:
        app.config["WTF_CSRF_ENABLED"] = True


def leaks(client, app, user, ids):
    found = []
    with forms_without_csrf(app):
        for method, path in every_call(app, ids):
            found += _leaks_of(client, user, method, path)
    return sorted(set(found))


def _leaks_of(client, user, method, path):
    found = []
    for accept in ("application/json", "text/csv"):
        signed_in_page_session(client, user)  # again each time: the sweep posts to sign-out
        response = client.open(
            path,
            method=method,
            json={"anonymized": False} if method in ("POST", "PUT", "PATCH") else None,
            headers={**auth(user), "Accept": accept},
        )
        assert response.status_code < 500, (method, path, response.data[:300])
        if response.status_code < 400 and any(
            secret in readable_text(response) for secret in SECRETS
        ):
            found.append((method, path.split("?")[0]))
    return found


def test_no_route_shows_others_feedback_to_a_panelist_who_owes_a_scorecard(
    app, client, session, panel
):
    assert leaks(client, app, panel["manager"], panel["ids"]) == []


def test_the_sweep_reaches_the_pages_signed_in(client, session, panel):
    signed_in_page_session(client, panel["manager"])
    page = client.get(f"/interviews/{panel['own'].id}")
    assert page.status_code == 200
    assert "after you submit yours" in page.get_data(as_text=True)


def test_the_sweep_finds_the_feedback_where_it_may_be_read(app, client, session, panel, recruiter):
    shown = leaks(client, app, recruiter, panel["ids"])
    ids = panel["ids"]
    assert {
        ("GET", f"/api/v1/applications/{ids['application_id']}/scorecards"),
        ("GET", f"/api/v1/applications/{ids['application_id']}/assessment"),
        ("GET", f"/api/v1/packets/{ids['packet_id']}/pdf"),
    } <= set(shown)


@pytest.mark.parametrize(("method", "route"), FEEDBACK_READS)
def test_each_reader_of_feedback_refuses_until_the_panelist_has_submitted(
    client, session, panel, method, route
):
    response = client.open(
        route.format(**panel["ids"]),
        method=method,
        json={"anonymized": False} if method == "POST" else None,
        headers=auth(panel["manager"]),
    )
    assert response.status_code == 403, response.json
    assert response.json["pending_interview_ids"] == [panel["own"].id]


def test_a_refused_read_leaves_the_panelists_own_scorecard_independent(client, session, panel):
    manager, ids, own = panel["manager"], panel["ids"], panel["own"]
    for method, route in FEEDBACK_READS:
        client.open(route.format(**ids), method=method, headers=auth(manager))
    template = own.application.requisition.template_version.template()
    ratings = [
        {
            "competency": c,
            "score": 2,
            "evidence": "Walked through the failure modes of a queue, then chose at-least-once delivery.",
        }
        for c in template.interview(own.interview_key).competencies
    ]
    submitted = client.post(
        f"/api/v1/interviews/{own.id}/scorecard/submit",
        json={"ratings": ratings, "recommendation": "no", "summary": "Solid basics."},
        headers=auth(manager),
    )
    assert submitted.status_code == 200, submitted.json
    assert submitted.json["revisions"][-1]["after_seeing_others"] is False

    # Now the packet opens to them, and that first read is what an amendment is measured by.
    assert (
        client.get(f"/api/v1/packets/{ids['packet_id']}", headers=auth(manager)).status_code == 200
    )
    assert session.query(ScorecardView).filter_by(user_id=manager.id).count() == 1
    amended = client.post(
        f"/api/v1/interviews/{own.id}/scorecard/amendments",
        json={
            "ratings": ratings,
            "recommendation": "yes",
            "summary": "Solid basics.",
            "reason": "Reconsidered",
        },
        headers=auth(manager),
    )
    assert amended.status_code == 201, amended.json
    assert amended.json["revisions"][-1]["after_seeing_others"] is True


def test_a_hiring_manager_who_owes_a_scorecard_cannot_decide(client, session, panel):
    response = client.post(
        f"/api/v1/applications/{panel['ids']['application_id']}/decision",
        json={"outcome": "hire", "rationale": "Strong.", "packet_id": panel["ids"]["packet_id"]},
        headers=auth(panel["manager"]),
    )
    assert response.status_code == 403, response.json
    assert response.json["pending_interview_ids"] == [panel["own"].id]
