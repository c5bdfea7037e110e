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
        """List users (admin, recruiter), e.g. the active interviewers to schedule"""
        return users.list_users(db.session, current_user(), **args)

    @blp.arguments(UserCreateSchema)
    @blp.response(201, CreatedUserSchema)
    def post(self, data):
        """Create a user (admin); the response carries their first token, shown once"""
        user, token = users.create_user(db.session, actor=current_user(), **data)
        created = {**UserSchema().dump(user), "token": token}
        return created, {"Location": url_for(".User", user_id=user.id)}


@blp.route("/<int:user_id>")
class User(MethodView):
    @blp.response(200, UserSchema)
    def get(self, user_id):
        """Get one user (admin, recruiter)"""
        return users.get_user(db.session, current_user(), user_id)


@blp.route("/<int:user_id>/deactivate")
class Deactivate(MethodView):
    @blp.response(200, UserSchema)
    def post(self, user_id):
        """Deactivate a user (admin); every token they hold is revoked at once"""
        return users.deactivate_user(db.session, current_user(), user_id)


@blp.route("/<int:user_id>/reactivate")
class Reactivate(MethodView):
    @blp.response(200, UserSchema)
    def post(self, user_id):
        """Reactivate a user (admin); their old tokens stay revoked, so issue a new one"""
        return users.reactivate_user(db.session, current_user(), user_id)


@blp.route("/<int:user_id>/tokens")
class Tokens(MethodView):
    @blp.response(200, TokenListSchema)
    def get(self, user_id):
        """A user's tokens (admin): ids and dates, never the token or its hash"""
        return {"items": users.list_tokens(db.session, current_user(), user_id)}

    @blp.response(201, IssuedTokenSchema)
    def post(self, user_id):
        """Issue a new token (admin), shown once; the user's other tokens keep working"""
        return users.issue_token(db.session, current_user(), user_id)

    @blp.response(200, RevokedTokensSchema)
    def delete(self, user_id):
        """Revoke every token of a user (admin)"""
        return {"revoked_token_ids": users.revoke_tokens(db.session, current_user(), user_id)}


@blp.route("/<int:user_id>/tokens/<int:token_id>")
class Token(MethodView):
    @blp.response(200, RevokedTokensSchema)
    def delete(self, user_id, token_id):
        """Revoke one token of a user (admin)"""
        revoked = users.revoke_tokens(db.session, current_user(), user_id, token_id)
        return {"revoked_token_ids": revoked}
