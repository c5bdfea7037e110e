"""Record the OpenAPI document's examples from real calls: the README's flows, run on a
fresh demo database at a fixed clock, through the app's own test client.

Writes `service/http/examples.json` (per operationId, the request body sent and the
response body received), which `service.http.openapi` puts into the document.
`tests/api/test_openapi.py` checks every example against its operation's schema, so
an example cannot drift from the contract; run this again after changing a main flow:

    .venv/bin/python scripts/api_examples.py
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import time_machine

FIXED_CLOCK = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)
OUTPUT = Path(__file__).resolve().parent.parent / "service/http/examples.json"
J = "application/json"

REVIEW = [
    {
        "competency": "coding",
        "score": 3,
        "evidence": "Added the cancel endpoint with an idempotency key and a test for double cancel.",
    },
    {
        "competency": "problem_solving",
        "score": 3,
        "evidence": "Asked what happens when the refund times out, then chose retry with the same key.",
    },
    {"competency": "collaboration", "score": None, "evidence": ""},
]


class Recorder:
    def __init__(self, client: Any, tokens: dict[str, str]) -> None:
        self.client, self.tokens = client, tokens
        self.examples: dict[str, dict[str, Any]] = {}

    def call(
        self, operation_id: str, who: str, method: str, url: str, body: Any = None, **headers: str
    ) -> Any:
        headers["Authorization"] = f"Bearer {self.tokens[who]}"
        response = self.client.open(url, method=method, json=body, headers=headers)
        if response.status_code >= 400:
            raise SystemExit(f"{method} {url} answered {response.status_code}: {response.json}")
        example: dict[str, Any] = {"response": response.json}
        if body is not None:
            example["request"] = body
        self.examples[operation_id] = example
        return response.json


def recruiter_and_interviewer(r: Recorder) -> None:
    """The README's recruiter flow, then Alex's scorecard for the demo onsite."""
    recruiter, alex, manager = "recruiter@example.com", "alex@example.com", "hm.backend@example.com"
    r.call("get_me", recruiter, "GET", "/api/v1/me")
    r.call("list_applications", recruiter, "GET", "/api/v1/applications?status=active&limit=2")
    r.call("list_users", recruiter, "GET", "/api/v1/users?role=interviewer&limit=2")
    requisition = r.call(
        "create_requisition",
        recruiter,
        "POST",
        "/api/v1/requisitions",
        {
            "title": "Staff Backend Engineer, Ledger",
            "team": "Payments",
            "hiring_manager_id": r.call("get_me", manager, "GET", "/api/v1/me")["id"],
            "recruiter_id": r.call("get_me", recruiter, "GET", "/api/v1/me")["id"],
            "template_key": "backend_engineer",
            "headcount": 1,
        },
    )
    candidate = r.call(
        "create_candidate",
        recruiter,
        "POST",
        "/api/v1/candidates",
        {"name": "Grace Hopper", "email": "grace@example.org", "source": "referral"},
    )
    application = r.call(
        "create_application",
        recruiter,
        "POST",
        "/api/v1/applications",
        {"candidate_id": candidate["id"], "requisition_id": requisition["id"]},
    )
    r.call(
        "move_application",
        recruiter,
        "POST",
        f"/api/v1/applications/{application['id']}/moves",
        {"from_stage": "applied", "to_stage": "recruiter_screen", "reason": "Strong CV"},
        **{"If-Match": f'"{application["version"]}"'},
    )
    r.call("get_application", recruiter, "GET", f"/api/v1/applications/{application['id']}")
    r.call(
        "get_application_timeline",
        recruiter,
        "GET",
        f"/api/v1/applications/{application['id']}/timeline",
    )

    r.call("list_tasks", alex, "GET", "/api/v1/me/tasks")
    r.call("list_interviews", alex, "GET", "/api/v1/interviews?pending=true")
    r.call("get_interview_kit", alex, "GET", "/api/v1/interviews/2/kit")
    draft = {"ratings": REVIEW[:1], "summary": "Great culture fit."}
    r.call("save_scorecard_draft", alex, "PUT", "/api/v1/interviews/2/scorecard", draft)
    submission = {
        "ratings": REVIEW,
        "recommendation": "yes",
        "summary": "Careful with money paths; tested the failure cases unprompted.",
    }
    r.call("submit_scorecard", alex, "POST", "/api/v1/interviews/2/scorecard/submit", submission)
    r.call("get_interview_loop", recruiter, "GET", "/api/v1/applications/1/loop")


def hiring_manager(r: Recorder) -> None:
    """Once the panel is in (`hiring demo-packet`): assessment, packet, decision."""
    manager = "hm.backend@example.com"
    r.call("get_application_assessment", manager, "GET", "/api/v1/applications/1/assessment")
    packet = r.call(
        "request_packet", manager, "POST", "/api/v1/applications/1/packets", {"anonymized": False}
    )
    r.call("get_packet", manager, "GET", f"/api/v1/packets/{packet['id']}")
    r.call(
        "record_decision",
        manager,
        "POST",
        "/api/v1/applications/1/decision",
        {
            "outcome": "hire",
            "packet_id": packet["id"],
            "rationale": "Strong on code and ownership; the design gap is coachable.",
        },
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as instance, time_machine.travel(FIXED_CLOCK, tick=False):
        from service import create_app

        app = create_app({"INSTANCE_PATH": instance})
        runner = app.test_cli_runner()
        for command in (["db", "upgrade"], ["templates", "sync"], ["demo"]):
            result = runner.invoke(args=command, catch_exceptions=False)
            if result.exit_code != 0:
                raise SystemExit(f"`hiring {' '.join(command)}` failed:\n{result.output}")
        lines = Path(instance, "demo-tokens.txt").read_text().splitlines()
        tokens = {email: token for _, email, token in (line.split() for line in lines)}
        recorder = Recorder(app.test_client(), tokens)
        recruiter_and_interviewer(recorder)
        result = runner.invoke(args=["demo-packet"], catch_exceptions=False)
        if result.exit_code != 0:
            raise SystemExit(f"`hiring demo-packet` failed:\n{result.output}")
        hiring_manager(recorder)
    OUTPUT.write_text(json.dumps(recorder.examples, indent=1, sort_keys=True) + "\n")
    print(f"{len(recorder.examples)} operations' examples written to {OUTPUT}")


if __name__ == "__main__":
    main()
