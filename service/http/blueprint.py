"""flask-smorest's Blueprint, with unknown query parameters refused like unknown body fields,
and decorators that state a view's HTTP contract for the OpenAPI document.

webargs ignores unknown query parameters by default, so `?stauts=open` would
quietly return every row; here each schema's own `unknown = RAISE` decides, and
a view that declares no query arguments refuses any query parameter.

The contract decorators (`versioned`, `returns_location`, `links_to`,
`serves_file`, `offers_csv`) only record facts under `x-contract`; `service.http.openapi` turns
them into headers, responses and links, so the document and the view say the
same thing in one line.
"""

import json
import sys
from typing import Any

import flask_smorest
from flask import current_app, g, request
from flask.views import MethodView
from webargs import core
from webargs.flaskparser import FlaskParser, abort


class StrictParser(FlaskParser):
    DEFAULT_UNKNOWN_BY_LOCATION: dict[str, str | None] = {}

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

    def load_querystring(self, req: Any, schema: Any) -> Any:
        """The query string as a plain dict of what webargs' `MultiDictProxy` would hand the
        schema: each key's first value, or every value for a field that takes several (a
        List). marshmallow looks up every field of the schema, and through the proxy each
        absent one raised and caught a KeyError in werkzeug's MultiDict: more than half of
        the list's argument parsing."""
        multiple = self._makeproxy(req.args, schema).multiple_keys
        args = req.args
        return {key: args.getlist(key) if key in multiple else args[key] for key in args}


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = StrictParser()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.before_request(_refuse_query_parameters_nobody_reads)

    def arguments(self, schema: Any, **kwargs: Any) -> Any:
        """flask-smorest's `arguments`, given one schema instance for every request:
        given a class, webargs builds an instance per request (a tenth of a list
        request's CPU). A schema keeps no state between loads."""
        return super().arguments(schema() if isinstance(schema, type) else schema, **kwargs)

    @staticmethod
    def reads_only(view: Any) -> Any:
        """The view only reads (a write it needs takes its own transaction,
        `persistence.base.transaction`): its request gets an autocommit session."""
        view._reads_only = True
        return view

    @staticmethod
    def versioned(*, if_match: tuple[int, ...] = ()) -> Any:
        """The success response carries an `ETag`; a GET honours `If-None-Match` (304).

        `if_match`: the statuses a stale or missing `If-Match` is answered with
        (409 or 412, and 428 where a change needs one), for a write that honours it.
        """
        return _contract(etag=True, if_match=list(if_match))

    @staticmethod
    def returns_location(operation_id: str, parameter: str) -> Any:
        """The success response's `Location` names the resource `operation_id` reads,
        whose `parameter` is the `id` of the response body (also an OpenAPI link)."""
        return _contract(location={"operationId": operation_id, "parameter": parameter})

    @staticmethod
    def links_to(operation_id: str, **parameters: str) -> Any:
        """An OpenAPI link from the success response to `operation_id`, its parameters
        given as runtime expressions (`$response.body#/id`, `$request.path.x_id`)."""
        return _contract(links={operation_id: parameters})

    @staticmethod
    def serves_file(media_type: str) -> Any:
        """The success response is a download of `media_type` (with Content-Disposition)."""
        return _contract(file=media_type)

    @staticmethod
    def offers_csv(filename: str) -> Any:
        """The success response is also served as `text/csv` (`Accept: text/csv`)."""
        return _contract(csv=filename)


def _contract(**facts: Any) -> Any:
    return flask_smorest.Blueprint.doc(**{"x-contract": facts})


def _refuse_query_parameters_nobody_reads() -> None:
    """`?path=../..` on a view without query arguments is a 422, like an unknown field."""
    if not request.args or request.method == "OPTIONS" or request.url_rule is None:
        return
    if _takes_query_arguments(request.endpoint, request.method):
        return
    message = "Unknown field. This endpoint takes no query parameters."
    abort(422, messages={"query": {name: [message] for name in request.args}})


def note_reads_only() -> None:
    """Before authentication opens the session: whether this request's view only reads
    (`Blueprint.reads_only`), so `db.session` may run it on an autocommit connection."""
    reads = request.method in ("GET", "HEAD") and request.url_rule is not None
    g.reads_only = reads and getattr(_view(request.endpoint, request.method), "_reads_only", False)


def _view(endpoint: str | None, method: str) -> Any:
    """The function serving `method` at `endpoint` (a MethodView's method, or the view),
    looked up once per app: two hooks ask it on every request."""
    views = current_app.extensions.setdefault("views_by_endpoint", {})
    key = (endpoint, method)
    if key not in views:
        views[key] = _find_view(endpoint, method)
    return views[key]


def _find_view(endpoint: str | None, method: str) -> Any:
    view = current_app.view_functions.get(endpoint or "")
    view_class = getattr(view, "view_class", None)
    if view_class is not None and issubclass(view_class, MethodView):
        name = "get" if method == "HEAD" else method.lower()
        view = getattr(view_class, name, None)
    return view


def _takes_query_arguments(endpoint: str | None, method: str) -> bool:
    """Whether the view has `@blp.arguments(..., location="query")`, as its OpenAPI doc says."""
    view = _view(endpoint, method)
    parameters = getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    return any(parameter.get("in") == "query" for parameter in parameters)
