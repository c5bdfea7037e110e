"""A client generated from the document runs the hiring flow, typed end to end.

openapi-python-client (pinned) writes a package from the served document into a
tmp dir once per session; the test drives the app through it over WSGI:
recruiter → interviewer → hiring manager. A document the generator cannot
type (a bare `{}`, an array without items) would drop models and fail here.
"""

import importlib
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from service.persistence.base import utcnow
from tests.factories import UserFactory

PACKAGE = "hiring_client"
_generated: dict[str, Path] = {}


@pytest.fixture
def api(app, client, tmp_path_factory):
    """The generated package, imported (generated once: both databases serve one document)."""
    if "root" not in _generated:
        root = tmp_path_factory.mktemp("client")
        document = root / "openapi.json"
        document.write_bytes(app.test_client().get("/api/v1/openapi.json").data)
        generator = Path(sys.executable).parent / "openapi-python-client"
        subprocess.run(
            [
                generator,
                "generate",
                "--path",
                document,
                "--meta",
                "none",
                "--output-path",
                root / PACKAGE,
            ],
            check=True,
            capture_output=True,
        )
        _generated["root"] = root
    sys.path.insert(0, str(_generated["root"]))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(_generated["root"]))


def connect(api, app, user):
    client = importlib.import_module(f"{PACKAGE}.client")
    return client.AuthenticatedClient(
        base_url="http://localhost",
        token=user.token,
        raise_on_unexpected_status=True,
        httpx_args={"transport": httpx.WSGITransport(app=app)},
    )


def module(name):
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_generated_client_runs_recruiter_interviewer_manager_flow(api, app, session):
    models = module("models")
    recruiter, manager = UserFactory(role="recruiter"), UserFactory(role="hiring_manager")
    interviewer = UserFactory(role="interviewer")
    as_recruiter, as_interviewer, as_manager = (
        connect(api, app, u) for u in (recruiter, interviewer, manager)
    )

    requisition = module("api.requisitions.create_requisition").sync(
        client=as_recruiter,
        body=models.RequisitionCreate(
            title="Backend Engineer", hiring_manager_id=manager.id, template_key="backend_engineer"
        ),
    )
    assert isinstance(requisition, models.Requisition)
    candidate = module("api.candidates.create_candidate").sync(
        client=as_recruiter,
        body=models.CandidateWrite(name="Grace Hopper", email="grace@example.org"),
    )
    assert isinstance(candidate, models.Candidate)
    application = module("api.applications.create_application").sync(
        client=as_recruiter,
        body=models.ApplicationCreate(candidate_id=candidate.id, requisition_id=requisition.id),
    )
    assert isinstance(application, models.Application)

    loop = module("api.interviews.get_interview_loop").sync(application.id, client=as_recruiter)
    screen = next(i for i in loop.interviews if i.stage != "onsite")
    while application.stage != screen.stage:
        application = module("api.applications.move_application").sync(
            application.id,
            client=as_recruiter,
            body=models.Move(
                from_stage=application.stage,
                to_stage=application.allowed_moves[0],
                reason="Strong CV",
            ),
            if_match=f'"{application.version}"',
        )
        assert isinstance(application, models.Application)
    interview = module("api.interviews.schedule_interview").sync(
        application.id,
        client=as_recruiter,
        body=models.InterviewCreate(
            interview_key=screen.key,
            interviewer_id=interviewer.id,
            starts_at=utcnow() - timedelta(hours=2),
        ),
    )
    assert isinstance(interview, models.Interview)
    module("api.interviews.complete_interview").sync(
        interview.id, client=as_recruiter, body=models.Complete()
    )

    kit = module("api.interviews.get_interview_kit").sync(interview.id, client=as_interviewer)
    ratings = [
        models.Rating(
            competency=c.key,
            score=3,
            evidence="Walked through the design, named the trade-offs and chose the simpler one.",
        )
        for c in kit.competencies
    ]
    scorecard = module("api.scorecards.submit_scorecard").sync(
        interview.id,
        client=as_interviewer,
        body=models.ScorecardWrite(
            ratings=ratings, recommendation="yes", summary="Evidence as noted."
        ),
    )
    assert isinstance(scorecard, models.Scorecard)
    assert scorecard.state == "submitted"

    packet = module("api.packets.request_packet").sync(
        application.id, client=as_manager, body=models.PacketRequest()
    )
    assert isinstance(packet, models.Packet)
    packet = module("api.packets.get_packet").sync(packet.id, client=as_manager)
    assert packet.status == "ready"
    decision = module("api.packets.record_decision").sync(
        application.id,
        client=as_manager,
        body=models.DecisionCreate(
            outcome=models.DecisionCreateOutcome("hire"),
            packet_id=packet.id,
            rationale="Strong evidence across competencies.",
        ),
    )
    assert isinstance(decision, models.Decision), decision
