from flask.views import MethodView

from service.http.auth import current_user
from service.http.blueprint import Blueprint
from service.http.me.schemas import MeSchema

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
