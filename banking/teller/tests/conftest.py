import pytest

from .factories import funded_branch, supervisor_for, teller_with_open_till


@pytest.fixture
def branch(db):
    return funded_branch()


@pytest.fixture
def supervisor(branch):
    return supervisor_for(branch)


@pytest.fixture
def teller(branch, supervisor):
    return teller_with_open_till(branch, supervisor)
