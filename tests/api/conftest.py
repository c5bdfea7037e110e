import pytest
from sqlalchemy import event

from tests.factories import UserFactory


def auth(user) -> dict[str, str]:
    return {"Authorization": f"Bearer {user.token}"}


@pytest.fixture
def admin(session):
    return UserFactory(role="admin")


@pytest.fixture
def recruiter(session):
    return UserFactory(role="recruiter")


@pytest.fixture
def hiring_manager(session):
    return UserFactory(role="hiring_manager")


@pytest.fixture
def interviewer(session):
    return UserFactory(role="interviewer")


class StatementCounter:
    """Counts the SQL statements sent on a connection while it is active."""

    def __init__(self, connection):
        self.connection, self.count = connection, 0

    def _count(self, *args, **kwargs):
        self.count += 1

    def __enter__(self):
        event.listen(self.connection, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        event.remove(self.connection, "before_cursor_execute", self._count)


@pytest.fixture
def statements(connection):
    """`with statements() as counted: ...; counted.count`: statements run on the test's connection."""
    return lambda: StatementCounter(connection)
