from flask import url_for
from flask.views import MethodView

from service.extensions import db
from service.http.auth import current_user
from service.http.blueprint import Blueprint
from service.http.requisitions.schemas import (
    RequisitionCreateSchema,
    RequisitionPageSchema,
    RequisitionPatchSchema,
    RequisitionQueryArgsSchema,
    RequisitionSchema,
)
from service.usecases import access, requisitions

blp = Blueprint(
    "requisitions",
    __name__,
    url_prefix="/api/v1/requisitions",
    description="Open roles, each pinned to an interview-template version.",
)


@blp.route("")
class Requisitions(MethodView):
    @blp.arguments(RequisitionQueryArgsSchema, location="query")
    @blp.response(200, RequisitionPageSchema)
    def get(self, args):
        """List requisitions you may see

        Filtered by the query; `next_cursor` continues the list.
        """
        return requisitions.list_requisitions(db.session, current_user(), **args)

    @blp.returns_location("get_requisition", "requisition_id")
    @blp.arguments(RequisitionCreateSchema)
    @blp.response(201, RequisitionSchema)
    def post(self, data):
        """Open a requisition (recruiter, admin)

        It is pinned to the newest version of the interview template it names.
        """
        requisition = requisitions.create_requisition(db.session, current_user(), data)
        return requisition, {"Location": url_for(".Requisition", requisition_id=requisition.id)}


@blp.route("/<int:requisition_id>")
class Requisition(MethodView):
    @blp.response(200, RequisitionSchema)
    def get(self, requisition_id):
        """Get one requisition

        A requisition you may not see is a 404.
        """
        return access.get_requisition(db.session, current_user(), requisition_id)

    @blp.arguments(RequisitionPatchSchema)
    @blp.response(200, RequisitionSchema)
    def patch(self, changes, requisition_id):
        """Change title, team, hiring manager, headcount or status

        Only the fields sent change; a status change follows the requisition's rules (422).
        """
        return requisitions.update_requisition(db.session, current_user(), requisition_id, changes)
