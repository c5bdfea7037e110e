"""The notifications page: my unread notifications with their links, marked read by a
form (CSRF-protected); nobody else's."""

from service.persistence.notifications import Notification
from tests.factories import UserFactory
from tests.web.conftest import post_form, signed_in_page_session


def notify(session, user, title, path="/interviews"):
    row = Notification(user_id=user.id, type="interview.scheduled", title=title, path=path)
    session.add(row)
    session.flush()
    return row


def test_the_page_lists_my_unread_notifications_only(web_client, session):
    me, other = UserFactory(role="interviewer"), UserFactory(role="interviewer")
    notify(session, me, "Interview scheduled: Technical screen")
    notify(session, other, "Someone else's news")
    signed_in_page_session(web_client, me)
    page = web_client.get("/notifications").get_data(as_text=True)
    assert "Interview scheduled: Technical screen" in page
    assert 'href="/interviews"' in page
    assert "Someone else" not in page
    assert 'href="/notifications"' in page  # in every role's navigation


def test_marking_read_empties_the_list_and_touches_only_mine(web_client, session):
    me, other = UserFactory(role="recruiter"), UserFactory(role="recruiter")
    mine, theirs = notify(session, me, "Mine"), notify(session, other, "Theirs")
    signed_in_page_session(web_client, me)
    response = post_form(
        web_client, "/notifications/read", {"id": [mine.id, theirs.id]}, "/notifications"
    )
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Notification, mine.id).read_at is not None
    assert session.get(Notification, theirs.id).read_at is None
    assert "No unread notifications." in web_client.get("/notifications").get_data(as_text=True)


def test_marking_read_without_the_csrf_token_is_refused(web_client, session):
    me = UserFactory(role="recruiter")
    mine = notify(session, me, "Mine")
    signed_in_page_session(web_client, me)
    response = web_client.post("/notifications/read", data={"id": mine.id})
    assert response.status_code == 400
    session.expire_all()
    assert session.get(Notification, mine.id).read_at is None


def test_signed_out_the_page_sends_you_to_sign_in(web_client):
    response = web_client.get("/notifications")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
