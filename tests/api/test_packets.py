"""Packets through the API, rendered in-process (no Redis): request, dedupe, serve, verify,
anonymize, re-render; and decisions. The text is read back with pdftotext."""

import hashlib
import re
import subprocess
from datetime import timedelta

import pytest

from service.persistence.base import utcnow
from service.persistence.packets import Packet
from tests.api.conftest import auth
from tests.factories import ApplicationFactory, CandidateFactory, InterviewFactory, UserFactory

PHONE = "+44 20 7946 0123"
LINK = "https://github.com/grace-h"


def pdf_text(data: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


def pdf_info(data: bytes) -> str:
    return subprocess.run(
        ["pdfinfo", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


@pytest.fixture
def loop(session):
    """An application whose two-person panel has submitted."""
    candidate = CandidateFactory(
        name="Grace Hopper", email="grace.hopper@example.org", phone=PHONE, links=[LINK]
    )
    application = ApplicationFactory(candidate=candidate)
    start = utcnow() - timedelta(hours=5)
    return [
        InterviewFactory(
            application=application, starts_at=start + timedelta(hours=n), status="completed"
        )
        for n in range(2)
    ]


def submit(client, interview, score, evidence, recommendation="yes"):
    template = interview.application.requisition.template_version.template()
    ratings = [
        {"competency": c, "score": score, "evidence": evidence}
        for c in template.interview(interview.interview_key).competencies
    ]
    response = client.post(
        f"/api/v1/interviews/{interview.id}/scorecard/submit",
        json={
            "ratings": ratings,
            "recommendation": recommendation,
            "summary": "Grace was clear; she tested her code.",
        },
        headers=auth(interview.interviewer),
    )
    assert response.status_code == 200, response.json


def submit_panel(client, loop):
    submit(
        client, loop[0], 3, "Grace Hopper wrote a working parser and she explained each test case."
    )
    submit(
        client, loop[1], 3, "Solved the scheduling problem; asked about edge cases before coding."
    )


def request(client, user, application_id, anonymized=False):
    return client.post(
        f"/api/v1/applications/{application_id}/packets",
        json={"anonymized": anonymized},
        headers=auth(user),
    )


def manager_of(loop):
    return loop[0].application.requisition.hiring_manager


def download(client, user, packet_id):
    return client.get(f"/api/v1/packets/{packet_id}/pdf", headers=auth(user))


def test_packet_pdf_with_its_etag_is_304_and_not_stored(client, session, loop):
    submit_panel(client, loop)
    manager = manager_of(loop)
    packet = request(client, manager, loop[0].application_id).json
    first = download(client, manager, packet["id"])
    assert first.headers["Cache-Control"] == "no-store"
    again = client.get(
        f"/api/v1/packets/{packet['id']}/pdf",
        headers=auth(manager) | {"If-None-Match": first.headers["ETag"]},
    )
    assert again.status_code == 304
    assert again.data == b""


@pytest.mark.parametrize("anonymized", ["false", "true", 0, 1, None])
def test_anonymized_must_be_a_json_boolean(client, session, loop, anonymized):
    """Anything but true or false is refused: "false" must not be read as a choice."""
    submit_panel(client, loop)
    response = request(client, manager_of(loop), loop[0].application_id, anonymized)
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "anonymized"
    assert "true or false" in response.json["errors"][0]["message"]


def test_request_renders_a_ready_packet(client, session, loop):
    submit_panel(client, loop)
    response = request(client, manager_of(loop), loop[0].application_id)
    assert response.status_code == 202
    packet = response.json
    assert response.headers["Location"].endswith(f"/api/v1/packets/{packet['id']}")
    assert (packet["status"], packet["version"], packet["attempts"]) == ("ready", 1, 1)
    assert packet["page_count"] >= 2 and packet["size_bytes"] > 10_000
    assert re.fullmatch(r"[0-9a-f]{64}", packet["input_digest"])


def test_pdf_is_served_with_checksum_etag_and_every_section(client, session, loop):
    submit_panel(client, loop)
    manager = manager_of(loop)
    packet = request(client, manager, loop[0].application_id).json
    response = download(client, manager, packet["id"])
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["ETag"] == f'"{hashlib.sha256(response.data).hexdigest()}"'
    assert response.headers["ETag"] == f'"{packet["sha256"]}"'
    assert f"application-{loop[0].application_id}-v1.pdf" in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    for section in (
        "HIRING COMMITTEE PACKET",
        "Recommendations",
        "Competency profile",
        "Flags",
        "Competency × interview",
        "Interviews",
        "Pipeline timeline",
        "Decision",
        "Grace Hopper",
        packet["input_digest"],
        "Anchor:",
        "Page 2 of",
    ):
        assert section in text, section


def test_same_inputs_return_the_same_packet(client, session, loop):
    submit_panel(client, loop)
    manager = manager_of(loop)
    first = request(client, manager, loop[0].application_id).json
    again = request(client, manager, loop[0].application_id).json
    assert again["id"] == first["id"]
    assert session.query(Packet).filter_by(application_id=loop[0].application_id).count() == 1


def test_new_data_gives_a_new_version(client, session, loop):
    submit(client, loop[0], 3, "Wrote a working parser and explained each test case he added.")
    manager = manager_of(loop)
    first = request(client, manager, loop[0].application_id).json
    submit(
        client, loop[1], 2, "Needed two hints to reach a working schedule; missed the empty input."
    )
    second = request(client, manager, loop[0].application_id).json
    assert (second["version"], second["input_digest"] != first["input_digest"]) == (2, True)
    listed = client.get(
        f"/api/v1/applications/{loop[0].application_id}/packets", headers=auth(manager)
    ).json["items"]
    assert [p["version"] for p in listed] == [1, 2]


def test_anonymized_packet_reveals_nothing_identifying(client, session, loop):
    submit_panel(client, loop)
    manager = manager_of(loop)
    packet = request(client, manager, loop[0].application_id, anonymized=True).json
    response = download(client, manager, packet["id"])
    everything = (
        pdf_text(response.data) + pdf_info(response.data) + response.headers["Content-Disposition"]
    ).lower()
    # The input digest is hex: it may contain the phone's digits by chance.
    everything = everything.replace(packet["input_digest"], "")
    for identifying in (
        "grace",
        "hopper",
        "grace.hopper@example.org",
        "7946",
        "github.com/grace-h",
        " she ",
        " her ",
    ):
        assert identifying not in everything, identifying
    assert "[candidate] wrote a working parser and they explained" in everything
    assert "candidate " in everything  # the pseudonym on the first page


def test_anonymized_packet_carries_only_its_anonymous_code(client, session, loop):
    submit_panel(client, loop)
    manager = manager_of(loop)
    application_id = loop[0].application_id
    named = request(client, manager, application_id).json
    decided = client.post(
        f"/api/v1/applications/{application_id}/decision",
        json={"outcome": "hire", "packet_id": named["id"]},
        headers=auth(manager),
    )
    assert decided.status_code == 201
    blind = request(client, manager, application_id, anonymized=True).json
    response = download(client, manager, blind["id"])
    text, info = pdf_text(response.data), pdf_info(response.data)
    disposition = response.headers["Content-Disposition"]
    content = session.get(Packet, blind["id"]).content
    code = content["candidate"]["display"]
    assert code in text and code in info
    assert (
        disposition == f'attachment; filename="hiring-packet-{code.lower().replace(" ", "-")}.pdf"'
    )
    assert "Recorded: Hire" in text
    everything = " ".join((text + info + disposition).split()).lower()
    for leak in (f"#{application_id}", f"application-{application_id}", "packet version"):
        assert leak not in everything, leak
    assert "id" not in content["application"]


def test_named_and_anonymized_packets_are_separate(client, session, loop):
    submit_panel(client, loop)
    manager = manager_of(loop)
    named = request(client, manager, loop[0].application_id).json
    blind = request(client, manager, loop[0].application_id, anonymized=True).json
    assert named["id"] != blind["id"] and blind["anonymized"] is True


def test_packet_never_contains_self_identification(client, session, loop, recruiter):
    submit_panel(client, loop)
    answers = {
        "sex": "non_binary",
        "race_ethnicity": "native_hawaiian_or_other_pacific_islander",
        "veteran_status": "protected_veteran",
        "disability_status": "has_disability",
    }
    put = client.put(
        f"/api/v1/applications/{loop[0].application_id}/self-identification",
        json=answers,
        headers=auth(recruiter),
    )
    assert put.status_code == 204
    manager = manager_of(loop)
    text = pdf_text(
        download(client, manager, request(client, manager, loop[0].application_id).json["id"]).data
    )
    for value in (
        "non_binary",
        "non-binary",
        "pacific islander",
        "hawaiian",
        "protected veteran",
        "veteran",
        "disability",
    ):
        assert value not in text.lower(), value


def test_rendering_is_reproducible_byte_for_byte(client, session, loop, app):
    from service.pdf.document import render_packet_document

    submit_panel(client, loop)
    manager = manager_of(loop)
    packet = session.get(Packet, request(client, manager, loop[0].application_id).json["id"])
    stored = download(client, manager, packet.id).data
    again = render_packet_document(packet.content, packet.input_digest, packet.version).data
    assert again == stored


def test_corrupt_file_is_a_clear_error_and_can_be_rendered_again(client, session, loop, app):
    submit_panel(client, loop)
    manager = manager_of(loop)
    packet = request(client, manager, loop[0].application_id).json
    storage = app.extensions["storage"]
    key = session.get(Packet, packet["id"]).storage_key
    other = b"%PDF-1.7 not the file we wrote"
    storage.put(key, other, hashlib.sha256(other).hexdigest())
    broken = download(client, manager, packet["id"])
    assert broken.status_code == 409
    assert broken.mimetype == "application/problem+json"
    assert "does not match its checksum" in broken.json["detail"]
    assert f"/api/v1/packets/{packet['id']}/render" in broken.json["detail"]
    rerendered = client.post(f"/api/v1/packets/{packet['id']}/render", headers=auth(manager))
    assert rerendered.status_code == 202 and rerendered.json["status"] == "ready"
    assert download(client, manager, packet["id"]).status_code == 200


def test_missing_file_is_a_clear_error(client, session, loop, app):
    submit_panel(client, loop)
    manager = manager_of(loop)
    packet = request(client, manager, loop[0].application_id).json
    path = app.extensions["storage"]._path(session.get(Packet, packet["id"]).storage_key)
    path.unlink()
    response = download(client, manager, packet["id"])
    assert response.status_code == 409
    assert "missing from storage" in response.json["detail"]


def test_a_data_error_fails_the_packet_with_a_message(client, session, loop, app):
    from service.pdf.document import render_packet_document
    from service.usecases.packets import render_packet

    submit_panel(client, loop)
    manager = manager_of(loop)
    packet = session.get(Packet, request(client, manager, loop[0].application_id).json["id"])
    packet.status, packet.content = "queued", {**packet.content, "role": {}}
    session.commit()
    with pytest.raises(Exception, match="title"):
        render_packet(
            session, app.extensions["storage"], packet.id, render_packet_document, lease_seconds=150
        )
    shown = client.get(f"/api/v1/packets/{packet.id}", headers=auth(manager)).json
    assert shown["status"] == "failed"
    assert "UndefinedError" in shown["error"] and "title" in shown["error"]


def test_interviewers_cannot_fetch_packets(client, session, loop):
    submit_panel(client, loop)
    packet = request(client, manager_of(loop), loop[0].application_id).json
    panelist = loop[0].interviewer
    assert client.get(f"/api/v1/packets/{packet['id']}", headers=auth(panelist)).status_code == 403
    assert download(client, panelist, packet["id"]).status_code == 403
    assert request(client, panelist, loop[0].application_id).status_code == 403


def test_other_hiring_managers_cannot_see_the_packet(client, session, loop):
    submit_panel(client, loop)
    packet = request(client, manager_of(loop), loop[0].application_id).json
    stranger = UserFactory(role="hiring_manager")
    assert client.get(f"/api/v1/packets/{packet['id']}", headers=auth(stranger)).status_code == 404


def test_decision_with_the_majority_needs_no_rationale_and_names_the_packet(client, session, loop):
    submit_panel(client, loop)
    manager = manager_of(loop)
    packet = request(client, manager, loop[0].application_id).json
    response = client.post(
        f"/api/v1/applications/{loop[0].application_id}/decision",
        json={"outcome": "hire", "packet_id": packet["id"]},
        headers=auth(manager),
    )
    assert response.status_code == 201, response.json
    assert (response.json["packet_version"], response.json["against_majority"]) == (1, False)
    later = request(client, manager, loop[0].application_id).json
    assert later["version"] == 2, "the decision is an input: a new packet shows it"
    assert "Recorded: Hire" in pdf_text(download(client, manager, later["id"]).data)


def test_decision_against_the_majority_needs_a_rationale(client, session, loop):
    submit_panel(client, loop)
    manager = manager_of(loop)
    packet = request(client, manager, loop[0].application_id).json
    body = {"outcome": "no_hire", "packet_id": packet["id"]}
    refused = client.post(
        f"/api/v1/applications/{loop[0].application_id}/decision", json=body, headers=auth(manager)
    )
    assert refused.status_code == 422
    assert "rationale" in {e["field"] for e in refused.json["errors"]}
    body["rationale"] = "Reference check raised a concern the panel could not see."
    accepted = client.post(
        f"/api/v1/applications/{loop[0].application_id}/decision", json=body, headers=auth(manager)
    )
    assert accepted.status_code == 201 and accepted.json["against_majority"] is True
    events = client.get(
        f"/api/v1/audit?entity_type=application&entity_id={loop[0].application_id}"
        "&action=decision.recorded",
        headers=auth(UserFactory(role="admin")),
    ).json
    assert len(events["items"]) == 1


def test_only_the_requisitions_hiring_manager_decides(client, session, loop, recruiter):
    submit_panel(client, loop)
    packet = request(client, manager_of(loop), loop[0].application_id).json
    response = client.post(
        f"/api/v1/applications/{loop[0].application_id}/decision",
        json={"outcome": "hire", "packet_id": packet["id"]},
        headers=auth(recruiter),
    )
    assert response.status_code == 403


def calibration_history(client, interviewers, candidates=4):
    """Enough submitted ratings by two interviewers for a calibration run."""
    for number in range(candidates):
        application = ApplicationFactory()
        start = utcnow() - timedelta(days=number + 2)
        for offset, interviewer in enumerate(interviewers):
            interview = InterviewFactory(
                application=application,
                interviewer=interviewer,
                interview_key="pair_programming",
                starts_at=start + timedelta(hours=offset),
                status="completed",
            )
            submit(
                client,
                interview,
                2 + (number + offset) % 3,
                "Tested the parser on empty input, nested brackets and a very long line.",
            )


def test_a_packet_made_before_the_refit_lands_says_calibration_is_pending(
    client, session, loop, monkeypatch, app
):
    from redis.exceptions import RedisError

    from service import jobs
    from service.persistence.calibration import latest_run
    from service.usecases.calibration import REFRESH_JOB, refit_calibration

    calibration_history(client, [loop[0].interviewer, loop[1].interviewer])
    before = latest_run(session)
    assert before is not None
    enqueue = jobs.enqueue

    def redis_down_for_refits(function, *args, **options):
        if function == REFRESH_JOB:
            raise RedisError("connection refused")
        return enqueue(function, *args, **options)

    monkeypatch.setattr(jobs, "enqueue", redis_down_for_refits)
    submit_panel(client, loop)
    manager = manager_of(loop)
    pending = request(client, manager, loop[0].application_id).json
    assert (pending["calibration_pending"], pending["calibration_run_id"]) == (True, before.id)
    text = " ".join(pdf_text(download(client, manager, pending["id"]).data).split())
    assert "Calibration is pending" in text
    assert f"scores are shown as of run {before.id}" in text

    monkeypatch.undo()
    with app.app_context():  # the refit enqueues the packet's remaking
        landed = refit_calibration(session)
    assert landed is not None
    again = request(client, manager, loop[0].application_id).json
    assert again["input_digest"] != pending["input_digest"] and again["version"] == 2
    assert (again["calibration_pending"], again["calibration_run_id"]) == (False, landed.id)
    assert "Calibration is pending" not in pdf_text(download(client, manager, again["id"]).data)


def test_a_packet_made_after_its_refit_is_not_pending(client, session, loop):
    calibration_history(client, [loop[0].interviewer, loop[1].interviewer])
    submit_panel(client, loop)
    packet = request(client, manager_of(loop), loop[0].application_id).json
    assert packet["calibration_pending"] is False and packet["calibration_run_id"] is not None


def page_text(data: bytes, page: int) -> str:
    """One page's text, whitespace collapsed."""
    out = subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), "-", "-"],
        input=data,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return " ".join(out.split())


def test_page_one_is_the_decision_summary(client, session, loop):
    submit_panel(client, loop)
    manager = manager_of(loop)
    packet = request(client, manager, loop[0].application_id).json
    data = download(client, manager, packet["id"]).data
    first = page_text(data, 1)
    for part in ("Grace Hopper", "Recommendations", "Competency profile", "Flags"):
        assert part in first, part
    assert "2 of 2 recommend hiring" in first
    assert "± is the standard error" in first
    # The digest is printed once, small, in the first page's footer.
    assert first.count(packet["input_digest"]) == 1
    assert packet["input_digest"] not in page_text(data, 2)


def test_without_a_calibration_fit_the_summary_says_it_is_not_applied(client, session, loop):
    submit_panel(client, loop)
    manager = manager_of(loop)
    packet = request(client, manager, loop[0].application_id).json
    data = download(client, manager, packet["id"]).data
    assert "Calibration is not applied: no calibration has been fitted yet" in page_text(data, 1)
    everything = " ".join(pdf_text(data).split())
    assert "No calibration yet" not in everything
    assert "corrected for each interviewer's usual leniency" not in everything


def test_a_split_between_two_raters_is_one_box_in_plain_words(client, session, loop):
    submit(
        client,
        loop[0],
        1,
        "Could not write the parser; stopped at the tokenizer and never ran a test.",
    )
    submit(
        client, loop[1], 3, "Wrote the scheduler with tests for the overlapping slots, unprompted."
    )
    manager = manager_of(loop)
    packet = request(client, manager, loop[0].application_id).json
    content = session.get(Packet, packet["id"]).content
    assert len(content["disagreements"]) == len(
        {d["competency"] for d in content["assessment"]["dissents"]}
    )
    split = content["disagreements"][0]
    low, high = loop[0].interviewer.name, loop[1].interviewer.name
    assert split["message"].startswith(f"{low} rated {split['competency_name']} 1; ")
    assert split["message"].endswith(f"the other interviewer ({high}) rated it 3 \u2014 read both.")
    text = " ".join(pdf_text(download(client, manager, packet["id"]).data).split())
    for d in content["disagreements"]:
        # Once in the summary's list and once over its box: no mirrored second box.
        assert text.count(d["message"]) == 2, d["message"]
    assert "Read both sides' evidence" not in text
    assert re.search(r"read both\. \(see page \d+\)", text)


def test_a_long_unbroken_token_wraps_instead_of_being_cut(client, session, loop):
    token = "com.example.payments." + "VeryLongReconciliationProcessorFactory" * 4
    submit(client, loop[0], 3, f"Named {token} as the class to change, and why.")
    submit(
        client, loop[1], 3, "Solved the scheduling problem; asked about edge cases before coding."
    )
    manager = manager_of(loop)
    packet = request(client, manager, loop[0].application_id).json
    text = pdf_text(download(client, manager, packet["id"]).data)
    assert token in "".join(text.split())


def test_the_pdf_is_tagged_with_its_language_and_title(client, session, loop):
    import zlib

    submit_panel(client, loop)
    manager = manager_of(loop)
    packet = request(client, manager, loop[0].application_id).json
    data = download(client, manager, packet["id"]).data
    info = pdf_info(data)
    assert re.search(r"^Tagged:\s+yes$", info, re.MULTILINE)
    assert re.search(r"^Title:\s+Hiring committee packet — .+ — Grace Hopper$", info, re.MULTILINE)
    structure = subprocess.run(
        ["pdfinfo", "-struct", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()
    for element in ("Document", "H1", "H2", "Table", "TH", "TD", "P"):
        assert re.search(rf"^\s*{element}\b", structure, re.MULTILINE), element
    # A stream whose data ends in a CR or LF byte loses it to the pattern's `\r?\n`: that
    # byte is the checksum's, and a decompressor object returns the content all the same
    # (`zlib.decompress` refuses the "truncated" stream).
    streams = [data] + [
        zlib.decompressobj().decompress(raw)
        for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.DOTALL)
        if raw[:1] == b"x"
    ]
    assert any(b"/Lang (en)" in stream for stream in streams)


def _render_counted(session, app, packet_id, lease_seconds=150):
    """`render_packet` with the real renderer, counting its calls."""
    from service.pdf.document import render_packet_document
    from service.usecases.packets import render_packet

    calls = []

    def render(*args):
        calls.append(args)
        return render_packet_document(*args)

    render_packet(
        session, app.extensions["storage"], packet_id, render, lease_seconds=lease_seconds
    )
    return len(calls)


def test_a_second_job_leaves_a_packet_another_job_is_rendering_to_it(client, session, loop, app):
    """Asking again for a queued packet enqueues its job again once the first job has
    started: that second job must not render it again (nor announce it ready twice)
    while the first is within its lease; past the lease the first is taken as lost."""
    from datetime import timedelta

    from service.persistence.base import utcnow
    from service.persistence.outbox import OutboxEvent

    submit_panel(client, loop)
    manager = manager_of(loop)
    packet = session.get(Packet, request(client, manager, loop[0].application_id).json["id"])
    ready_events = session.query(OutboxEvent).filter_by(type="packet.ready").count()
    packet.status, packet.started_at, packet.attempts = "rendering", utcnow(), 1
    session.commit()
    assert _render_counted(session, app, packet.id) == 0
    session.refresh(packet)
    assert (packet.status, packet.attempts) == ("rendering", 1)
    assert session.query(OutboxEvent).filter_by(type="packet.ready").count() == ready_events

    packet.started_at = utcnow() - timedelta(seconds=151)
    session.commit()
    assert _render_counted(session, app, packet.id) == 1
    session.refresh(packet)
    assert (packet.status, packet.attempts) == ("ready", 2)
    assert _render_counted(session, app, packet.id) == 0  # ready: nothing to do
