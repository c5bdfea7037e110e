"""Application list filters people need: by candidate, by stage (checked), sorted and paged."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event

from service.domain.pipeline import time_in_stage
from service.http.applications.schemas import _application_json, _StageFacts
from service.persistence.applications import Application
from service.persistence.base import utcnow
from tests.api.conftest import auth
from tests.factories import (
    ApplicationFactory,
    CandidateFactory,
    InterviewFactory,
    RequisitionFactory,
    UserFactory,
    template_version,
)


def listing(client, user, **query):
    return client.get("/api/v1/applications", query_string=query, headers=auth(user))


def ids(client, user, **query):
    response = listing(client, user, **query)
    assert response.status_code == 200, response.json
    return [a["id"] for a in response.json["items"]]


def walk(client, user, **query):
    """Every id over every page, following next_cursor."""
    seen, cursor = [], None
    while True:
        page = listing(client, user, **query, **({"cursor": cursor} if cursor else {})).json
        seen += [a["id"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


def test_list_filters_by_candidate(client, session, recruiter):
    candidate = CandidateFactory()
    wanted = [ApplicationFactory(candidate=candidate).id for _ in range(2)]
    ApplicationFactory()
    assert ids(client, recruiter, candidate_id=candidate.id) == wanted


def test_list_filters_by_recruiter(client, session, recruiter):
    mine = ApplicationFactory(requisition=RequisitionFactory(recruiter=recruiter))
    ApplicationFactory(requisition=RequisitionFactory())
    session.flush()
    assert ids(client, recruiter, recruiter_id=recruiter.id) == [mine.id]


def test_unknown_stage_is_422_listing_the_stages_of_every_template(client, recruiter):
    response = listing(client, recruiter, stage="phone_screen")
    assert response.status_code == 422
    [error] = response.json["errors"]
    assert error["field"] == "query.stage"
    assert "technical_screen" in error["message"] and "portfolio_screen" in error["message"]


def test_unknown_stage_with_a_requisition_lists_that_templates_stages(client, session, recruiter):
    requisition = RequisitionFactory(template_version=template_version("product_designer"))
    response = listing(client, recruiter, stage="technical_screen", requisition_id=requisition.id)
    assert response.status_code == 422
    [error] = response.json["errors"]
    assert "portfolio_screen" in error["message"] and "technical_screen" not in error["message"]


def test_a_stage_of_another_template_is_an_empty_list_without_a_requisition(
    client, session, recruiter
):
    ApplicationFactory(stage="onsite")  # backend_engineer has no portfolio_screen
    assert ids(client, recruiter, stage="portfolio_screen") == []


def stamped(session, hours_ago):
    """Applications whose updated_at and stage_entered_at are `hours_ago` (several per value)."""
    made = []
    for hours in hours_ago:
        application = ApplicationFactory()
        application.stage_entered_at = utcnow() - timedelta(hours=hours)
        session.flush()
        made.append(application)
    # updated_at is set on every flush; fix it after the last one, in one go
    for application, hours in zip(made, hours_ago, strict=True):
        session.execute(
            type(application)
            .__table__.update()
            .where(type(application).__table__.c.id == application.id)
            .values(updated_at=utcnow() - timedelta(hours=hours))
        )
    session.expire_all()
    return made


@pytest.mark.parametrize(
    "sort", ["updated_at", "-updated_at", "stage_entered_at", "-stage_entered_at"]
)
def test_sorted_pages_walk_every_row_once_in_order_despite_ties(client, session, recruiter, sort):
    made = stamped(session, [5, 1, 3, 1, 5, 2, 1])
    hours = {a.id: h for a, h in zip(made, [5, 1, 3, 1, 5, 2, 1], strict=True)}
    seen = walk(client, recruiter, sort=sort, limit=2)
    descending = sort.startswith("-")
    # older first = more hours ago first; ties by id in the same direction
    expected = sorted(hours, key=lambda i: (-hours[i], i), reverse=descending)
    assert seen == expected


def test_a_cursor_of_another_sort_is_422(client, session, recruiter):
    stamped(session, [1, 2, 3])
    cursor = listing(client, recruiter, sort="updated_at", limit=1).json["next_cursor"]
    response = listing(client, recruiter, sort="-stage_entered_at", cursor=cursor)
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "query.cursor"
    by_id = listing(client, recruiter, limit=1).json["next_cursor"]
    assert listing(client, recruiter, sort="updated_at", cursor=by_id).status_code == 422


def test_unknown_sort_is_422(client, recruiter):
    assert listing(client, recruiter, sort="name").status_code == 422


@pytest.mark.parametrize("role", ["interviewer", "hiring_manager"])
def test_each_viewer_of_a_role_lists_by_their_own_rule(client, session, role):
    """The list's statement is built once per role, filter set, order and first-or-later
    page (`applications._listing`); each request must still filter by its own viewer,
    not by the one whose request built it."""
    first, second = UserFactory(role=role), UserFactory(role=role)

    def visible_to(user, day):
        if role == "interviewer":  # a day apart: an interviewer is never double-booked
            starts_at = utcnow() + timedelta(days=day)
            return InterviewFactory(interviewer=user, starts_at=starts_at).application
        return ApplicationFactory(requisition=RequisitionFactory(hiring_manager=user))

    theirs = {user.id: [visible_to(user, day).id for day in (1, 2, 3)] for user in (first, second)}
    ApplicationFactory()  # nobody's
    for viewer in (first, second, first):
        mine = theirs[viewer.id]
        assert ids(client, viewer) == mine
        assert walk(client, viewer, limit=1) == mine  # the later pages' statement too
        assert walk(client, viewer, sort="-created_at", limit=2) == sorted(mine, reverse=True)
        assert ids(
            client, viewer, status="active", candidate_id=_candidate_of(session, mine[1])
        ) == [mine[1]]


def _candidate_of(session, application_id):
    return session.get(Application, application_id).candidate_id


def test_the_list_body_is_the_bytes_flask_would_send(app, client, session, recruiter):
    """The list writes its body itself (`http.json_body`): byte for byte what Flask's
    `jsonify` makes of the same content, non-ASCII, DEL and control characters included."""
    plain = [ApplicationFactory() for _ in range(3)]
    ApplicationFactory(
        candidate=CandidateFactory(name="Zoë Ångström-Nakamura 中村 😀", email="zoe@example.org"),
        status="rejected",
        rejection_reason="skills_gap",
        rejection_note='tab\t, DEL\x7f, bell\x07, "quoted" \\ and a line\nbreak',
    )
    for query in (
        {"limit": 2},
        {"candidate_id": plain[0].candidate_id},
        {},
        {"sort": "-updated_at"},
    ):
        response = listing(client, recruiter, **query)
        assert response.status_code == 200
        assert response.mimetype == "application/json"
        assert response.get_data() == app.json.response(response.json).get_data()
    assert "中村" in listing(client, recruiter).json["items"][-1]["candidate"]["name"]


@given(
    seconds=st.floats(min_value=-1e6, max_value=1e10, allow_nan=False),
    target_days=st.integers(min_value=0, max_value=90),
)
def test_the_lists_time_in_stage_is_the_pipelines(seconds, target_days):
    """The list writes each row's time in stage from `time_in_stage_fields` (no
    `TimeInStage` per row): the same figures as `pipeline.time_in_stage`, at, around and
    far from the target."""
    now = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
    entered = now - timedelta(seconds=seconds)
    stage = _StageFacts("Onsite", target_days, ["offer"])
    row = (1, 1, 2, "Ada", "ada@example.org", 3, "Title", "onsite", "active", entered)
    listed = _application_json((*row, None, None, entered, entered), stage, now)
    spent = time_in_stage(entered, now, target_days)
    assert listed["time_in_stage"] == spent._asdict()
    assert type(listed["time_in_stage"]["days"]) is float
    # Rounded to two places: no float the list's encoding would have to search for.
    assert listed["time_in_stage"]["days"] == 0 or abs(listed["time_in_stage"]["days"]) >= 0.01


def test_admins_and_recruiters_run_the_same_statements_as_compiled(
    client, connection, admin, recruiter
):
    """Roles that see alike share each hot statement object: a second object compiling
    alike would have each of its results re-keyed to its own columns, a seventh of a
    list request's CPU (`visibility_of`). Each reader's requests come after the other's."""
    application = ApplicationFactory()
    paths = (
        f"/api/v1/applications?requisition_id={application.requisition_id}",
        f"/api/v1/applications/{application.id}",
        f"/api/v1/applications/{application.id}/assessment",
    )
    rekeyed = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if context.compiled is not None and context.compiled.statement is not (
            context.invoked_statement
        ):
            rekeyed.append(statement)

    for first, second in ((admin, recruiter), (recruiter, admin)):
        for path in paths:
            assert client.get(path, headers=auth(first)).status_code == 200
            event.listen(connection, "after_cursor_execute", record)
            try:
                assert client.get(path, headers=auth(second)).status_code == 200
            finally:
                event.remove(connection, "after_cursor_execute", record)
    assert rekeyed == []
