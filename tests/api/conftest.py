import pytest

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
