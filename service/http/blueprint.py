"""flask-smorest's Blueprint, with unknown query parameters refused like unknown body fields.

webargs ignores unknown query parameters by default, so `?stauts=open` would
quietly return every row; here each schema's own `unknown = RAISE` decides.
"""

import flask_smorest
from webargs.flaskparser import FlaskParser


class StrictParser(FlaskParser):
    DEFAULT_UNKNOWN_BY_LOCATION: dict = {}


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = StrictParser()
