from flask import url_for
from flask.views import MethodView

from service.extensions import db, packet_storage
from service.http.auth import current_user
from service.http.blueprint import Blueprint
from service.http.candidates.schemas import (
    CandidateExportSchema,
    CandidatePageSchema,
    CandidatePatchSchema,
    CandidateQueryArgsSchema,
    CandidateSchema,
    CandidateWriteSchema,
    ErasureResultSchema,
    ErasureSchema,
)
from service.usecases import access, candidates, data_protection

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


@blp.route("/<int:candidate_id>/export")
class Export(MethodView):
    @blp.doc(operationId="export_candidate")
    @blp.response(200, CandidateExportSchema)
    def get(self, candidate_id):
        """Everything held about a candidate, as one document (admin)

        Their profile, every application with its stage history, interviews, submitted
        scorecards with their evidence, decisions, packets and their own
        self-identification answers, and the audit trail of who changed their data.
        Reading it is audited and follows the blind rule (403 while you owe a scorecard).
        """
        return data_protection.export_candidate(db.session, current_user(), candidate_id)


@blp.route("/<int:candidate_id>/erasure")
class Erasure(MethodView):
    @blp.doc(operationId="erase_candidate")
    @blp.arguments(ErasureSchema)
    @blp.response(200, ErasureResultSchema)
    def post(self, data, candidate_id):
        """Erase a candidate's personal data, keeping anonymous records (admin)

        Final and idempotent: the profile is emptied, their name and contact details are
        redacted from everything written about them, packet files are deleted, their
        self-identification answers are kept only as counts; stage history, scores and
        decisions stay, pseudonymous. 409 while an application is active.
        """
        return data_protection.erase_candidate(
            db.session, current_user(), candidate_id, data["reason"], packet_storage()
        )
