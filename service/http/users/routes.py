from flask import url_for
from flask.views import MethodView

from service.extensions import db
from service.http.auth import current_user
from service.http.blueprint import Blueprint
from service.http.users.schemas import (
    CreatedUserSchema,
    IssuedTokenSchema,
    RevokedTokensSchema,
    TokenListSchema,
    UserCreateSchema,
    UserPageSchema,
    UserQueryArgsSchema,
    UserSchema,
)
from service.usecases import users

blp = Blueprint(
    "users",
    __name__,
    url_prefix="/api/v1/users",
    description="The user directory (admins, recruiters) and user management (admins).",
)


@blp.route("")
class Users(MethodView):
    @blp.arguments(UserQueryArgsSchema, location="query")
    @blp.response(200, UserPageSchema)
    def get(self, args):
        """List users (admin, recruiter), e.g. the active interviewers to schedule

        Filter by `role`, `active` and `q` (part of the name or email, any case).
        Interviewers and hiring managers get 403: emails are personal data.
        """
        return users.list_users(db.session, current_user(), **args)

    @blp.arguments(UserCreateSchema)
    @blp.response(201, CreatedUserSchema)
    def post(self, data):
        """Create a user (admin); the response carries their first token, shown once

        Only the token's SHA-256 hash is stored. The creation is audited (`user.created`).
        """
        user, token = users.create_user(db.session, actor=current_user(), **data)
        created = {**UserSchema().dump(user), "token": token}
        return created, {"Location": url_for(".User", user_id=user.id)}


@blp.route("/<int:user_id>")
class User(MethodView):
    @blp.response(200, UserSchema)
    def get(self, user_id):
        """Get one user (admin, recruiter)

        Id, name, email, role and whether the account is active.
        """
        return users.get_user(db.session, current_user(), user_id)


@blp.route("/<int:user_id>/deactivate")
class Deactivate(MethodView):
    @blp.response(200, UserSchema)
    @blp.doc(operationId="deactivate_user")
    def post(self, user_id):
        """Deactivate a user (admin); every token they hold is revoked at once

        Deactivating yourself is a 409. Audited (`user.deactivated`, with the revoked token ids).
        """
        return users.deactivate_user(db.session, current_user(), user_id)


@blp.route("/<int:user_id>/reactivate")
class Reactivate(MethodView):
    @blp.response(200, UserSchema)
    @blp.doc(operationId="reactivate_user")
    def post(self, user_id):
        """Reactivate a user (admin); their old tokens stay revoked, so issue a new one

        Audited (`user.reactivated`).
        """
        return users.reactivate_user(db.session, current_user(), user_id)


@blp.route("/<int:user_id>/tokens")
class Tokens(MethodView):
    @blp.response(200, TokenListSchema)
    def get(self, user_id):
        """A user's tokens (admin): ids and dates, never the token or its hash

        Revoked tokens are listed with their `revoked_at`.
        """
        return {"items": users.list_tokens(db.session, current_user(), user_id)}

    @blp.response(201, IssuedTokenSchema)
    @blp.doc(operationId="issue_token")
    def post(self, user_id):
        """Issue a new token (admin), shown once; the user's other tokens keep working

        A deactivated user gets none (409). Audited (`user.token_issued`).
        """
        return users.issue_token(db.session, current_user(), user_id)

    @blp.response(200, RevokedTokensSchema)
    @blp.doc(operationId="revoke_tokens")
    def delete(self, user_id):
        """Revoke every token of a user (admin)

        Answers the ids revoked. Audited (`user.tokens_revoked`) when any was.
        """
        return {"revoked_token_ids": users.revoke_tokens(db.session, current_user(), user_id)}


@blp.route("/<int:user_id>/tokens/<int:token_id>")
class Token(MethodView):
    @blp.response(200, RevokedTokensSchema)
    @blp.doc(operationId="revoke_token")
    def delete(self, user_id, token_id):
        """Revoke one token of a user (admin)

        Another user's token id is a 404. Audited (`user.tokens_revoked`).
        """
        revoked = users.revoke_tokens(db.session, current_user(), user_id, token_id)
        return {"revoked_token_ids": revoked}
