from flask.views import MethodView

from service.extensions import db
from service.http.auth import current_user
from service.http.blueprint import Blueprint
from service.http.me.schemas import (
    MarkedReadSchema,
    MarkReadSchema,
    MeSchema,
    NotificationPageSchema,
    NotificationQueryArgsSchema,
    PreferencesSchema,
    TaskListSchema,
    TaskQueryArgsSchema,
)
from service.usecases import notifications, tasks

blp = Blueprint("me", __name__, url_prefix="/api/v1/me", description="The authenticated user.")


@blp.route("")
class Me(MethodView):
    @blp.doc(operationId="get_me")
    @blp.response(200, MeSchema)
    def get(self):
        """Who the token belongs to

        Your id, name, email and role.
        """
        return current_user()


@blp.route("/tasks")
class Tasks(MethodView):
    @blp.arguments(TaskQueryArgsSchema, location="query")
    @blp.response(200, TaskListSchema)
    def get(self, args):
        """What you owe now: scorecards, decisions, applications past their target; overdue first

        Scorecards for interviews that have started, decisions on your requisitions
        whose loop is complete, and (recruiters, admins) active applications past their
        stage's target. `totals` counts each kind beyond `limit` too.
        """
        return tasks.my_tasks(db.session, current_user(), **args)


@blp.route("/notifications")
class Notifications(MethodView):
    @blp.arguments(NotificationQueryArgsSchema, location="query")
    @blp.response(200, NotificationPageSchema)
    def get(self, args):
        """Your notifications, oldest first

        Interview invitations and changes, owed-scorecard reminders, decisions waiting,
        packets ready, disabled webhooks (admins); each links to the page it is about.
        """
        return notifications.list_notifications(db.session, current_user(), **args)


@blp.route("/notifications/read")
class ReadNotifications(MethodView):
    @blp.doc(operationId="mark_notifications_read")
    @blp.arguments(MarkReadSchema)
    @blp.response(200, MarkedReadSchema)
    def post(self, data):
        """Mark the listed notifications of yours read

        Ids that are not yours, or already read, change nothing.
        """
        marked = notifications.mark_read(db.session, current_user(), data["notification_ids"])
        return {"marked": marked}


@blp.route("/notification-preferences")
class Preferences(MethodView):
    @blp.response(200, PreferencesSchema)
    def get(self):
        """Your email preference

        `immediately` (the default), `daily_digest` or `off`.
        """
        return notifications.get_preferences(db.session, current_user())

    @blp.arguments(PreferencesSchema)
    @blp.response(200, PreferencesSchema)
    def put(self, data):
        """Set your email preference: immediately, daily_digest or off

        Reminders of scorecards you owe cannot be turned off: with `off` they come in
        the daily digest. Audited.
        """
        return notifications.set_preferences(db.session, current_user(), data["email"])
