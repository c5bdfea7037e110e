"""flask-smorest's Blueprint, with unknown query parameters refused like unknown body fields.

webargs ignores unknown query parameters by default, so `?stauts=open` would
quietly return every row; here each schema's own `unknown = RAISE` decides, and
a view that declares no query arguments refuses any query parameter.
"""

import json
import sys
from typing import Any

import flask_smorest
from flask import current_app, request
from flask.views import MethodView
from webargs import core
from webargs.flaskparser import FlaskParser, abort


class StrictParser(FlaskParser):
    DEFAULT_UNKNOWN_BY_LOCATION: dict = {}

    def _raw_load_json(self, req: Any) -> Any:
        """The JSON body; a body Python cannot turn into objects is a 400, not a 500."""
        try:
            return super()._raw_load_json(req)
        except RecursionError:
            abort(400, messages={"json": ["Invalid JSON body: nested too deeply."]})
        except ValueError as error:
            if isinstance(error, json.JSONDecodeError | UnicodeDecodeError):
                raise  # webargs answers these itself
            # The only other ValueError of json.loads: Python refuses to convert an
            # integer of more digits than its limit (a denial-of-service guard).
            abort(
                400,
                messages={
                    "json": [
                        "Invalid JSON body: a number has more than "
                        f"{sys.get_int_max_str_digits()} digits."
                    ]
                },
            )
        return core.missing  # unreachable: abort raises


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = StrictParser()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.before_request(_refuse_query_parameters_nobody_reads)


def _refuse_query_parameters_nobody_reads() -> None:
    """`?path=../..` on a view without query arguments is a 422, like an unknown field."""
    if not request.args or request.method == "OPTIONS" or request.url_rule is None:
        return
    if _takes_query_arguments(request.endpoint, request.method):
        return
    message = "Unknown field. This endpoint takes no query parameters."
    abort(422, messages={"query": {name: [message] for name in request.args}})


def _takes_query_arguments(endpoint: str | None, method: str) -> bool:
    """Whether the view has `@blp.arguments(..., location="query")`, as its OpenAPI doc says."""
    view = current_app.view_functions.get(endpoint or "")
    view_class = getattr(view, "view_class", None)
    if view_class is not None and issubclass(view_class, MethodView):
        name = "get" if method == "HEAD" else method.lower()
        view = getattr(view_class, name, None)
    parameters = getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    return any(parameter.get("in") == "query" for parameter in parameters)
