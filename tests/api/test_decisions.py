"""Decisions over HTTP: one current per application, changes supersede it with a reason and
If-Match, the cited packet must show the current data, later amendments are marked, and the
application shows its current decision and latest packet behind the blind rule."""

import pytest
from sqlalchemy.exc import IntegrityError

from service.persistence.packets import Decision, Packet
from service.usecases import packets as packet_usecases
from tests.api import test_packets
from tests.api.conftest import auth
from tests.api.test_packets import (
    download,
    manager_of,
    pdf_text,
    request,
    submit,
    submit_panel,
)
from tests.factories import UserFactory

PROBLEM = "application/problem+json"

loop = test_packets.loop  # the fixture: an application whose two-person panel has submitted


def decide(client, loop, packet_id, outcome="hire", if_match=None, **body):
    headers = auth(manager_of(loop)) | ({"If-Match": if_match} if if_match is not None else {})
    return client.post(
        f"/api/v1/applications/{loop[0].application_id}/decision",
        json={"outcome": outcome, "packet_id": packet_id, **body},
        headers=headers,
    )


def fresh_packet(client, loop):
    return request(client, manager_of(loop), loop[0].application_id).json


def amend(client, interview, score=2):
    template = interview.application.requisition.template_version.template()
    ratings = [
        {
            "competency": c,
            "score": score,
            "evidence": "On reflection the parser missed the empty input and the nested case.",
        }
        for c in template.interview(interview.interview_key).competencies
    ]
    response = client.post(
        f"/api/v1/interviews/{interview.id}/scorecard/amendments",
        json={
            "ratings": ratings,
            "recommendation": "no",
            "summary": "Revisited after the debrief notes.",
            "reason": "Misread my notes",
        },
        headers=auth(interview.interviewer),
    )
    assert response.status_code == 201, response.json


def history(client, user, loop):
    return client.get(f"/api/v1/applications/{loop[0].application_id}/decision", headers=auth(user))


def application(client, user, loop):
    return client.get(f"/api/v1/applications/{loop[0].application_id}", headers=auth(user))


@pytest.fixture
def decided(client, session, loop):
    """The panel has submitted and the manager decided to hire on packet 1."""
    submit_panel(client, loop)
    first = decide(client, loop, fresh_packet(client, loop)["id"])
    assert first.status_code == 201, first.json
    return first.json


def test_first_decision_is_version_1_with_its_etag(client, session, loop, decided):
    assert decided["version"] == 1 and decided["current"] is True
    shown = history(client, manager_of(loop), loop)
    assert shown.headers["ETag"] == '"1"'
    assert (shown.json["version"], shown.json["current"]["id"]) == (1, decided["id"])


def test_changing_a_decision_without_if_match_is_428(client, session, loop, decided):
    response = decide(
        client, loop, fresh_packet(client, loop)["id"], "no_hire", rationale="r", reason="x"
    )
    assert response.status_code == 428 and response.mimetype == PROBLEM
    assert response.json["current_version"] == 1
    assert "If-Match" in response.json["detail"]


def test_a_stale_if_match_is_412_naming_the_current_version(client, session, loop, decided):
    packet = fresh_packet(client, loop)
    change = {"rationale": "Reference check", "reason": "New information"}
    assert (
        decide(client, loop, packet["id"], "no_hire", if_match='"1"', **change).status_code == 201
    )
    stale = decide(client, loop, packet["id"], "hire", if_match='"1"', reason="Back again")
    assert stale.status_code == 412 and stale.mimetype == PROBLEM
    assert stale.json["current_version"] == 2
    assert "version 2, not 1" in stale.json["detail"]


def test_if_match_on_a_first_decision_must_be_0(client, session, loop):
    submit_panel(client, loop)
    packet = fresh_packet(client, loop)
    assert decide(client, loop, packet["id"], if_match='"3"').status_code == 412
    assert decide(client, loop, packet["id"], if_match='"0"').status_code == 201


def test_an_if_match_that_is_not_a_version_is_400(client, session, loop, decided):
    response = decide(client, loop, fresh_packet(client, loop)["id"], if_match="yesterday")
    assert response.status_code == 400
    assert "not a decision version" in response.json["detail"]


def test_a_change_needs_a_reason(client, session, loop, decided):
    packet = fresh_packet(client, loop)
    response = decide(client, loop, packet["id"], "no_hire", if_match='"1"', rationale="Refs")
    assert response.status_code == 422
    assert [e["field"] for e in response.json["errors"]] == ["reason"]


def test_a_change_supersedes_the_current_decision_and_keeps_both(client, session, loop, decided):
    packet = fresh_packet(client, loop)
    second = decide(
        client,
        loop,
        packet["id"],
        "no_hire",
        if_match='"1"',
        rationale="Reference check raised a concern the panel could not see.",
        reason="The reference check came back after the first call.",
    )
    assert second.status_code == 201 and second.headers["ETag"] == '"2"'
    shown = history(client, manager_of(loop), loop)
    first, latest = shown.json["items"]
    assert shown.headers["ETag"] == '"2"' and shown.json["current"]["id"] == latest["id"]
    assert (first["current"], first["superseded_by_id"], first["superseded_at"]) == (
        False,
        latest["id"],
        latest["created_at"],
    )
    assert (latest["supersedes_id"], latest["version"], latest["outcome"]) == (
        first["id"],
        2,
        "no_hire",
    )
    assert latest["reason"] == "The reference check came back after the first call."
    assert session.query(Decision).filter_by(application_id=loop[0].application_id).count() == 2


def test_a_supersession_is_audited_with_who_and_why(client, session, loop, decided):
    reason = "The reference check came back after the first call."
    decide(
        client,
        loop,
        fresh_packet(client, loop)["id"],
        "no_hire",
        '"1"',
        rationale="R",
        reason=reason,
    )
    events = client.get(
        f"/api/v1/audit?entity_type=application&entity_id={loop[0].application_id}"
        "&action=decision.superseded",
        headers=auth(UserFactory(role="admin")),
    ).json["items"]
    assert len(events) == 1
    event = events[0]
    assert event["reason"] == reason
    assert event["after"]["superseded_by_id"] != decided["id"]
    assert event["before"]["superseded_at"] is None and event["after"]["superseded_at"]


def test_a_packet_from_before_the_decision_is_stale_for_a_change(client, session, loop, decided):
    """The decision is one of the packet's inputs: a change is made on a packet that shows it."""
    response = decide(
        client, loop, decided["packet_id"], "no_hire", '"1"', rationale="R", reason="x"
    )
    assert response.status_code == 409
    assert response.json["newest_packet_id"] is None
    assert f"POST /api/v1/applications/{loop[0].application_id}/packets" in response.json["detail"]


def test_a_packet_older_than_an_amendment_is_refused_naming_the_newest(client, session, loop):
    submit_panel(client, loop)
    old = fresh_packet(client, loop)
    amend(client, loop[1])
    newest = fresh_packet(client, loop)
    response = decide(client, loop, old["id"], "no_hire", rationale="Mixed panel")
    assert response.status_code == 409 and response.mimetype == PROBLEM
    assert (response.json["packet_id"], response.json["newest_packet_id"]) == (
        old["id"],
        newest["id"],
    )
    assert f"decide on packet {newest['id']} (version 2)" in response.json["detail"]
    assert decide(client, loop, newest["id"], "no_hire", rationale="Mixed panel").status_code == 201


def test_a_packet_older_than_a_stage_move_is_refused(client, session, loop, recruiter):
    submit_panel(client, loop)
    packet = fresh_packet(client, loop)
    app = loop[0].application
    to_stage = app.requisition.template_version.template().allowed_moves(app.stage)[0]
    moved = client.post(
        f"/api/v1/applications/{app.id}/moves",
        json={"from_stage": app.stage, "to_stage": to_stage},
        headers=auth(recruiter),
    )
    assert moved.status_code == 200, moved.json
    response = decide(client, loop, packet["id"])
    assert response.status_code == 409
    assert response.json["newest_packet_id"] is None


def test_only_one_decision_can_be_current_in_the_database(client, session, loop, decided):
    session.add(
        Decision(
            application_id=loop[0].application_id,
            version=2,
            decided_by_id=manager_of(loop).id,
            outcome="no_hire",
        )
    )
    with pytest.raises(IntegrityError), session.begin_nested():
        session.flush()


def test_parallel_first_decisions_never_both_become_current(
    client, session, loop, decided, monkeypatch
):
    """The second request read the application before the first one committed: it saw no
    decision and the packet as current. The index refuses it; the client gets 409."""
    from service.usecases import decisions

    reads = iter([None])  # the first read misses the other decision; a later one sees it
    real = decisions.current_decision
    monkeypatch.setattr(decisions, "current_decision", lambda *args: next(reads, real(*args)))
    packet = session.get(Packet, decided["packet_id"])
    monkeypatch.setattr(packet_usecases, "packet_content", lambda *args: packet.content)
    response = decide(client, loop, packet.id, "no_hire", rationale="Too late")
    monkeypatch.undo()
    assert response.status_code == 409 and response.mimetype == PROBLEM
    assert response.json["current_version"] == 1
    assert "at the same time" in response.json["detail"]
    shown = history(client, manager_of(loop), loop).json
    assert [d["outcome"] for d in shown["items"]] == ["hire"]


def test_a_scorecard_amended_after_the_decision_is_marked(client, session, loop, decided):
    amend(client, loop[1])
    shown = history(client, manager_of(loop), loop).json["current"]
    scorecard_id = client.get(
        f"/api/v1/interviews/{loop[1].id}/scorecard", headers=auth(loop[1].interviewer)
    ).json["id"]
    [change] = shown["changed_after_decision"]
    assert (change["scorecard_id"], change["interview_id"], change["revision"]) == (
        scorecard_id,
        loop[1].id,
        2,
    )
    assert change["amended_at"] > shown["created_at"]
    assert application(client, manager_of(loop), loop).json["decision"]["changed_after_decision"]


def test_a_later_packet_marks_the_scorecard_changed_after_the_decision(
    client, session, loop, decided
):
    manager = manager_of(loop)
    before = pdf_text(download(client, manager, fresh_packet(client, loop)["id"]).data)
    assert "changed after the decision" not in before.lower()
    amend(client, loop[1])
    text = pdf_text(download(client, manager, fresh_packet(client, loop)["id"]).data)
    assert "Changed after the decision" in text  # next to the scorecard
    assert "Feedback changed after the decision" in text  # on the decision page


def test_the_application_shows_its_current_decision_and_latest_packet(
    client, session, loop, decided
):
    shown = application(client, manager_of(loop), loop).json
    assert shown["decision"] == {
        "id": decided["id"],
        "version": 1,
        "outcome": "hire",
        "decided_at": decided["created_at"],
        "decided_by": decided["decided_by"],
        "packet_id": decided["packet_id"],
        "changed_after_decision": False,
    }
    assert shown["latest_packet"] == {
        "id": decided["packet_id"],
        "version": 1,
        "status": "ready",
        "anonymized": False,
    }


def test_an_application_without_packets_shows_nulls(client, session, loop):
    shown = application(client, manager_of(loop), loop).json
    assert (shown["decision"], shown["latest_packet"]) == (None, None)


def test_a_panelist_who_owes_a_scorecard_learns_nothing_of_the_decision(client, session, loop):
    submit(client, loop[0], 3, "Wrote a working parser and explained each test case he added.")
    assert decide(client, loop, fresh_packet(client, loop)["id"]).status_code == 201
    blind = application(client, loop[1].interviewer, loop)
    assert blind.status_code == 200
    assert (blind.json["decision"], blind.json["latest_packet"]) == (None, None)
    assert history(client, loop[1].interviewer, loop).status_code == 403


def test_a_panelist_who_submitted_sees_the_decision_but_no_packet(client, session, loop, decided):
    shown = application(client, loop[0].interviewer, loop).json
    assert shown["decision"]["outcome"] == "hire"
    assert shown["latest_packet"] is None
