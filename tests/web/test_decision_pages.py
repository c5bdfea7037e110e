"""The hiring manager's pages through the test client: what each shows, who may open it
(a requisition that is not yours is a 404, a panelist who owes a scorecard gets the
blind rule's message), and that every form refuses a post without its CSRF token."""

import html
import re

import pytest

from service.persistence.packets import Decision, Packet
from service.usecases.users import set_password
from tests.api import test_packets
from tests.api.test_packets import manager_of, submit, submit_panel
from tests.factories import InterviewFactory, UserFactory
from tests.web.conftest import PASSWORD, csrf_token, post_form
from tests.web.conftest import sign_in as sign_in_with_password

loop = test_packets.loop  # the fixture: an application with a two-person panel

BLIND = "You'll see the panel's feedback after you submit yours"
EVIDENCE = "Wrote a working parser for the nested input and explained each of the test cases."


def sign_in(client, session, user):
    """Sign `user` in (after whoever was signed in on this client)."""
    client.delete_cookie("hiring_session")
    set_password(session, None, user.id, PASSWORD)
    response = sign_in_with_password(client, user)
    assert response.status_code == 302, response.text


@pytest.fixture
def manager(web_client, session, loop):
    """The loop's hiring manager, signed in, after the panel has submitted."""
    submit_panel(web_client, loop)
    user = manager_of(loop)
    sign_in(web_client, session, user)
    return user


def application_id(loop):
    return loop[0].application_id


def request_packet(client, loop, anonymized="no"):
    return post_form(
        client,
        f"/applications/{application_id(loop)}/packets",
        {"anonymized": anonymized},
        page_path=f"/applications/{application_id(loop)}/assessment",
    )


def ready_packet(client, session, loop):
    response = request_packet(client, loop)
    assert response.status_code == 303, response.text
    packet_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert session.get(Packet, packet_id).status == "ready"
    return packet_id


def post_decision(client, loop, **fields):
    path = f"/applications/{application_id(loop)}/decision"
    return post_form(client, path, {"decision_version": "0", **fields})


def field_error(page, name):
    """The text of the message beside the form field `name`, or None."""
    found = re.search(rf'id="{name}-error"[^>]*>(.*?)</(p|div)>', page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip() if found else None


def text_of(response):
    """The page's text as a reader sees it: entities decoded, runs of white space as one."""
    return " ".join(html.unescape(response.text).split())


# ---- Decisions waiting ---------------------------------------------------------


def test_decisions_waiting_lists_the_complete_loop_with_the_panels_summary(
    client, session, loop, manager
):
    loop[0].application.stage = "offer"
    session.flush()
    page = client.get("/decisions")

    assert page.status_code == 200
    assert loop[0].application.candidate.name in page.text
    assert "2 of 2 recommend hiring." in page.text
    assert f'href="/applications/{application_id(loop)}/assessment"' in page.text


def test_decisions_waiting_shows_nothing_of_another_managers_requisition(client, session, loop):
    submit_panel(client, loop)
    loop[0].application.stage = "offer"
    session.flush()
    sign_in(client, session, UserFactory(role="hiring_manager"))
    page = client.get("/decisions")

    assert page.status_code == 200
    assert "Nothing waits for your decision." in page.text
    assert loop[0].application.candidate.name not in page.text


def test_pages_need_a_signed_in_user(client, loop):
    response = client.get(f"/applications/{application_id(loop)}/assessment")

    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


# ---- The assessment ------------------------------------------------------------


def test_the_assessment_page_shows_the_packets_view_model(client, session, loop, manager):
    page = client.get(f"/applications/{application_id(loop)}/assessment")

    assert page.status_code == 200
    text = page.text
    for heading in (
        "Summary",
        "Flags",
        "Competency profile",
        "Competency × interview",
        "Interviews",
        "Timeline against targets",
        "Packets",
    ):
        assert f">{heading}</h2>" in text or f">{heading}</h3>" in text, heading
    assert "2 of 2 recommend hiring." in text
    assert '<svg xmlns="http://www.w3.org/2000/svg" id="profile"' in text
    assert "Grace Hopper wrote a working parser" in text  # the evidence, escaped and shown


def test_another_managers_application_is_not_found(client, session, loop):
    submit_panel(client, loop)
    sign_in(client, session, UserFactory(role="hiring_manager"))

    for path in (
        f"/applications/{application_id(loop)}/assessment",
        f"/applications/{application_id(loop)}/decision",
    ):
        assert client.get(path).status_code == 404, path


def test_a_panelist_manager_who_owes_a_scorecard_sees_the_blind_rule_instead(client, session, loop):
    submit(client, loop[0], 3, EVIDENCE)
    manager = manager_of(loop)
    InterviewFactory(application=loop[0].application, interviewer=manager, status="completed")
    sign_in(client, session, manager)

    for path in (
        f"/applications/{application_id(loop)}/assessment",
        f"/applications/{application_id(loop)}/decision",
    ):
        page = client.get(path)
        assert page.status_code == 403, path
        assert BLIND in page.text
        assert "working parser" not in page.text


def test_an_interviewer_reads_the_assessment_only_after_submitting(client, session, loop):
    submit(client, loop[0], 3, EVIDENCE)
    sign_in(client, session, loop[1].interviewer)
    before = client.get(f"/applications/{application_id(loop)}/assessment")
    assert before.status_code == 403 and BLIND in before.text

    submit(client, loop[1], 3, EVIDENCE.replace("parser", "scheduler"))
    after = client.get(f"/applications/{application_id(loop)}/assessment")
    assert after.status_code == 200
    assert "working parser" in after.text
    assert "Request the packet" not in after.text  # interviewers never fetch packets


# ---- Packets ---------------------------------------------------------------------


def test_requesting_a_packet_leads_to_its_page_and_a_pdf(client, session, loop, manager):
    packet_id = ready_packet(client, session, loop)

    page = client.get(f"/packets/{packet_id}")
    assert page.status_code == 200 and "ready" in page.text
    state = client.get(f"/packets/{packet_id}/state").json
    assert state["status"] == "ready" and state["done"] is True
    assert state["download_url"] == f"/packets/{packet_id}/pdf"
    pdf = client.get(state["download_url"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF-")
    assert "attachment;" in pdf.headers["Content-Disposition"]


def test_a_missing_file_is_explained_and_rendered_again(client, session, loop, manager, app):
    packet_id = ready_packet(client, session, loop)
    app.extensions["storage"]._path(session.get(Packet, packet_id).storage_key).unlink()

    refused = client.get(f"/packets/{packet_id}/pdf", follow_redirects=True)
    assert f"Packet {packet_id}'s file is missing from storage." in text_of(refused)
    assert "/api/v1" not in text_of(refused)
    again = post_form(client, f"/packets/{packet_id}/render", {}, page_path=f"/packets/{packet_id}")

    assert again.status_code == 303
    assert client.get(f"/packets/{packet_id}/pdf").data.startswith(b"%PDF-")


def test_an_anonymized_packet_can_be_requested(client, session, loop, manager):
    response = request_packet(client, loop, anonymized="yes")
    packet = session.get(Packet, int(response.headers["Location"].rsplit("/", 1)[1]))

    assert packet.anonymized is True


def test_another_manager_cannot_reach_the_packet(client, session, loop, manager):
    packet_id = ready_packet(client, session, loop)
    sign_in(client, session, UserFactory(role="hiring_manager"))

    for path in (
        f"/packets/{packet_id}",
        f"/packets/{packet_id}/state",
        f"/packets/{packet_id}/pdf",
    ):
        assert client.get(path).status_code == 404, path
    token = csrf_token(client.get("/decisions"))
    refused = client.post(
        f"/applications/{application_id(loop)}/packets", data={"csrf_token": token}
    )
    assert refused.status_code == 404


def test_interviewers_never_reach_packets(client, session, loop, manager):
    packet_id = ready_packet(client, session, loop)
    sign_in(client, session, loop[0].interviewer)

    assert client.get(f"/packets/{packet_id}/pdf").status_code == 404


# ---- The decision ----------------------------------------------------------------


def test_a_decision_with_the_majority_is_recorded(client, session, loop, manager):
    packet_id = ready_packet(client, session, loop)
    form = client.get(f"/applications/{application_id(loop)}/decision")
    assert form.status_code == 200
    assert f'name="packet_id" value="{packet_id}"' in form.text

    response = post_decision(client, loop, outcome="hire", packet_id=str(packet_id))

    assert response.status_code == 303
    decision = session.query(Decision).filter_by(application_id=application_id(loop)).one()
    assert (decision.outcome, decision.packet_id, decision.version) == ("hire", packet_id, 1)
    shown = client.get(response.headers["Location"])
    assert "Decision recorded." in shown.text and "Current decision" in shown.text


def test_against_the_majority_the_rationale_is_asked_for_beside_its_field(
    client, session, loop, manager
):
    packet_id = ready_packet(client, session, loop)
    response = post_decision(client, loop, outcome="no_hire", packet_id=str(packet_id))

    assert response.status_code == 422
    assert field_error(response.text, "rationale") == (
        "Required when the decision goes against the panel's majority"
    )
    assert 'aria-invalid="true" aria-describedby="rationale-error"' in response.text
    assert session.query(Decision).count() == 0


def test_a_missing_outcome_and_packet_are_named_beside_their_fields(client, session, loop, manager):
    ready_packet(client, session, loop)
    response = post_decision(client, loop, outcome="", packet_id="")

    assert response.status_code == 422
    assert field_error(response.text, "outcome") is not None
    assert field_error(response.text, "packet_id") is not None


def test_a_stale_packet_is_refused_with_the_way_forward(client, session, loop, manager):
    old = ready_packet(client, session, loop)
    loop[0].application.stage = "offer"  # the data changed since the packet
    session.flush()
    response = post_decision(client, loop, outcome="hire", packet_id=str(old))

    assert response.status_code == 409
    assert f"Packet {old} (version 1) no longer shows the application's data" in text_of(response)
    assert "Request the packet" in response.text  # no packet shows the new data yet


def test_a_decision_recorded_meanwhile_is_not_overwritten(client, session, loop, manager):
    packet_id = ready_packet(client, session, loop)
    assert post_decision(client, loop, outcome="hire", packet_id=str(packet_id)).status_code == 303
    fresh = ready_packet(client, session, loop)  # the decision changed the packet's data

    # A second form, read before that decision (version 0), arrives afterwards.
    response = post_decision(
        client, loop, outcome="no_hire", packet_id=str(fresh), rationale="x", reason="y"
    )

    assert response.status_code == 412
    assert "The application's decision is at version 1, not 0" in text_of(response)
    assert 'name="decision_version" value="1"' in response.text  # sending again is deliberate
    assert session.query(Decision).filter_by(superseded_at=None).one().outcome == "hire"


def test_packets_that_no_longer_show_the_data_are_not_offered(client, session, loop, manager):
    packet_id = ready_packet(client, session, loop)
    post_decision(client, loop, outcome="hire", packet_id=str(packet_id))

    page = client.get(f"/applications/{application_id(loop)}/decision")

    assert f'name="packet_id" value="{packet_id}"' not in page.text
    assert "1 earlier packet (version 1) no longer shows the application's data" in text_of(page)
    assert "Request the packet" in page.text


def test_changing_a_decision_needs_a_reason(client, session, loop, manager):
    packet_id = ready_packet(client, session, loop)
    post_decision(client, loop, outcome="hire", packet_id=str(packet_id))
    fresh = ready_packet(client, session, loop)  # the decision changed the packet's data

    response = post_decision(
        client,
        loop,
        outcome="no_hire",
        packet_id=str(fresh),
        rationale="The system design gap matters more for this team.",
        decision_version="1",
    )

    assert response.status_code == 422
    assert field_error(response.text, "reason") == (
        "Required when a decision replaces the current one"
    )


def test_only_managers_and_admins_reach_the_decision_form(client, session, loop):
    submit_panel(client, loop)
    sign_in(client, session, UserFactory(role="recruiter"))

    assert client.get(f"/applications/{application_id(loop)}/decision").status_code == 404


# ---- CSRF --------------------------------------------------------------------------


def test_every_form_refuses_a_post_without_its_csrf_token(client, session, loop, manager):
    packet_id = ready_packet(client, session, loop)

    for path, data in (
        (f"/applications/{application_id(loop)}/packets", {"anonymized": "no"}),
        (f"/packets/{packet_id}/render", {}),
        (
            f"/applications/{application_id(loop)}/decision",
            {"outcome": "hire", "packet_id": str(packet_id), "decision_version": "0"},
        ),
    ):
        response = client.post(path, data=data)
        assert response.status_code == 400, path
        assert "The form has expired" in response.text
    assert session.query(Decision).count() == 0
    assert session.query(Packet).count() == 1
