from flask.views import MethodView

from service.extensions import db
from service.http.audit.schemas import AuditPageSchema, AuditQueryArgsSchema
from service.http.auth import current_user
from service.http.blueprint import Blueprint
from service.usecases.audit import list_audit_events

blp = Blueprint(
    "audit",
    __name__,
    url_prefix="/api/v1/audit",
    description="The append-only record of every write.",
)


@blp.route("")
class Audit(MethodView):
    @blp.doc(operationId="list_audit_events")
    @blp.arguments(AuditQueryArgsSchema, location="query")
    @blp.response(200, AuditPageSchema)
    def get(self, args):
        """List audit events, oldest first (admins and recruiters)

        Filtered by entity and actor; `next_cursor` continues the list.
        """
        return list_audit_events(db.session, current_user(), **args)
