import pytest

from banking.testing import make_branch, make_user
from banking.users.roles import Role


@pytest.fixture
def branch(db):
    return make_branch()


@pytest.fixture
def teller(branch):
    return make_user(Role.TELLER, branch=branch)


@pytest.fixture
def supervisor(branch):
    return make_user(Role.SUPERVISOR, branch=branch, approval_limit=10_00_000_00)
