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
        """List requisitions you may see"""
        return requisitions.list_requisitions(db.session, current_user(), **args)

    @blp.arguments(RequisitionCreateSchema)
    @blp.response(201, RequisitionSchema)
    def post(self, data):
        """Open a requisition (recruiter, admin)"""
        requisition = requisitions.create_requisition(db.session, current_user(), data)
        return requisition, {"Location": url_for(".Requisition", requisition_id=requisition.id)}


@blp.route("/<int:requisition_id>")
class Requisition(MethodView):
    @blp.response(200, RequisitionSchema)
    def get(self, requisition_id):
        """Get one requisition"""
        return access.get_requisition(db.session, current_user(), requisition_id)

    @blp.arguments(RequisitionPatchSchema)
    @blp.response(200, RequisitionSchema)
    def patch(self, changes, requisition_id):
        """Change title, team, hiring manager, headcount or status"""
        return requisitions.update_requisition(db.session, current_user(), requisition_id, changes)
