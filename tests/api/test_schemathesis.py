"""Schemathesis against the app: every operation, every check, a few examples each.

Generated requests (valid and invalid) are sent through the WSGI app with an
admin's token on a seeded database, inside the test's rolled-back transaction;
each response must be no server error and conform to the document (status
code, content type, headers and schema). Bounded: a few examples per operation,
no shrinking, so the whole run takes seconds.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.config import SchemathesisConfig

from tests.api.conftest import auth
from tests.factories import ApplicationFactory, UserFactory

MAX_EXAMPLES = 3
# A schema-valid request may still break a business rule (an unknown cursor, a stage
# the template does not allow): this API answers those 422, as its document says. An
# invalid one may first be too large for the body limit (413, the tests' 64 KiB).
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "3xx", 401, 403, 404, 409, 412, 422, 428, 429]
            },
            "negative_data_rejection": {
                "expected-statuses": [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]
            },
        }
    }
)

schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def admin_headers(session):
    return auth(UserFactory(role="admin"))


@pytest.fixture
def api_schema(app, client, session):
    """The served document, with a little data for the generated ids to find."""
    ApplicationFactory.create_batch(2)
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=CONFIG)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_keeps_its_contract(case, app, admin_headers):
    # The auth checks send bad tokens on purpose; they must not throttle the next case.
    app.extensions["auth_throttle"].reset()
    case.call_and_validate(headers=admin_headers)
