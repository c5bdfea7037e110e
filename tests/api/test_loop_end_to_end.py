"""A whole loop for one application, through HTTP only: five interviewers, all submitting."""

from datetime import timedelta

from service.persistence.base import utcnow
from tests.api.conftest import auth
from tests.factories import UserFactory

EVIDENCE = {
    1: "Could not get a working solution; stalled on the data model and did not test edge cases.",
    2: "Reached a partial solution with two hints; named one failure mode but not how to detect it.",
    3: "Solved it cleanly, explained the trade-off between a queue and polling, and tested edge cases.",
    4: "Solved it, then generalised the design for multi-region and named three failure modes with alarms.",
}


def test_full_loop_with_five_interviewers(client, session):
    recruiter, manager = UserFactory(role="recruiter"), UserFactory(role="hiring_manager")
    panel = [UserFactory(role="interviewer") for _ in range(5)]
    r, m = auth(recruiter), auth(manager)

    requisition = client.post(
        "/api/v1/requisitions",
        headers=r,
        json={
            "title": "Backend Engineer",
            "hiring_manager_id": manager.id,
            "template_key": "backend_engineer",
        },
    ).json
    candidate = client.post(
        "/api/v1/candidates", headers=r, json={"name": "Ada Lovelace", "email": "ada@example.org"}
    ).json
    application = client.post(
        "/api/v1/applications",
        headers=r,
        json={"candidate_id": candidate["id"], "requisition_id": requisition["id"]},
    ).json
    app_id = application["id"]

    loop = client.get(f"/api/v1/applications/{app_id}/loop", headers=r).json
    onsite = [i for i in loop["interviews"] if i["stage"] == "onsite"]
    screen = next(i for i in loop["interviews"] if i["stage"] != "onsite")
    slots = [screen, *onsite[:4]]
    assert len(slots) == 5

    # Walk the pipeline to the onsite stage, scheduling and completing the screen on the way.
    interviews = []
    start = utcnow() - timedelta(hours=10)
    for number, (slot, interviewer) in enumerate(zip(slots, panel, strict=False)):
        current = client.get(f"/api/v1/applications/{app_id}", headers=r).json
        while current["stage"] != slot["stage"]:
            current = client.post(
                f"/api/v1/applications/{app_id}/moves",
                headers=r,
                json={
                    "from_stage": current["stage"],
                    "to_stage": current["allowed_moves"][0],
                    "reason": "passed",
                },
            ).json
        created = client.post(
            f"/api/v1/applications/{app_id}/interviews",
            headers=r,
            json={
                "interview_key": slot["key"],
                "interviewer_id": interviewer.id,
                "starts_at": (start + timedelta(hours=number * 2)).isoformat(),
            },
        )
        assert created.status_code == 201, created.json
        interview = created.json
        assert (
            client.post(
                f"/api/v1/interviews/{interview['id']}/complete", headers=r, json={}
            ).status_code
            == 200
        )
        interviews.append(interview)

    scores = [3, 4, 3, 2, 3]
    for index, (interview, interviewer, score) in enumerate(
        zip(interviews, panel, scores, strict=False)
    ):
        headers = auth(interviewer)
        kit = client.get(f"/api/v1/interviews/{interview['id']}/kit", headers=headers).json
        ratings = [
            {"competency": c["key"], "score": score, "evidence": EVIDENCE[score]}
            for c in kit["competencies"]
        ]
        draft = client.put(
            f"/api/v1/interviews/{interview['id']}/scorecard",
            headers=headers,
            json={"ratings": ratings[:1]},
        )
        assert draft.status_code == 200
        if index:  # the earlier panelists have submitted; this one may not read them yet
            blocked = client.get(f"/api/v1/applications/{app_id}/scorecards", headers=headers)
            assert blocked.status_code == 403
        submitted = client.post(
            f"/api/v1/interviews/{interview['id']}/scorecard/submit",
            headers=headers,
            json={
                "ratings": ratings,
                "recommendation": "yes" if score >= 3 else "no",
                "summary": "Evidence as noted per competency.",
            },
        )
        assert submitted.status_code == 200, submitted.json
        opened = client.get(f"/api/v1/applications/{app_id}/scorecards", headers=headers)
        assert opened.status_code == 200
        assert len(opened.json["items"]) == index + 1

    everything = client.get(f"/api/v1/applications/{app_id}/scorecards", headers=m).json["items"]
    assert sorted(s["author"]["id"] for s in everything) == sorted(u.id for u in panel)
    assert all(not s["revisions"][0]["after_seeing_others"] for s in everything)
    final_loop = client.get(f"/api/v1/applications/{app_id}/loop", headers=m).json
    held = [i for i in final_loop["interviews"] if i["state"] == "completed"]
    assert len(held) == 5
    assert all(i["interviews"][0]["scorecard"] == "submitted" for i in held)
