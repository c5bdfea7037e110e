"""A candidate's data rights over HTTP: the export holds everything, the erasure leaves
none of their values anywhere (every table, every route, the packet files) while
calibration and the adverse-impact figures stay the same, and a returning candidate
is recognised."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from service.domain.calibration import fit
from service.persistence.audit import AuditEvent
from service.persistence.base import Base, utcnow
from service.persistence.data_protection import AuditScrub
from service.persistence.packets import Packet
from service.persistence.scorecards import ScorecardRating
from service.usecases import applications
from service.usecases.calibration import load_ratings
from service.usecases.self_identification import record_self_identification
from tests.api.conftest import auth
from tests.api.reports_helpers import answers, cohort
from tests.api.test_blind_rule import every_call, readable_text
from tests.api.test_scorecards import card
from tests.factories import InterviewFactory, RequisitionFactory, UserFactory

PROFILE = {
    "name": "Zelda Quorra-Vance",
    "email": "zelda.quorra@example.org",
    "phone": "+1 415 555 0199",
    "links": ["https://github.com/zquorra"],
    "resume_text": "Led the Frobozz compiler rewrite; speaker at Gnomecon.",
    "source": "referral",
}
# Each must be gone after the erasure, wherever it was written.
VALUES = (
    "Zelda",
    "Quorra",
    "Vance",
    "zelda.quorra@example.org",
    "555 0199",
    "5550199",
    "github.com/zquorra",
    "Frobozz",
    "Gnomecon",
)
EVIDENCE = (
    "Zelda rewrote the parser with tests for every edge case; "
    "see github.com/zquorra for the write-up, or call +1 415 555 0199."
)


def erase(client, user, candidate_id, reason="The candidate asked by email on 30 Nov."):
    return client.post(
        f"/api/v1/candidates/{candidate_id}/erasure", json={"reason": reason}, headers=auth(user)
    )


def interview(application, interviewer, hours_ago):
    return InterviewFactory(
        application=application,
        interviewer=interviewer,
        starts_at=utcnow() - timedelta(hours=hours_ago),
        status="completed",
    )


@pytest.fixture
def world(client, session, recruiter):
    """Zelda in the middle of a realistic data set: a requisition with 24 self-identified
    applicants besides her, a loop of scorecards (three interviewers who also rated
    others), a named packet rendered to a file, a rejection with a note, and the audit."""
    requisition = RequisitionFactory()
    cohort(session, recruiter, requisition, 20, 12, sex="female")
    cohort(session, recruiter, requisition, 20, 14, sex="male")
    created = client.post("/api/v1/candidates", json=PROFILE, headers=auth(recruiter))
    assert created.status_code == 201, created.json
    zelda = created.json["id"]
    application = applications.create_application(session, recruiter, zelda, requisition.id)
    record_self_identification(session, recruiter, application.id, answers(sex="female"))
    for to_stage in ("recruiter_screen", "technical_screen"):
        applications.move_application(
            session,
            recruiter,
            application.id,
            from_stage=application.stage,
            to_stage=to_stage,
            reason="Zelda Quorra-Vance is strong",
        )
    panel = [UserFactory(role="interviewer") for _ in range(3)]
    others = [
        applications.create_application(session, recruiter, c.json["id"], requisition.id)
        for c in (
            client.post(
                "/api/v1/candidates",
                json={"name": f"Other {n}", "email": f"other{n}@example.org"},
                headers=auth(recruiter),
            )
            for n in range(3)
        )
    ]
    pairs = [(application, panel[0], panel[1])] + [
        (other, panel[n % 3], panel[(n + 1) % 3]) for n, other in enumerate(others)
    ]
    for number, (app_, first, second) in enumerate(pairs):
        for offset, (who, scores) in enumerate(((first, (3, 2)), (second, (2, 4)))):
            held = interview(app_, who, hours_ago=5 + 2 * number + offset)
            mine = app_ is application
            body = card(
                scores=scores,
                evidence=EVIDENCE
                if mine
                else "Wrote clear tests first, named things well and asked why the limit was there.",
                summary=f"{PROFILE['name']} is ready." if mine else "Ready.",
            )
            response = client.post(
                f"/api/v1/interviews/{held.id}/scorecard/submit",
                json=body,
                headers=auth(who),
            )
            assert response.status_code == 200, response.json
    packet = client.post(
        f"/api/v1/applications/{application.id}/packets",
        json={"anonymized": False},
        headers=auth(recruiter),
    )
    assert packet.status_code == 202 and packet.json["status"] == "ready", packet.json
    applications.change_status(
        session,
        recruiter,
        application.id,
        "reject",
        rejection_reason="skills_gap",
        reason="Zelda took another offer; reach her at zelda.quorra@example.org",
    )
    return {"candidate_id": zelda, "application": application, "packet_id": packet.json["id"]}


def database_text(session) -> str:
    """Every value of every row of every table, as one text (the test's own dump)."""
    values = []
    for table in Base.metadata.sorted_tables:
        for row in session.execute(table.select()).all():
            values.extend(str(value) for value in row)
    return "\n".join(values)


def found(values, content):
    """The values present in `content` as words ("Vance", not the "vance" of "advance")."""
    return [v for v in values if re.search(rf"(?<!\w){re.escape(v)}(?!\w)", content, re.I)]


def test_the_export_before_erasure_contains_all_of_it(client, session, admin, world):
    response = client.get(f"/api/v1/candidates/{world['candidate_id']}/export", headers=auth(admin))
    assert response.status_code == 200, response.json
    body = response.json
    assert {k: body["candidate"][k] for k in PROFILE} == PROFILE
    (exported,) = body["applications"]
    assert [c["to_stage"] for c in exported["timeline"]][:3] == [
        "applied",
        "recruiter_screen",
        "technical_screen",
    ]
    assert len(exported["interviews"]) == 2
    evidence = [r["evidence"] for s in exported["scorecards"] for r in s["revisions"][0]["ratings"]]
    assert EVIDENCE in evidence
    assert [p["id"] for p in exported["packets"]] == [world["packet_id"]]
    assert exported["self_identification"]["sex"] == "female"
    assert {"candidate.created", "application.created"} <= {e["action"] for e in body["audit"]}
    assert session.scalar(
        select(AuditEvent.id).where(
            AuditEvent.action == "candidate.exported",
            AuditEvent.entity_id == world["candidate_id"],
        )
    )


def test_after_erasure_no_table_no_file_and_no_route_holds_any_of_their_values(
    app, client, session, admin, world
):
    storage_root = app.extensions["storage"].root
    packet = session.get(Packet, world["packet_id"])
    stored = storage_root / packet.storage_key
    assert stored.exists()
    assert found(VALUES, database_text(session))  # the check can fail

    response = erase(client, admin, world["candidate_id"])
    assert response.status_code == 200, response.json
    assert response.json["packets_deleted"] == 1
    assert response.json["self_identification_counted"] == 1
    assert response.json["audit_events_scrubbed"] > 0

    session.expire_all()
    assert found(VALUES, database_text(session)) == [], [r for r in _left(session)]
    assert not stored.exists()
    ids = {
        "candidate_id": world["candidate_id"],
        "application_id": world["application"].id,
        "requisition_id": world["application"].requisition_id,
        "packet_id": world["packet_id"],
        "interview_id": session.scalar(
            text("SELECT min(id) FROM interviews WHERE application_id = :a"),
            {"a": world["application"].id},
        ),
        "other_interview_id": 0,
        "interviewer_id": admin.id,
        "user_id": admin.id,
        "token_id": 1,
        "webhook_id": 1,
        "delivery_id": 1,
        "template_key": "backend_engineer",
    }
    for method, path in every_call(app, ids):
        if method != "GET":
            continue
        for accept in ("application/json", "text/csv"):
            answer = client.get(path, headers={**auth(admin), "Accept": accept})
            assert answer.status_code < 500, (path, answer.data[:200])
            if answer.status_code < 400:
                assert found(VALUES, readable_text(answer)) == [], path


def test_the_redacted_evidence_keeps_its_length_column_right(client, session, admin, world):
    """The interviewers report reads each rating's evidence length from a generated column
    (migration 0020); the erasure rewrites the evidence through the ORM, and the database
    recomputes the length of the redacted text."""
    lengths = select(ScorecardRating.evidence, ScorecardRating.evidence_chars)
    before = {evidence for evidence, _ in session.execute(lengths)}
    erase(client, admin, world["candidate_id"])
    session.expire_all()
    after = session.execute(lengths).all()
    assert EVIDENCE in before and EVIDENCE not in {evidence for evidence, _ in after}
    assert all(chars == len(evidence) for evidence, chars in after)
    redacted = [chars for evidence, chars in after if "rewrote the parser" in evidence]
    assert redacted and len(EVIDENCE) not in redacted  # the redaction changed the length


def test_an_erased_candidate_says_so_and_keeps_pseudonymous_records(client, session, admin, world):
    erase(client, admin, world["candidate_id"])
    candidate = client.get(f"/api/v1/candidates/{world['candidate_id']}", headers=auth(admin)).json
    assert (candidate["name"], candidate["email"], candidate["erased_at"] is not None) == (
        "Erased candidate",
        None,
        True,
    )
    scorecards = client.get(
        f"/api/v1/applications/{world['application'].id}/scorecards", headers=auth(admin)
    ).json["items"]
    ratings = [r for s in scorecards for r in s["ratings"]]
    assert [r["score"] for r in ratings] == [3, 2, 2, 4]
    assert ratings[0]["evidence"].startswith("[candidate] rewrote the parser")
    packet = client.get(f"/api/v1/packets/{world['packet_id']}", headers=auth(admin)).json
    assert packet["erased_at"] is not None
    pdf = client.get(f"/api/v1/packets/{world['packet_id']}/pdf", headers=auth(admin))
    assert pdf.status_code == 409 and pdf.json["packet_status"] == "erased"


def test_calibration_and_adverse_impact_are_unchanged_by_an_erasure(client, session, admin, world):
    def figures():
        ratings = load_ratings(session)
        result = fit(ratings)
        report = client.get("/api/v1/reports/adverse-impact", headers=auth(admin))
        assert report.status_code == 200, report.json
        return result.data_digest, result.effects, report.json

    before = figures()
    shown = [row for row in _rows(before[2]) if not row["suppressed"]]
    assert any(row["group"] == "female" and row["reached"] == 21 for row in shown)
    erase(client, admin, world["candidate_id"])
    session.expire_all()
    assert figures() == before


def _rows(report):
    for dimension in report["dimensions"]:
        for step in dimension["steps"]:
            yield from step["groups"]


def test_erasure_is_final_and_idempotent(client, session, admin, recruiter, world):
    first = erase(client, admin, world["candidate_id"]).json
    again = erase(client, admin, world["candidate_id"], reason="Asked twice").json
    assert (again["already_erased"], again["erased_at"]) == (True, first["erased_at"])
    assert (
        session.query(AuditEvent)
        .filter_by(action="candidate.erased", entity_id=world["candidate_id"])
        .count()
        == 1
    )
    reopened = client.post(
        f"/api/v1/applications/{world['application'].id}/reopen",
        json={"reason": "try again"},
        headers=auth(recruiter),
    )
    assert reopened.status_code == 409 and "erased" in reopened.json["detail"]
    patched = client.patch(
        f"/api/v1/candidates/{world['candidate_id']}",
        json={"name": "Zelda"},
        headers=auth(recruiter),
    )
    assert patched.status_code == 409 and patched.json["erased_at"]


def test_the_erasure_is_audited_with_who_and_why_but_no_erased_value(client, session, admin, world):
    erase(client, admin, world["candidate_id"], reason="Request 2026-11-30 via privacy inbox")
    event = session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "candidate.erased", AuditEvent.entity_id == world["candidate_id"]
        )
    )
    assert (event.actor_id, event.reason) == (admin.id, "Request 2026-11-30 via privacy inbox")
    created = session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "candidate.created", AuditEvent.entity_id == world["candidate_id"]
        )
    )
    assert created.after["name"] == created.after["email"] == "[erased]"
    assert created.after["source"] == "referral"  # what is not personal stays


@pytest.mark.parametrize(
    ("listed", "change"),
    [(False, "reason = 'rewritten'"), (True, "action = 'rewritten'"), (True, "actor_id = NULL")],
)
def test_audit_events_stay_append_only_but_for_the_values_of_a_listed_scrub(
    session, world, listed, change
):
    """Only an event an erasure listed may change, and only in its values (not who did
    what, to which record, when)."""
    event = session.scalar(select(AuditEvent).where(AuditEvent.actor_id.is_not(None)))
    if listed:
        session.add(AuditScrub(audit_event_id=event.id, candidate_id=world["candidate_id"]))
        session.flush()
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text(f"UPDATE audit_events SET {change} WHERE id = :id"), {"id": event.id})


def test_a_returning_candidate_is_recognised_without_keeping_the_address(
    client, session, admin, recruiter, world
):
    erase(client, admin, world["candidate_id"])
    again = client.post("/api/v1/candidates", json=PROFILE, headers=auth(recruiter))
    assert again.status_code == 201, again.json
    assert again.json["returning_from_id"] == world["candidate_id"]
    stranger = client.post(
        "/api/v1/candidates",
        json={"name": "New Person", "email": "new.person@example.org"},
        headers=auth(recruiter),
    )
    assert stranger.json["returning_from_id"] is None


def test_a_candidate_with_an_active_application_is_not_erased(client, session, admin, recruiter):
    created = client.post(
        "/api/v1/candidates",
        json={**PROFILE, "email": "active@example.org"},
        headers=auth(recruiter),
    ).json
    application = applications.create_application(
        session, recruiter, created["id"], RequisitionFactory().id
    )
    response = erase(client, admin, created["id"])
    assert response.status_code == 409
    assert response.json["active_application_ids"] == [application.id]
    assert (
        client.get(f"/api/v1/candidates/{created['id']}", headers=auth(admin)).json["name"]
        == PROFILE["name"]
    )


@pytest.mark.parametrize("role", ["recruiter", "interviewer", "hiring_manager"])
def test_only_admins_export_or_erase(client, session, world, role):
    user = UserFactory(role=role)
    session.flush()
    candidate_id = world["candidate_id"]
    export = client.get(f"/api/v1/candidates/{candidate_id}/export", headers=auth(user))
    assert export.status_code in (403, 404)
    assert erase(client, user, candidate_id).status_code in (403, 404)


def test_an_admin_who_owes_a_scorecard_cannot_export_the_panels_feedback(
    client, session, admin, world
):
    interview(world["application"], admin, hours_ago=1)
    session.flush()
    response = client.get(f"/api/v1/candidates/{world['candidate_id']}/export", headers=auth(admin))
    assert response.status_code == 403
    assert response.json["pending_interview_ids"]


def test_erasure_needs_a_reason(client, session, admin, world):
    response = client.post(
        f"/api/v1/candidates/{world['candidate_id']}/erasure", json={}, headers=auth(admin)
    )
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "reason"


def _left(session):
    for table in Base.metadata.sorted_tables:
        for row in session.execute(table.select()).all():
            if found(VALUES, " ".join(map(str, row))):
                yield table.name, str(row)[:300]


def test_no_log_line_holds_their_values(client, session, admin, world, caplog):
    """Request logs name paths, never bodies or query strings; the erasure names an id."""
    caplog.set_level("DEBUG")
    client.get("/api/v1/candidates", query_string={"q": "Zelda"}, headers=auth(admin))
    erase(client, admin, world["candidate_id"])
    logged = "\n".join(
        r.getMessage() for phase in ("setup", "call") for r in caplog.get_records(phase)
    )
    assert f"candidate {world['candidate_id']} erased" in logged
    assert found(VALUES, logged) == []
