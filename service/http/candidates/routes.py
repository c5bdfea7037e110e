from flask import url_for
from flask.views import MethodView

from service.extensions import db
from service.http.auth import current_user
from service.http.blueprint import Blueprint
from service.http.candidates.schemas import (
    CandidatePageSchema,
    CandidatePatchSchema,
    CandidateQueryArgsSchema,
    CandidateSchema,
    CandidateWriteSchema,
)
from service.usecases import access, candidates

blp = Blueprint(
    "candidates",
    __name__,
    url_prefix="/api/v1/candidates",
    description="People who apply; email is unique.",
)


@blp.route("")
class Candidates(MethodView):
    @blp.arguments(CandidateQueryArgsSchema, location="query")
    @blp.response(200, CandidatePageSchema)
    def get(self, args):
        """List or search candidates you may see

        `q` matches name or email; `next_cursor` continues the list.
        """
        return candidates.list_candidates(db.session, current_user(), **args)

    @blp.returns_location("get_candidate", "candidate_id")
    @blp.arguments(CandidateWriteSchema)
    @blp.response(201, CandidateSchema)
    def post(self, data):
        """Add a candidate (recruiter, admin); 409 when the email is taken

        The email is unique: a taken one is a 409 naming `existing_candidate_id`.
        """
        candidate = candidates.create_candidate(db.session, current_user(), data)
        return candidate, {"Location": url_for(".Candidate", candidate_id=candidate.id)}


@blp.route("/<int:candidate_id>")
class Candidate(MethodView):
    @blp.response(200, CandidateSchema)
    def get(self, candidate_id):
        """Get one candidate

        A candidate you may not see is a 404.
        """
        return access.get_candidate(db.session, current_user(), candidate_id)

    @blp.arguments(CandidatePatchSchema)
    @blp.response(200, CandidateSchema)
    def patch(self, changes, candidate_id):
        """Update a candidate's details

        Only the fields sent change; a taken email is a 409.
        """
        return candidates.update_candidate(db.session, current_user(), candidate_id, changes)
