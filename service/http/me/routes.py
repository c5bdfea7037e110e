from flask.views import MethodView

from service.extensions import db
from service.http.auth import current_user
from service.http.blueprint import Blueprint
from service.http.me.schemas import MeSchema, TaskListSchema, TaskQueryArgsSchema
from service.usecases import tasks

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
